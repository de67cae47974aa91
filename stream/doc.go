// Package stream delivers a ledger's journal as QLDB's
// StreamJournalToKinesis did: a CONTROL CREATED record, then for each
// block a BLOCK_SUMMARY and one REVISION_DETAILS per revision, in journal
// order, and a CONTROL COMPLETED record when the stream reaches its end
// time. Each record is Ion binary and carries the stream's ARN.
//
// # Delivery
//
// Run follows the journal's tail (journal.Strand.Follow) and hands records
// to a Sink in batches; the position (the next block) is reported through
// Options.Progress only after the sink acknowledged the records, so that a
// caller that persists it resumes after a restart or a crash from there:
// delivery is at least once, some records may come again, none is skipped.
//
// # Aggregation
//
// With aggregation on, records are packed into Kinesis records in the KPL
// aggregated format (magic F3 89 9A C2, an AggregatedRecord protobuf, its
// MD5), at most 1 MiB each, as the Kinesis Producer Library does; KCL,
// Lambda and aws-kinesis-agg unpack them.
//
// # Partition keys
//
// REVISION_DETAILS records are keyed by document id (a document's revisions
// stay in order on one shard), BLOCK_SUMMARY records by transaction id, and
// CONTROL records by stream id.
package stream
