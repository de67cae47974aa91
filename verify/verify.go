// Package verify checks QLDB journal data the way the official AWS samples
// do (algorithms A to D of the spec): revision hashes, the internal
// consistency of a block, the hash chain of an export or stream, and
// revision and block proofs against a digest.
//
// It works on decoded Ion values, so it serves both Quill itself (the
// journal's Check) and clients that verify GetBlock/GetRevision responses,
// S3 exports or Kinesis records from Quill or from QLDB. Every failure is an
// *[Error]; when a hash does not match, errors.As also finds the
// *merkle.RootMismatchError with the expected and computed values.
//
// Two rules the spec leaves open are fixed here and by Quill's journal:
//
//   - A deleted document's revision has metadata but neither data nor
//     dataHash; its hash is dot(H(metadata), empty) = H(metadata).
//   - System revisions carry only a hash; they count in the revisions root
//     but cannot be recomputed.
package verify

import (
	"cmp"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"

	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/merkle"
)

// Error reports journal data that fails verification, with where and which
// check.
type Error struct {
	StrandID   string // "" if unknown
	SequenceNo int64  // -1 if unknown
	DocumentID string // set for revision failures
	Check      string // the check that failed, e.g. "entriesHash" or "revision hash"
	Err        error  // *merkle.RootMismatchError, or what is malformed
}

func (e *Error) Error() string {
	where := "block"
	if e.SequenceNo >= 0 {
		where = fmt.Sprintf("block %s/%d", e.StrandID, e.SequenceNo)
	}
	if e.DocumentID != "" {
		where += " revision of document " + e.DocumentID
	}
	return fmt.Sprintf("verify: %s: %s: %v", where, e.Check, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// errMalformed is wrapped by Errors about missing or mistyped fields.
var errMalformed = errors.New("malformed")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errMalformed, fmt.Sprintf(format, args...))
}

func mismatch(what string, expected, computed []byte) error {
	return &merkle.RootMismatchError{What: what, Expected: expected, Computed: computed}
}

// blob returns a blob field's bytes; ok is false if the field is absent.
func blob(v ion.Value, name string) (b []byte, ok bool, err error) {
	f, ok := v.Get(name)
	if !ok {
		return nil, false, nil
	}
	if f.Type() != ion.BlobType || f.IsNull() {
		return nil, true, malformed("%s is %s, not a blob", name, f.Type())
	}
	return f.Bytes(), true, nil
}

func requiredBlob(v ion.Value, name string) ([]byte, error) {
	b, ok, err := blob(v, name)
	if err == nil && !ok {
		err = malformed("%s is missing", name)
	}
	return b, err
}

func ionHash(v ion.Value) []byte {
	h := ion.Hash(v)
	return h[:]
}

// RevisionHash recomputes a revision's hash: dot(H(metadata), H(data)), or
// dot(H(metadata), dataHash) for a redacted revision, or H(metadata) for a
// deleted document's revision. ok is false for a system revision (a hash
// alone), which cannot be recomputed.
func RevisionHash(rev ion.Value) (h []byte, ok bool, err error) {
	meta, hasMeta := rev.Get("metadata")
	if !hasMeta {
		return nil, false, nil
	}
	dataHash, redacted, err := blob(rev, "dataHash")
	if err != nil {
		return nil, false, err
	}
	if data, hasData := rev.Get("data"); hasData {
		if redacted {
			return nil, false, malformed("revision has both data and dataHash")
		}
		dataHash = ionHash(data)
	}
	h, err = merkle.DotBytes(ionHash(meta), dataHash)
	return h, err == nil, err
}

// locate reads a revision's or block's blockAddress, for error reports.
func locate(v ion.Value) (strand string, seq int64) {
	addr, ok := v.Get("blockAddress")
	if !ok {
		return "", -1
	}
	s, _ := addr.Get("strandId")
	n, ok := addr.Get("sequenceNo")
	if !ok {
		return s.Text(), -1
	}
	i, _ := n.Int64()
	return s.Text(), i
}

func documentID(rev ion.Value) string {
	meta, _ := rev.Get("metadata")
	id, _ := meta.Get("id")
	return id.Text()
}

// Revision checks that a revision's hash field is the hash of its content
// (the Java sample's check before it folds a proof). System revisions pass.
func Revision(rev ion.Value) error {
	strand, seq := locate(rev)
	fail := func(check string, err error) error {
		return &Error{StrandID: strand, SequenceNo: seq, DocumentID: documentID(rev), Check: check, Err: err}
	}
	stored, err := requiredBlob(rev, "hash")
	if err != nil {
		return fail("revision", err)
	}
	computed, ok, err := RevisionHash(rev)
	if err != nil {
		return fail("revision", err)
	}
	if ok && string(computed) != string(stored) {
		return fail("revision hash", mismatch("revision hash", stored, computed))
	}
	return nil
}

