// De-aggregates Kinesis records with AWS's aws-kinesis-agg, an
// implementation Quill did not write: reads one JSON record per line
// ({"partitionKey", "data": base64, "sequenceNumber"}) and prints, per
// line, a JSON array of the user records it holds ({"partitionKey", "data"}).
const agg = require('aws-kinesis-agg')
const lines = require('fs').readFileSync(0, 'utf8').split('\n').filter((l) => l.length > 0)
for (const line of lines) {
  const record = JSON.parse(line)
  agg.deaggregateSync(record, true, (err, userRecords) => {
    if (err) {
      console.error(String(err))
      process.exit(1)
    }
    console.log(JSON.stringify(userRecords.map((u) => ({ partitionKey: u.partitionKey, data: u.data }))))
  })
}
