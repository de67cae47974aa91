package stream

import (
	"fmt"

	"github.com/quilldb/quill/ion"
)

// Rebuilder joins stream records back into whole blocks, as QLDB's stream
// samples do: a BLOCK_SUMMARY's revisionSummaries are matched by hash with
// the REVISION_DETAILS of the same block. Records may come in any order and
// more than once. A block is returned once, when its summary and all its
// revisions have arrived; it can then be checked with verify.Block and
// verify.ChainVerifier.
type Rebuilder struct {
	summaries map[uint64]ion.Value
	revisions map[uint64]map[string]ion.Value // block -> revision hash (as bytes) -> revision
	done      map[uint64]bool
}

// Add takes one record (Ion binary, not aggregated) and returns the blocks
// it completed, with their revisions, as QLDB's block shape.
func (rb *Rebuilder) Add(data []byte) ([]ion.Value, error) {
	if rb.summaries == nil {
		rb.summaries, rb.revisions, rb.done = map[uint64]ion.Value{}, map[uint64]map[string]ion.Value{}, map[uint64]bool{}
	}
	rec, err := ParseRecord(data)
	if err != nil {
		return nil, err
	}
	if rb.done[rec.Block] && rec.Type != Control {
		return nil, nil // a duplicate of a rebuilt block's record
	}
	switch rec.Type {
	case BlockSummary:
		rb.summaries[rec.Block] = rec.Payload
	case RevisionDetails:
		rev, _ := rec.Payload.Get("revision")
		h, _ := rev.Get("hash")
		if rb.revisions[rec.Block] == nil {
			rb.revisions[rec.Block] = map[string]ion.Value{}
		}
		rb.revisions[rec.Block][string(h.Bytes())] = rev
	default:
		return nil, nil
	}
	b, ok, err := rb.complete(rec.Block)
	if err != nil || !ok {
		return nil, err
	}
	return []ion.Value{b}, nil
}

// Pending is the number of blocks still waiting for records.
func (rb *Rebuilder) Pending() int { return len(rb.summaries) }

func (rb *Rebuilder) complete(seq uint64) (ion.Value, bool, error) {
	summary, ok := rb.summaries[seq]
	if !ok {
		return ion.Value{}, false, nil
	}
	list, _ := summary.Get("revisionSummaries")
	revs := make([]ion.Value, 0, list.Len())
	for _, s := range list.Elems() {
		h, _ := s.Get("hash")
		rev, ok := rb.revisions[seq][string(h.Bytes())]
		if !ok {
			return ion.Value{}, false, nil
		}
		revs = append(revs, rev)
	}
	fields := make([]ion.Field, 0, len(summary.Fields()))
	for _, f := range summary.Fields() {
		if name, _ := f.Name.Text(); name != "revisionSummaries" {
			fields = append(fields, f)
		}
	}
	if len(revs) > 0 {
		fields = append(fields, ion.F("revisions", ion.List(revs...)))
	}
	delete(rb.summaries, seq)
	delete(rb.revisions, seq)
	rb.done[seq] = true
	if len(revs) != list.Len() {
		return ion.Value{}, false, fmt.Errorf("stream: block %d: revisions do not match the summary", seq)
	}
	return ion.Struct(fields...), true, nil
}
