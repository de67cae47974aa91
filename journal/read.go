package journal

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/quilldb/quill/merkle"
)

// checkSeq fails with ErrBlockNotFound if seq is past the durable tip.
func (s *Strand) checkSeq(seq uint64) (strandState, error) {
	st, _, _ := s.published()
	if seq >= st.size {
		if st.size == 0 {
			return st, fmt.Errorf("%w: strand %s has no blocks", ErrBlockNotFound, s.id)
		}
		return st, fmt.Errorf("%w: sequence number %d is past the tip %d of strand %s", ErrBlockNotFound, seq, st.size-1, s.id)
	}
	return st, nil
}

// Block reads and verifies the block with sequence number seq.
func (s *Strand) Block(ctx context.Context, seq uint64) (*Block, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if _, err := s.checkSeq(seq); err != nil {
		return nil, err
	}
	db, _, release, err := s.j.store()
	if err != nil {
		return nil, err
	}
	defer release()
	return s.readBlock(db, seq)
}

func (s *Strand) readBlock(r getter, seq uint64) (*Block, error) {
	raw, ok, err := getCopy(r, blockKey(s.id, seq))
	if err != nil {
		return nil, fmt.Errorf("journal: read block %s/%d: %w", s.id, seq, err)
	}
	if !ok {
		return nil, s.missing(seq, "block below the tip is missing")
	}
	return decodeBlock(s.id, seq, raw)
}

// missing is the error for a block that is not in the store: the strand
// was deleted (a read racing DeleteStrand, say through a committed view
// read before), or the journal is corrupt.
func (s *Strand) missing(seq uint64, problem string) error {
	select {
	case <-s.gone:
		return fmt.Errorf("%w: %s was deleted", ErrStrandNotFound, s.id)
	default:
		return &CorruptionError{Strand: s.id, SequenceNo: int64(seq), Problem: problem}
	}
}

// ReadData returns a copy of the document that ref (from
// Transaction.Complete) locates in the stored block at seq. The block may
// be past the published size: the layers above can see a group's writes
// before its sync ends (sequencer.go).
func (s *Strand) ReadData(seq uint64, ref DataRef) (data []byte, err error) {
	db, _, release, err := s.j.store()
	if err != nil {
		return nil, err
	}
	defer release()
	err = s.withRecord(db, seq, "the block a document refers to is missing", func(v []byte) error {
		end := uint64(ref.Offset) + uint64(ref.Length)
		if ref.IsZero() || len(v) < recordHeaderSize || v[1]&flagSplitData == 0 || v[1]&flagCompressed != 0 || end > uint64(len(v)) {
			return &CorruptionError{Strand: s.id, SequenceNo: int64(seq),
				Problem: fmt.Sprintf("no document at %d+%d of the stored block", ref.Offset, ref.Length)}
		}
		data = bytes.Clone(v[ref.Offset:end])
		return nil
	})
	return data, err
}

// Revision reads the revision of a document in the block at seq.
func (s *Strand) Revision(ctx context.Context, seq uint64, documentID string) (Revision, error) {
	b, err := s.Block(ctx, seq)
	if err != nil {
		return Revision{}, err
	}
	rev, _, ok := b.Revision(documentID)
	if !ok {
		return Revision{}, fmt.Errorf("%w: document %q in block %s/%d", ErrDocumentNotFound, documentID, s.id, seq)
	}
	return rev, nil
}

// Blocks calls fn with each block from sequence number from up to, but not
// including, to (clamped to the durable tip), in order. Blocks are read in
// batches of about Options.ReadBatchSize bytes and decoded and verified
// ahead of fn on a worker per core; no lock is held while fn runs, so fn may
// block as long as it needs without holding up commits, Close or recovery
// (Blocks then returns ErrClosed, or ErrStrandNotFound if the strand was
// deleted meanwhile).
func (s *Strand) Blocks(ctx context.Context, from, to uint64, fn func(*Block) error) error {
	st, _, _ := s.published()
	to = min(to, st.size)
	if from >= to {
		return ctx.Err()
	}
	r := s.j.newRangeReader(blockKey(s.id, from), blockKey(s.id, to), false)
	defer r.close()
	var batch readBatch
	next := from
	for {
		more, err := r.fill(ctx, &batch)
		if err != nil {
			return err
		}
		if !more {
			break
		}
		blocks, err := s.decodeBatch(&batch, next)
		for _, b := range blocks {
			if err := fn(b); err != nil {
				return err
			}
			next = b.SequenceNo + 1
		}
		if err != nil {
			return err
		}
	}
	if next < to {
		return s.missingBlock(next)
	}
	return nil
}

