// Package quill is an embeddable verifiable ledger: Amazon QLDB's data
// model, transactions, journal and verification, in a Go program.
//
// A [DB] holds any number of ledgers in one Pebble store, with QLDB's
// control-plane lifecycle: [DB.CreateLedger], [DB.DescribeLedger],
// [DB.ListLedgers], [DB.UpdateLedger], [DB.DeleteLedger] (refused while
// deletion protection is on), tags, ARNs, limits, and errors that map one
// to one to QLDB's exceptions ([InvalidParameterError],
// [ResourceNotFoundError], ...).
//
// A [Ledger] holds tables of documents (Ion structs). [Ledger.Execute] runs
// a function in a transaction with QLDB's optimistic concurrency: a
// transaction that read something another transaction changed before it
// committed fails with [ErrOCCConflict], writes nothing, and is retried.
// Each committed transaction that writes is one block of the ledger's
// journal, with every statement recorded in its transactionInfo.
//
// Verification is QLDB's: [Ledger.GetDigest], [Ledger.GetBlock] and
// [Ledger.GetRevision] return Ion text and proofs exactly as QLDB does, and
// [VerifyRevision] and [VerifyBlock] check them the way the official AWS
// samples do.
package quill
