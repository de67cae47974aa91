package journal

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/quilldb/quill/merkle"
)

// strandState is the persisted state of a strand, rewritten by every group.
type strandState struct {
	size       uint64 // number of blocks; the tip is size-1
	last       merkle.Hash
	lastMillis int64
}

func (s *strandState) encode() []byte {
	b := make([]byte, 0, 8+merkle.Size+8)
	b = binary.BigEndian.AppendUint64(b, s.size)
	b = append(b, s.last[:]...)
	return binary.BigEndian.AppendUint64(b, uint64(s.lastMillis))
}

func decodeState(b []byte) (strandState, error) {
	var s strandState
	if len(b) != 8+merkle.Size+8 {
		return s, fmt.Errorf("strand state has %d bytes", len(b))
	}
	s.size = binary.BigEndian.Uint64(b)
	copy(s.last[:], b[8:])
	s.lastMillis = int64(binary.BigEndian.Uint64(b[8+merkle.Size:]))
	return s, nil
}

// Receipt describes a committed transaction.
type Receipt struct {
	Strand        string
	SequenceNo    uint64
	TransactionID string
	BlockHash     merkle.Hash
	Timestamp     time.Time
}

// request is a prepared transaction waiting for the sequencer.
type request struct {
	ctx     context.Context
	p       *prepared
	receipt Receipt
	err     error
	done    chan struct{}
}

// Strand is one chain of blocks. Commit is safe for concurrent use; all
// reads are too.
type Strand struct {
	j  *Journal
	id string

	qmu     sync.Mutex
	queue   []*request
	leading bool
	deleted bool // set by DeleteStrand: no more commits
	// gone is closed by DeleteStrand: followers stop.
	gone chan struct{}

	// Sequencer state: only the leader touches it.
	gen          uint64
	state        strandState
	acc          *merkle.Accumulator
	pendingNodes []cachedNode // cacheable nodes of the group being written
	cacheFrom    uint8        // the lowest level the node cache keeps

	// cache holds the upper tree levels for proofs.
	cache nodeCache

	// Published state: what readers may rely on.
	pmu    sync.Mutex
	pub    strandState
	root   merkle.Hash
	notify chan struct{}
}

func newStrand(j *Journal, id string) *Strand {
	return &Strand{j: j, id: id, notify: make(chan struct{}), gone: make(chan struct{})}
}

// ID returns the strand id.
func (s *Strand) ID() string { return s.id }

// load reads the strand's persisted state and rebuilds its accumulator.
func (s *Strand) load() error {
	db, gen, release, err := s.j.store()
	if err != nil {
		return err
	}
	defer release()
	return s.loadFrom(db, gen)
}

func (s *Strand) loadFrom(db *pebble.DB, gen uint64) error {
	raw, ok, err := getCopy(db, metaKey(s.id))
	if err != nil {
		return fmt.Errorf("journal: strand %s: %w", s.id, err)
	}
	if !ok {
		return fmt.Errorf("%w: %s", ErrStrandNotFound, s.id)
	}
	st, err := decodeState(raw)
	if err != nil {
		return &CorruptionError{Strand: s.id, SequenceNo: -1, Problem: "strand state", Err: err}
	}
	acc, err := merkle.RestoreAccumulator(st.size, s.nodeGetter(db))
	if err != nil {
		return fmt.Errorf("journal: strand %s: %w", s.id, err)
	}
	if err := s.cache.load(db, s.id, st.size, max(0, s.j.opts.NodeCacheSize/merkle.Size)); err != nil {
		return fmt.Errorf("journal: strand %s: %w", s.id, err)
	}
	s.gen, s.state, s.acc = gen, st, acc
	s.publish(st, acc)
	return nil
}

func (s *Strand) publish(st strandState, acc *merkle.Accumulator) {
	root, _ := acc.Root()
	s.pmu.Lock()
	s.pub, s.root = st, root
	close(s.notify)
	s.notify = make(chan struct{})
	s.pmu.Unlock()
}

