// Starts kinesalite on loopback only (its command line listens on every
// interface) for the stream tests: node kinesalite.js PORT.
const kinesalite = require('kinesalite')({ createStreamMs: 50, deleteStreamMs: 50, updateStreamMs: 50, shardLimit: 100 })

// kinesalite rethrows the "aborted" error of a request whose client went
// away (a test that SIGKILLs a process in the middle of a PutRecords) and
// would exit; such a request is simply lost, as with a real service.
process.on('uncaughtException', (err) => {
  if (err && (err.code === 'ECONNRESET' || /aborted/.test(String(err.message)))) return
  console.error(err)
  process.exit(1)
})

kinesalite.listen(+process.argv[2], '127.0.0.1', () => console.log('ready'))
process.on('SIGTERM', () => kinesalite.close(() => process.exit(0)))
