// Runs statements through AWS's QLDB driver for Node.js (amazon-qldb-driver-nodejs,
// with the AWS SDK for JavaScript v3, ion-js and ion-hash-js: another Ion library, another
// Ion Hash, another SDK than the Go tests use) against a server, and prints one JSON line
// per step: {"step": NAME, "rows": [Ion text, ...]} or {"step": NAME, "error": CODE}.
//
// usage: node qldbdriver.js ENDPOINT LEDGER
// NODE_PATH must hold amazon-qldb-driver-nodejs and its peers (scripts/services.sh).
'use strict';
const { QldbDriver, RetryConfig } = require('amazon-qldb-driver-nodejs');
const ion = require('ion-js');

const [endpoint, ledger] = process.argv.slice(2);
const driver = new QldbDriver(ledger, {
  endpoint, region: 'us-east-1',
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
}, {}, 10, new RetryConfig(2));

const out = (step, value) => process.stdout.write(JSON.stringify(Object.assign({ step }, value)) + '\n');

async function run(step, statement, ...params) {
  try {
    const rows = await driver.executeLambda(async (txn) => (await txn.execute(statement, ...params)).getResultList());
    out(step, { rows: rows.map((r) => ion.dumpText(r)) });
  } catch (e) {
    out(step, { error: e.code || e.name || String(e), message: e.message });
  }
}

async function main() {
  await run('create', 'CREATE TABLE Person');
  await run('index', 'CREATE INDEX ON Person (GovId)');
  await run('insert', 'INSERT INTO Person ?', [
    { FirstName: 'Raul', GovId: 'LEWISR261LL', Born: new Date('1963-08-19T00:00:00Z'), Fine: ion.load('90.25') },
    { FirstName: 'Brent', GovId: 'LOGANB486CG', Born: new Date('1967-07-03T00:00:00Z'), Fine: ion.load('1.50') },
  ]);
  await run('lookup', 'SELECT p.FirstName, p.Fine FROM Person AS p WHERE p.GovId = ?', 'LEWISR261LL');
  await run('update', 'UPDATE Person AS p SET p.Fine = ? WHERE p.GovId = ?', ion.load('0.00'), 'LEWISR261LL');
  await run('count', 'SELECT COUNT(*) AS n FROM Person');
  await run('history', 'SELECT VALUE h.metadata.version FROM history(Person) AS h WHERE h.data.GovId = ?', 'LEWISR261LL');
  await run('bad', 'SELECT * FORM Person');
  // 300 rows read back as a stream: the driver fetches the pages.
  try {
    for (let i = 0; i < 300; i += 40) {
      const docs = [];
      for (let j = i; j < Math.min(i + 40, 300); j++) docs.push({ n: j });
      await driver.executeLambda(async (txn) => txn.execute('INSERT INTO Person ?', docs));
    }
    const seen = await driver.executeLambda(async (txn) => {
      const result = await txn.executeAndStreamResults('SELECT VALUE n FROM Person WHERE n IS NOT MISSING');
      let count = 0;
      for await (const v of result) { if (v !== undefined) count++; }
      return count;
    });
    out('paged', { rows: [String(seen)] });
  } catch (e) {
    out('paged', { error: e.code || e.name || String(e), message: e.message });
  }
  out('tables', { rows: (await driver.getTableNames()).map((t) => JSON.stringify(t)) });
  driver.close();
}

main().catch((e) => { console.error(e); process.exit(1); });