// Block checks a block's internal consistency (algorithm C): every present
// part of the block is in entriesHashList, every revision's hash is right,
// entriesHash is the Merkle root of entriesHashList, and blockHash is
// dot(entriesHash, previousBlockHash). It also accepts the BLOCK_SUMMARY
// records of journal streams, whose revisionSummaries stand for revisions.
func Block(block ion.Value) error {
	strand, seq := locate(block)
	fail := func(check string, err error) error {
		return &Error{StrandID: strand, SequenceNo: seq, Check: check, Err: err}
	}
	if block.Type() != ion.StructType || block.IsNull() {
		return fail("block", malformed("a block is a struct, got %s", block.Type()))
	}
	list, ok := block.Get("entriesHashList")
	if !ok || list.Type() != ion.ListType || list.IsNull() {
		return fail("block", malformed("entriesHashList is missing or not a list"))
	}
	entries := make([][]byte, 0, list.Len())
	for i, e := range list.Elems() {
		if e.Type() != ion.BlobType || e.IsNull() {
			return fail("block", malformed("entriesHashList[%d] is not a blob", i))
		}
		entries = append(entries, e.Bytes())
	}
	contains := func(h []byte) bool {
		return slices.ContainsFunc(entries, func(e []byte) bool { return string(e) == string(h) })
	}
	for _, part := range []string{"transactionInfo", "redactionInfo"} {
		if v, ok := block.Get(part); ok && !contains(ionHash(v)) {
			return fail(part, malformed("H(%s) is not in entriesHashList", part))
		}
	}
	if err := checkRevisions(block, contains); err != nil {
		var verr *Error
		if errors.As(err, &verr) {
			return err
		}
		return fail("revisions", err)
	}
	entriesHash, err := requiredBlob(block, "entriesHash")
	if err != nil {
		return fail("block", err)
	}
	root, err := merkle.RootBytes(entries)
	if err != nil {
		return fail("entriesHashList", err)
	}
	if string(root) != string(entriesHash) {
		return fail("entriesHash", mismatch("entriesHash", entriesHash, root))
	}
	prev, err := requiredBlob(block, "previousBlockHash")
	if err != nil {
		return fail("block", err)
	}
	blockHash, err := requiredBlob(block, "blockHash")
	if err != nil {
		return fail("block", err)
	}
	computed, err := merkle.DotBytes(entriesHash, prev)
	if err != nil {
		return fail("blockHash", err)
	}
	if string(computed) != string(blockHash) {
		return fail("blockHash", mismatch("blockHash", blockHash, computed))
	}
	return nil
}

// checkRevisions verifies each revision and that the Merkle root of their
// hashes is one of the block's entries.
func checkRevisions(block ion.Value, contains func([]byte) bool) error {
	revs, isBlock := block.Get("revisions")
	if !isBlock {
		var ok bool
		if revs, ok = block.Get("revisionSummaries"); !ok {
			return nil
		}
	}
	if revs.Type() != ion.ListType || revs.IsNull() {
		return malformed("revisions is not a list")
	}
	hashes := make([][]byte, 0, revs.Len())
	for i, rev := range revs.Elems() {
		h, err := requiredBlob(rev, "hash")
		if err != nil {
			return fmt.Errorf("revision %d: %w", i, err)
		}
		if isBlock {
			if err := Revision(rev); err != nil {
				return err
			}
		}
		hashes = append(hashes, h)
	}
	root, err := merkle.RootBytes(hashes)
	if err != nil {
		return err
	}
	if !contains(root) {
		return malformed("the revisions root %s is not in entriesHashList", base64.StdEncoding.EncodeToString(root))
	}
	return nil
}

// Chain checks the hash chain of a run of blocks, as a journal export or
// stream consumer does (algorithm D): blocks are ordered by sequence number,
// each passes Block, they are contiguous on one strand, and each block's
// previousBlockHash is the blockHash before it, with
// dot(entriesHash, previous blockHash) = blockHash.
func Chain(blocks []ion.Value) error {
	type located struct {
		v   ion.Value
		seq int64
	}
	sorted := make([]located, len(blocks))
	for i, b := range blocks {
		_, seq := locate(b)
		if seq < 0 {
			return &Error{SequenceNo: -1, Check: "chain", Err: malformed("block %d has no blockAddress.sequenceNo", i)}
		}
		sorted[i] = located{v: b, seq: seq}
	}
	slices.SortFunc(sorted, func(a, b located) int { return cmp.Compare(a.seq, b.seq) })
	var c ChainVerifier
	for _, b := range sorted {
		if err := c.Add(b.v); err != nil {
			return err
		}
	}
	return nil
}

