// Package journal is Quill's append-only journal on Pebble: strands of
// QLDB blocks chained by SHA-256, the Merkle tree over their hashes, group
// commit, digests, proofs and a full re-verification (Check).
//
// # Strands and blocks
//
// A [Journal] is one Pebble store holding any number of strands; each ledger
// has one strand today. A strand is identified by a 22-character QLDB id and
// holds blocks with sequence numbers 0, 1, 2... without gaps. Every block is
// exactly a QLDB block: blockAddress, transactionId, blockTimestamp
// (milliseconds, Z), blockHash, entriesHash, previousBlockHash,
// entriesHashList, transactionInfo, redactionInfo when present, revisions.
//
// Quill's entriesHashList holds, in this order: the header hash
// H({blockAddress, transactionId, blockTimestamp}), the Merkle root of the
// block's revision hashes (if it has revisions), H(transactionInfo) (if
// present), H(redactionInfo) (if present). QLDB's blocks carry two opaque
// internal entries whose pre-images were never published; the official
// verifiers check only that the known parts are members and the root, so
// Quill's own header entry takes their place and covers the fields QLDB's
// published hashes leave out. Block 0's previousBlockHash is 32 zero bytes.
//
// # Committing
//
// A caller hands [Strand.Commit] a [Transaction]: its revisions, its
// transactionInfo, opaque key/value writes of the layers above (indexes,
// views) and an optional validation callback for optimistic concurrency.
// The caller's goroutine encodes and hashes everything that does not depend
// on the block's position. One sequencer per strand then takes every
// transaction queued when it starts (group commit, no timers), runs each
// validation against the store plus the transactions before it in the group,
// assigns sequence numbers, folds the hash chain, appends the Merkle leaves,
// writes all blocks, nodes, index entries and the callers' writes in ONE
// Pebble batch and syncs once. A conflict fails only its own transaction.
// The sequencer is pipelined: it applies the next group while earlier
// groups wait for their sync, and acknowledges groups in order once synced
// (sequencer.go). A transaction may also name marks it changes
// (Transaction.Marks): in-memory stamps that readers record and
// validations compare, for conflicts with what a reader observed as a
// whole, a table scanned say, without a key written per change (marks.go).
//
// # Storage
//
// Keys start with the byte 0x01 (the caller's own writes may use any other
// first byte), then the strand id, then a kind:
//
//	0x01 strand 'm'                       strand state: size, last block hash, last timestamp
//	0x01 strand 'b' seq(8)                a block (see below)
//	0x01 strand 'n' level(1) index(8)     a perfect Merkle node of level 4 or more (older versions stored all levels)
//	0x01 strand 't' millis(8) seq(8)      time index of older versions, no longer written or read
//
// Everything but the blocks can be derived from them; the Merkle nodes of
// level 4 and up are kept for proofs, the ones below (seven of every eight)
// are computed from the 16 blocks under them and kept in memory.
// Timestamps never decrease along a strand, so a time is found by a binary
// search over the blocks' headers (FirstAtOrAfter).
//
// A block is stored as a fixed header (timestamp, transaction id, blockHash,
// entriesHash, previousBlockHash, entriesHashList) followed by the Ion
// binary of transactionInfo, redactionInfo and the revisions without their
// blockAddress (importing the shared symbol table quill.journal.block), the
// revisions' documents after it as the callers gave them (split data: the
// layers above may refer to them, DataRef), the whole zstd-compressed when
// that saves at least a tenth. Reads rebuild the exact QLDB block; a
// Merkle leaf is the blockHash of the record's header. Records of 256 bytes
// and more live in Pebble's blob files (value separation): written once by
// a flush, moved by compactions as a handle.
//
// # Reads, proofs and corruption
//
// Blocks are read by sequence number and by time range, revisions by block
// and document id; [Strand.Follow] delivers each block once it is durable.
// Digests and proofs are computed from stored nodes in O(log n) reads (the
// nodes below level 4 from the blocks under them, or the node cache).
// Every block read is re-verified (its revision hashes, entries and block
// hash); stored bytes that fail verification return an error that matches
// [ErrCorrupt], distinct from I/O errors. [Strand.Check] re-verifies a whole
// strand and reports the first corruption with its address.
//
// # Failures
//
// Pebble treats a failed WAL write or sync as fatal. The journal catches it
// (and stops writing the moment a log operation fails: walwatch.go),
// closes and reopens the store, and then looks up each transaction of the
// groups not yet acknowledged: one whose block is in the reopened store is acknowledged, the
// others fail with [ErrCommitFailed] and wrote nothing. A crash at any point
// leaves every acknowledged commit in the journal and nothing half-written.
package journal