// decodeBatch decodes and verifies the blocks of a batch in parallel. It
// returns the blocks in order up to the first failure, and that failure:
// a block out of sequence is missing (corruption, or a deleted strand).
func (s *Strand) decodeBatch(b *readBatch, next uint64) ([]*Block, error) {
	n := len(b.keys)
	blocks := make([]*Block, n)
	errs := make([]error, n)
	for i, k := range b.keys {
		if seq := trailingUint64(k); seq != next+uint64(i) {
			n = i
			errs = append(errs[:i], s.missingBlock(next+uint64(i)))
			break
		}
	}
	workers := min(runtime.GOMAXPROCS(0), n)
	decode := func(first, step int) {
		for i := first; i < n; i += step {
			blocks[i], errs[i] = decodeBlock(s.id, next+uint64(i), b.vals[i])
		}
	}
	if workers <= 1 { // a follower's usual batch of one block
		decode(0, 1)
	} else {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() { decode(w, workers) })
		}
		wg.Wait()
	}
	for i, err := range errs {
		if err != nil {
			return blocks[:i], err
		}
	}
	return blocks, nil
}

// missingBlock is the error for a block below the tip that is not in the
// store: the strand was deleted, or the store is corrupt.
func (s *Strand) missingBlock(seq uint64) error {
	select {
	case <-s.gone:
		return fmt.Errorf("%w: %s was deleted", ErrStrandNotFound, s.id)
	default:
		return &CorruptionError{Strand: s.id, SequenceNo: int64(seq), Problem: "block below the tip is missing"}
	}
}

// SequenceRange returns the sequence numbers of the first and last durable
// blocks whose blockTimestamp is in [start, end); ok is false if there are
// none. Timestamps never decrease along a strand, so the blocks in between
// are exactly those of the time range.
func (s *Strand) SequenceRange(ctx context.Context, start, end time.Time) (first, last uint64, ok bool, err error) {
	if !start.Before(end) {
		return 0, 0, false, nil
	}
	st, _, _ := s.published()
	db, _, release, err := s.j.store()
	if err != nil {
		return 0, 0, false, err
	}
	defer release()
	if first, err = s.firstAtOrAfter(ctx, db, st.size, start.UnixMilli()); err != nil {
		return 0, 0, false, err
	}
	afterEnd, err := s.firstAtOrAfter(ctx, db, st.size, end.UnixMilli())
	if err != nil || afterEnd <= first {
		return 0, 0, false, err
	}
	return first, afterEnd - 1, true, nil
}

