// Package export writes a ledger's journal to object stores as QLDB's
// ExportJournalToS3 did: a started manifest, the blocks of a time range in
// data objects grouped by UTC hour, and a completed manifest listing them.
//
// # Layout
//
// For an export with id E of strand S under prefix P (a non-empty prefix
// that does not end in "/" gets one, as in QLDB's documentation example):
//
//	P E.started.manifest                    written first: the request
//	P YYYY/MM/DD/HH/S.first-last.ion        blocks first..last, in order
//	P E.S.completed.manifest                written last: {keys:[...]}
//
// Data objects hold every block of the range exactly once, in order, with
// contiguous sequence ranges across the list of keys. A new object starts
// at each UTC hour of the blocks' timestamps and when the next block would
// take the object past Options.ObjectSize bytes. JSON Lines objects end in
// .json; Ion text and Ion binary ones in .ion. docs/formats.md records how
// Quill settles each point QLDB left open.
//
// # Resuming
//
// RunJournal reports its progress (the keys written and the next block)
// after each object through Progress, so that the caller can persist it.
// Given that state again it continues with the next object and writes the
// same objects it would have written without the interruption: objects are
// cut by the blocks alone. An object being written when the process died
// is written again whole.
//
// # Sinks
//
// A Sink stores objects. DirSink writes files under a directory; the
// export/s3 package writes to S3 or any S3-compatible store.
package export