// ChainVerifier checks a chain of blocks given one at a time in order, so
// that an export of any size is verified in constant memory: each block
// passes Block, follows the one before on the same strand, and links to
// its hash. When the first block is block 0 it also folds the block hashes
// into the journal's digest (Digest).
type ChainVerifier struct {
	strand   string
	next     int64
	prevHash []byte
	count    int
	acc      *merkle.Accumulator // nil unless the chain starts at block 0
}

// Add checks the next block of the chain.
func (c *ChainVerifier) Add(block ion.Value) error {
	strand, seq := locate(block)
	if seq < 0 {
		return &Error{SequenceNo: -1, Check: "chain", Err: malformed("block %d of the chain has no blockAddress.sequenceNo", c.count)}
	}
	if err := Block(block); err != nil {
		return err
	}
	hash, _ := requiredBlob(block, "blockHash")
	if c.count > 0 {
		fail := func(err error) error {
			return &Error{StrandID: strand, SequenceNo: seq, Check: "chain", Err: err}
		}
		if strand != c.strand || seq != c.next {
			return fail(malformed("block %s/%d does not follow %s/%d", strand, seq, c.strand, c.next-1))
		}
		link, _ := requiredBlob(block, "previousBlockHash")
		if string(link) != string(c.prevHash) {
			return fail(mismatch("previousBlockHash", c.prevHash, link))
		}
	} else if seq == 0 {
		c.acc = &merkle.Accumulator{}
	}
	if c.acc != nil {
		if len(hash) != merkle.Size {
			return &Error{StrandID: strand, SequenceNo: seq, Check: "chain", Err: malformed("blockHash is not %d bytes", merkle.Size)}
		}
		c.acc.Append(merkle.Hash(hash), nil)
	}
	c.strand, c.next, c.prevHash = strand, seq+1, hash
	c.count++
	return nil
}

// Blocks returns how many blocks were added.
func (c *ChainVerifier) Blocks() int { return c.count }

// Last returns the strand and sequence number of the last block added;
// seq is -1 before the first.
func (c *ChainVerifier) Last() (strand string, seq int64) { return c.strand, c.next - 1 }

// Digest returns the digest of the journal up to the last block added,
// folded from the block hashes; ok is false unless the chain started at
// block 0 (a digest covers every block from the first).
func (c *ChainVerifier) Digest() (digest merkle.Hash, ok bool) {
	if c.acc == nil {
		return merkle.Hash{}, false
	}
	return c.acc.Root()
}

// ParseProof decodes a proof as QLDB returns it: Ion text (or binary) of a
// list of blobs, ordered from the leaf upward.
func ParseProof(data []byte) ([][]byte, error) {
	v, err := ion.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("verify: proof: %w", err)
	}
	if v.Type() != ion.ListType || v.IsNull() {
		return nil, fmt.Errorf("verify: proof: %w", malformed("a proof is a list of blobs, got %s", v.Type()))
	}
	out := make([][]byte, 0, v.Len())
	for i, e := range v.Elems() {
		if e.Type() != ion.BlobType || e.IsNull() {
			return nil, fmt.Errorf("verify: proof: %w", malformed("element %d is %s, not a blob", i, e.Type()))
		}
		out = append(out, e.Bytes())
	}
	return out, nil
}

// RevisionAgainstDigest is algorithm A: the revision's hash must be right,
// and folding it with the proof must give the digest.
func RevisionAgainstDigest(rev ion.Value, proof [][]byte, digest []byte) error {
	if err := Revision(rev); err != nil {
		return err
	}
	h, _ := requiredBlob(rev, "hash")
	return againstDigest(rev, proof, h, digest)
}

// BlockAgainstDigest is algorithm B: the block must be internally
// consistent, and folding its blockHash with the proof must give the digest.
func BlockAgainstDigest(block ion.Value, proof [][]byte, digest []byte) error {
	if err := Block(block); err != nil {
		return err
	}
	h, _ := requiredBlob(block, "blockHash")
	return againstDigest(block, proof, h, digest)
}

func againstDigest(v ion.Value, proof [][]byte, start, digest []byte) error {
	if err := merkle.VerifyProofBytes(start, proof, digest); err != nil {
		strand, seq := locate(v)
		return &Error{StrandID: strand, SequenceNo: seq, DocumentID: documentID(v), Check: "proof", Err: err}
	}
	return nil
}