// firstAtOrAfter returns the first of the size blocks whose timestamp is
// at or after millis, or size if none is. Timestamps never decrease along
// a strand, so a binary search over the blocks' headers finds it: the
// blocks are the time index.
func (s *Strand) firstAtOrAfter(ctx context.Context, r getter, size uint64, millis int64) (uint64, error) {
	var searchErr error
	lo, hi := uint64(0), size
	for lo < hi && searchErr == nil {
		mid := lo + (hi-lo)/2
		m, err := s.blockMillis(r, mid)
		if err == nil {
			err = ctx.Err()
		}
		switch {
		case err != nil:
			searchErr = err
		case m < millis:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return lo, searchErr
}

// leaf returns the Merkle leaf of the block at seq: its block hash, from
// its record's header. Leaves are not stored as nodes (stores written
// before 2026-12 have them too; Check verifies those).
func (s *Strand) leaf(r getter, seq uint64) (merkle.Hash, error) {
	h, err := s.recordHeader(r, seq)
	return merkle.Hash(h[recordBlockHashAt : recordBlockHashAt+merkle.Size]), err
}

// blockMillis reads the blockTimestamp of the block at seq from its
// record's header.
func (s *Strand) blockMillis(r getter, seq uint64) (int64, error) {
	h, err := s.recordHeader(r, seq)
	return int64(binary.BigEndian.Uint64(h[2:10])), err
}

// recordHeader returns the fixed header of the block record at seq.
func (s *Strand) recordHeader(r getter, seq uint64) (h [recordHeaderSize]byte, err error) {
	err = s.withRecord(r, seq, "block below the tip is missing", func(v []byte) error {
		if len(v) < recordHeaderSize {
			return &CorruptionError{Strand: s.id, SequenceNo: int64(seq), Problem: "undecodable record", Err: errShortRecord}
		}
		copy(h[:], v)
		return nil
	})
	return h, err
}

// withRecord calls fn with the stored record of the block at seq, valid
// only while fn runs; a record that is not there is corruption (missing
// says which).
func (s *Strand) withRecord(r getter, seq uint64, missing string, fn func(v []byte) error) error {
	v, closer, err := r.Get(blockKey(s.id, seq))
	if errors.Is(err, pebble.ErrNotFound) {
		return s.missing(seq, missing)
	}
	if err != nil {
		return fmt.Errorf("journal: read block %s/%d: %w", s.id, seq, err)
	}
	defer func() { _ = closer.Close() }()
	return fn(v)
}

// Follow calls fn with every block from sequence number from on, in order,
// each once and once it is durable, until ctx is done (ctx's error), fn
// fails (its error), the journal is closed (ErrClosed) or the strand is
// deleted (ErrStrandNotFound). It is the tail that journal streams read.
// While no block is new it waits without spinning; no lock is held while fn
// runs, so a slow fn holds up nothing but its own follower.
func (s *Strand) Follow(ctx context.Context, from uint64, fn func(*Block) error) error {
	for {
		st, _, changed := s.published()
		if from < st.size {
			err := s.Blocks(ctx, from, st.size, func(b *Block) error {
				from = b.SequenceNo + 1
				return fn(b)
			})
			if err != nil {
				return err
			}
			continue
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.j.done:
			return ErrClosed
		case <-s.gone:
			return fmt.Errorf("%w: %s was deleted", ErrStrandNotFound, s.id)
		}
	}
}

// FollowFrom is Follow from the first block whose blockTimestamp is at or
// after start, including blocks committed later.
func (s *Strand) FollowFrom(ctx context.Context, start time.Time, fn func(*Block) error) error {
	from, ok, err := s.FirstAtOrAfter(ctx, start)
	if err != nil {
		return err
	}
	if !ok {
		// No durable block is that late yet; blocks from `from` on may still
		// be earlier than start (start can be in the future).
		inner := fn
		fn = func(b *Block) error {
			if b.Timestamp.Before(start) {
				return nil
			}
			return inner(b)
		}
	}
	return s.Follow(ctx, from, fn)
}

// FirstAtOrAfter returns the sequence number of the first durable block
// whose blockTimestamp is at or after t. If there is none yet, ok is false
// and seq is the number of durable blocks when it looked: every block before
// seq is earlier than t.
func (s *Strand) FirstAtOrAfter(ctx context.Context, t time.Time) (seq uint64, ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return 0, false, err
	}
	st, _, _ := s.published()
	db, _, release, err := s.j.store()
	if err != nil {
		return 0, false, err
	}
	defer release()
	seq, err = s.firstAtOrAfter(ctx, db, st.size, t.UnixMilli())
	return seq, err == nil && seq < st.size, err
}

// Digest is the Merkle root of all block hashes of a strand up to a tip.
type Digest struct {
	Strand     string
	Hash       merkle.Hash
	SequenceNo uint64 // the tip: the last block the digest covers
}

// TipAddress returns the digest's tip as QLDB's DigestTipAddress Ion text.
func (d Digest) TipAddress() string { return blockAddress(d.Strand, d.SequenceNo).String() }

// Digest returns the digest of the strand at its durable tip.
func (s *Strand) Digest(ctx context.Context) (Digest, error) {
	if err := ctx.Err(); err != nil {
		return Digest{}, err
	}
	st, root, _ := s.published()
	if st.size == 0 {
		return Digest{}, fmt.Errorf("%w: strand %s has no blocks", ErrBlockNotFound, s.id)
	}
	return Digest{Strand: s.id, Hash: root, SequenceNo: st.size - 1}, nil
}

// DigestAt returns the digest of the strand at an earlier tip, from stored
// nodes.
func (s *Strand) DigestAt(ctx context.Context, tip uint64) (Digest, error) {
	if _, err := s.checkSeq(tip); err != nil {
		return Digest{}, err
	}
	var d Digest
	err := s.withNodes(ctx, func(get merkle.NodeGetter) error {
		root, err := merkle.RootAt(tip+1, get)
		d = Digest{Strand: s.id, Hash: root, SequenceNo: tip}
		return err
	})
	return d, err
}

// withNodes runs fn with a NodeGetter over the store. Nodes never change
// once written, so the reads need no snapshot.
func (s *Strand) withNodes(ctx context.Context, fn func(merkle.NodeGetter) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	db, _, release, err := s.j.store()
	if err != nil {
		return err
	}
	defer release()
	durable := s.Size()
	stored := s.nodeGetter(db, func(nodes []cachedNode) {
		// Low nodes computed from durable blocks go to the cache: the next
		// proof near them needs no read.
		s.cache.addComputed(slices.DeleteFunc(nodes, func(n cachedNode) bool {
			return (n.id.Index+1)<<n.id.Level > durable
		}))
	})
	return fn(func(id merkle.NodeID) (merkle.Hash, error) {
		if h, ok := s.cache.get(id); ok {
			return h, nil
		}
		return stored(id)
	})
}

func (s *Strand) badNode(id merkle.NodeID) error {
	return &CorruptionError{Strand: s.id, SequenceNo: -1,
		Problem: fmt.Sprintf("Merkle node %s is missing or not 32 bytes", id)}
}

// nodeGetter reads nodes from r: a leaf from its block, a node below
// storedNodeLevel from the leaves it covers, any other node from its key.
// Stored nodes are point reads: bloom filters let a Get skip every table
// that lacks the key, where an iterator's seek positions itself in all of
// them (measured: a seek cost ~35 us, a Get ~5 us, on a store just after
// 10^5 commits). The leaves of a low node are read with one iterator over
// the 2^storedNodeLevel blocks around them, kept for the next low node:
// a proof's low siblings all lie in those blocks. derived, if not nil, is
// given every low node computed from those blocks.
func (s *Strand) nodeGetter(r pebble.Reader, derived func([]cachedNode)) merkle.NodeGetter {
	var chunk leafChunk
	return func(id merkle.NodeID) (merkle.Hash, error) {
		switch {
		case id.Level == 0:
			return s.leaf(r, id.Index)
		case id.Level < storedNodeLevel:
			return s.lowNode(r, &chunk, id, derived)
		}
		v, closer, err := r.Get(nodeKey(s.id, id))
		if errors.Is(err, pebble.ErrNotFound) {
			return merkle.Hash{}, s.badNode(id)
		}
		if err != nil {
			return merkle.Hash{}, err
		}
		defer func() { _ = closer.Close() }()
		if len(v) != merkle.Size {
			return merkle.Hash{}, s.badNode(id)
		}
		return merkle.Hash(v), nil
	}
}

// WaitSettled returns once every block whose blockTimestamp is before t is
// durable and published: when the last published block is at or after t, or
// no commit is in flight (a commit queued later gets a timestamp no earlier
// than the time it was queued). An export of a time range that ends at t
// calls it before it looks the range up, so that a block committed just
// before t is not missed while it is being synced.
func (s *Strand) WaitSettled(ctx context.Context, t time.Time) error {
	poll := time.NewTicker(10 * time.Millisecond) // a failed group publishes nothing
	defer poll.Stop()
	for {
		st, _, changed := s.published()
		if st.size > 0 && st.lastMillis >= t.UnixMilli() {
			return nil
		}
		s.qmu.Lock()
		idle := !s.leading && len(s.queue) == 0
		s.qmu.Unlock()
		if idle {
			return nil
		}
		select {
		case <-changed:
		case <-poll.C:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.j.done:
			return ErrClosed
		}
	}
}

// storedNodeLevel is the lowest level of the tree whose nodes are stored
// (one key per 2^storedNodeLevel blocks, and fewer above). The levels
// between the leaves and it, seven nodes of every eight, are computed from
// the leaves (the blocks' hashes) when needed: writing each as a key cost
// every commit a memtable insert, log bytes and compaction work (issue 15).
// Stores written before 2026-12 have them stored too; Check verifies them.
const storedNodeLevel = 4

// leafChunk is one aligned run of 2^storedNodeLevel blocks: how many of
// its leaves are in the store and the perfect nodes below storedNodeLevel
// over them, each computed once.
type leafChunk struct {
	first  uint64                             // the first block of the run
	leaves int                                // its blocks present, from first on
	levels [storedNodeLevel - 1][]merkle.Hash // levels[l-1][i] is node (l, first>>l + i)
	ok     bool
}

// lowNode returns a node below storedNodeLevel, computed from the leaves
// of its run of blocks.
func (s *Strand) lowNode(r pebble.Reader, chunk *leafChunk, id merkle.NodeID, derived func([]cachedNode)) (merkle.Hash, error) {
	first := (id.Index << id.Level) &^ (1<<storedNodeLevel - 1)
	if !chunk.ok || chunk.first != first {
		leaves, err := s.readLeaves(r, first, first+1<<storedNodeLevel)
		if err != nil {
			return merkle.Hash{}, err
		}
		*chunk = leafChunk{first: first, leaves: len(leaves), levels: lowNodes(leaves), ok: true}
		if derived != nil {
			derived(chunk.nodes())
		}
	}
	if nodes, i := chunk.levels[id.Level-1], id.Index-first>>id.Level; i < uint64(len(nodes)) {
		return nodes[i], nil
	}
	return merkle.Hash{}, &CorruptionError{Strand: s.id, SequenceNo: int64(first) + int64(chunk.leaves),
		Problem: fmt.Sprintf("block below the tip is missing (a leaf of Merkle node %s)", id)}
}

// lowNodes returns, level by level, the perfect nodes below
// storedNodeLevel over leaves (an aligned run's, from its start).
func lowNodes(leaves []merkle.Hash) (levels [storedNodeLevel - 1][]merkle.Hash) {
	level := leaves
	for l := range levels {
		next := make([]merkle.Hash, len(level)/2)
		for i := range next {
			next[i] = merkle.Dot(level[2*i], level[2*i+1])
		}
		levels[l], level = next, next
	}
	return levels
}

// nodes lists the chunk's low nodes with their ids.
func (c *leafChunk) nodes() []cachedNode {
	var out []cachedNode
	for l, level := range c.levels {
		for i, h := range level {
			id := merkle.NodeID{Level: uint8(l + 1), Index: c.first>>(l+1) + uint64(i)}
			out = append(out, cachedNode{id, h})
		}
	}
	return out
}

// readLeaves returns the hashes of the consecutive blocks from lo, up to
// hi or the first block missing.
func (s *Strand) readLeaves(r pebble.Reader, lo, hi uint64) ([]merkle.Hash, error) {
	out := make([]merkle.Hash, 0, hi-lo)
	err := scan(context.Background(), r, blockKey(s.id, lo), blockKey(s.id, hi), func(k, v []byte) error {
		if trailingUint64(k) != lo+uint64(len(out)) {
			return errStopScan
		}
		if len(v) < recordHeaderSize {
			return &CorruptionError{Strand: s.id, SequenceNo: int64(trailingUint64(k)), Problem: "undecodable record", Err: errShortRecord}
		}
		out = append(out, merkle.Hash(v[recordBlockHashAt:recordBlockHashAt+merkle.Size]))
		return nil
	})
	if errors.Is(err, errStopScan) {
		err = nil
	}
	return out, err
}