// published returns the durable state readers may use and a channel closed
// at the next change.
func (s *Strand) published() (strandState, merkle.Hash, <-chan struct{}) {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	return s.pub, s.root, s.notify
}

// Size returns the number of durable blocks (the tip is Size()-1).
func (s *Strand) Size() uint64 {
	st, _, _ := s.published()
	return st.size
}

// Commit appends tx as one block and returns once it is durable (or in the
// write-ahead log, with NoSync). Encoding and hashing happen in the calling
// goroutine; the strand's sequencer orders, validates and writes.
func (s *Strand) Commit(ctx context.Context, tx *Transaction) (Receipt, error) {
	if err := ctx.Err(); err != nil {
		return Receipt{}, err
	}
	p, err := prepare(tx, s.j.opts.Clock(), s.j.opts.CompressionMinSize)
	if err != nil {
		return Receipt{}, err
	}
	req := &request{ctx: ctx, p: p, done: make(chan struct{})}
	s.qmu.Lock()
	if s.deleted {
		s.qmu.Unlock()
		return Receipt{}, fmt.Errorf("%w: %s was deleted", ErrStrandNotFound, s.id)
	}
	s.queue = append(s.queue, req)
	lead := !s.leading
	s.leading = true
	s.qmu.Unlock()
	if lead {
		s.lead()
	}
	<-req.done
	return req.receipt, req.err
}

// stopCommits refuses new commits and waits until the commits already
// queued are written, so that nothing is written after it returns.
func (s *Strand) stopCommits() {
	s.qmu.Lock()
	if !s.deleted {
		close(s.gone)
	}
	s.deleted = true
	for s.leading {
		s.qmu.Unlock()
		time.Sleep(time.Millisecond)
		s.qmu.Lock()
	}
	s.qmu.Unlock()
}

// lead runs groups until the queue is empty.
func (s *Strand) lead() {
	for {
		s.qmu.Lock()
		group := s.queue
		s.queue = nil
		if len(group) == 0 {
			s.leading = false
			s.qmu.Unlock()
			return
		}
		s.qmu.Unlock()
		s.commitGroup(group)
		for _, r := range group {
			close(r.done)
		}
	}
}

func failAll(reqs []*request, err error) {
	for _, r := range reqs {
		r.err = err
	}
}

// commitGroup writes one group of transactions in one batch.
func (s *Strand) commitGroup(group []*request) {
	db, gen, release, err := s.j.store()
	if err != nil {
		failAll(group, err)
		return
	}
	if s.gen != gen {
		// The store was reopened: what is durable is the truth.
		if err := s.loadFrom(db, gen); err != nil {
			release()
			failAll(group, err)
			return
		}
	}
	// Validations read through the batch, to see the earlier transactions
	// of the group; a group without them needs no index.
	var b *pebble.Batch
	if slices.ContainsFunc(group, func(r *request) bool { return r.p.tx.Validate != nil }) {
		b = db.NewIndexedBatch()
	} else {
		b = db.NewBatch()
	}
	defer b.Close()
	st, acc := s.state, s.acc.Clone()
	sync := false
	var accepted []*request
	s.pendingNodes = s.pendingNodes[:0]
	s.cacheFrom = s.cache.lowest()
	for _, r := range group {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			continue
		}
		if v := r.p.tx.Validate; v != nil {
			if err := v(batchReader{b: b}); err != nil {
				r.err = err
				continue
			}
		}
		writes := r.p.tx.Writes
		if c := r.p.tx.Complete; c != nil {
			writes = append(writes[:len(writes):len(writes)], c(st.size, r.p.revHashes)...)
			if i := slices.IndexFunc(writes, func(w Write) bool { return !callerKey(w.Key) }); i >= 0 {
				r.err = invalid("write %d from Complete: keys must be non-empty and must not start with 0x01", i)
				continue
			}
		}
		s.append(b, &st, acc, r, writes)
		sync = sync || !r.p.tx.NoSync
		accepted = append(accepted, r)
	}
	if len(accepted) == 0 {
		release()
		return
	}
	_ = b.Set(metaKey(s.id), st.encode(), nil)
	opts := pebble.NoSync
	if sync {
		opts = pebble.Sync
	}
	err, fatal := apply(db, b, opts)
	release()
	switch {
	case err == nil:
		s.state, s.acc = st, acc
		s.cache.add(s.pendingNodes)
		s.publish(st, acc)
	case fatal:
		s.resolveAfterFailure(gen, accepted, err)
	default:
		failAll(accepted, fmt.Errorf("%w: %w", ErrCommitFailed, err))
	}
}

// append adds one accepted transaction to the batch as the next block.
func (s *Strand) append(b *pebble.Batch, st *strandState, acc *merkle.Accumulator, r *request, writes []Write) {
	p := r.p
	millis := max(s.j.opts.Clock().UnixMilli(), st.lastMillis)
	seq := st.size
	entries := make([]merkle.Hash, 0, 1+len(p.entries))
	entries = append(entries, headerHash(s.id, seq, p.txID, millis))
	entries = append(entries, p.entries...)
	entriesHash, _ := merkle.Root(entries)
	rec := record{
		millis: millis, txID: p.txID, entriesHash: entriesHash, previousBlockHash: st.last,
		entries: entries, compressed: p.compressed, split: p.split, body: p.body,
		skeleton: p.skeleton, parts: p.parts,
		blockHash: merkle.Dot(entriesHash, st.last),
	}
	_ = b.Set(blockKey(s.id, seq), rec.encode(), nil)
	acc.Append(rec.blockHash, func(id merkle.NodeID, h merkle.Hash) {
		_ = b.Set(nodeKey(s.id, id), h[:], nil)
		if id.Level >= s.cacheFrom {
			s.pendingNodes = append(s.pendingNodes, cachedNode{id, h})
		}
	})
	_ = b.Set(timeKey(s.id, millis, seq), nil, nil)
	for _, w := range writes {
		if w.Delete {
			_ = b.Delete(w.Key, nil)
		} else {
			_ = b.Set(w.Key, w.Value, nil)
		}
	}
	r.receipt = Receipt{Strand: s.id, SequenceNo: seq, TransactionID: p.txID,
		BlockHash: rec.blockHash, Timestamp: time.UnixMilli(millis).UTC()}
	*st = strandState{size: seq + 1, last: rec.blockHash, lastMillis: millis}
}

// apply writes the batch, turning Pebble's fatal commit errors into an
// error with fatal set.
func apply(db *pebble.DB, b *pebble.Batch, opts *pebble.WriteOptions) (err error, fatal bool) {
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(pebbleFatal)
			if !ok {
				panic(r)
			}
			err, fatal = errors.New(f.msg), true
		}
	}()
	return db.Apply(b, opts), false
}

// resolveAfterFailure reopens the store after a fatal write error and tells
// each transaction of the failed group whether its block made it: the whole
// batch is durable or none of it is.
func (s *Strand) resolveAfterFailure(gen uint64, accepted []*request, cause error) {
	if err := s.j.recoverStore(gen); err != nil {
		failAll(accepted, fmt.Errorf("%w: %w (and %w)", ErrCommitFailed, cause, err))
		return
	}
	db, newGen, release, err := s.j.store()
	if err != nil {
		failAll(accepted, fmt.Errorf("%w: %w", ErrCommitFailed, cause))
		return
	}
	defer release()
	loadErr := s.loadFrom(db, newGen)
	for _, r := range accepted {
		raw, ok, err := getCopy(db, blockKey(s.id, r.receipt.SequenceNo))
		if loadErr == nil && err == nil && ok {
			if rec, derr := decodeRecord(raw); derr == nil && rec.blockHash == r.receipt.BlockHash {
				continue // durable after all: acknowledged
			}
		}
		r.err = fmt.Errorf("%w: %w", ErrCommitFailed, cause)
	}
}
