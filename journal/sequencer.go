package journal

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/quilldb/quill/merkle"
)

// The sequencer of a strand turns queued transactions into blocks and owns
// the sequencer state (the next sequence number, the chain, the
// accumulator). It runs while there is work (Strand.leading): in the
// goroutine of the committer that found it idle, until that committer's
// own commit is done, then in a goroutine of its own.
// It is pipelined: a group of transactions is validated, sequenced and
// applied to Pebble (write-ahead log and memtable) while the groups before
// it are still waiting for their log sync, so that the sync of one group
// overlaps the work on the next and the log is never idle while there is
// work. A group is acknowledged, and its state published to readers, only
// when its sync is done and every group before it is acknowledged.
//
// A later group sees the writes of the earlier ones in flight (they are in
// Pebble's memtable), which is what its validation needs, and it cannot be
// durable unless they are: the log is written and synced in order. Readers
// of the ledger's derived keys could already see a group's writes before
// its sync ended (Pebble makes a batch visible before its sync); the
// pipeline widens that window from one group to at most maxInFlight.
// Blocks are read only up to the published size.

// errWALFailed: a write or sync of the write-ahead log failed; the store
// must be reopened before the next write.
var errWALFailed = errors.New("a write or sync of the write-ahead log failed")

// maxInFlight bounds the groups applied and waiting for their sync. Two
// suffice to keep the log busy (one syncing, one written meanwhile); a few
// more absorb the jitter of fsync times.
const maxInFlight = 4

// request is a prepared transaction waiting for the sequencer.
type request struct {
	ctx     context.Context
	p       *prepared
	receipt Receipt
	stamp   uint64 // the stamp of the transaction's marks, if it has any
	err     error
	done    chan struct{}
}

// flight is a group applied to Pebble whose log sync may still be running.
type flight struct {
	gen      uint64
	b        *pebble.Batch
	state    strandState // the strand's state after the group
	acc      *merkle.Accumulator
	nodes    []cachedNode // nodes for the node cache once durable
	accepted []*request   // the group's transactions that made blocks
	synced   chan struct{}
	err      error // the sync's error, set before synced is closed
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
	if lead {
		s.leading = true
	} else {
		select {
		case s.wake <- struct{}{}:
		default: // already told
		}
	}
	s.qmu.Unlock()
	if lead {
		// The caller runs the sequencer until its own commit is done (a
		// single writer never waits for another goroutine), then hands it
		// to a goroutine if there is more work.
		s.lead(nil, req)
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

// lead runs the sequencer until the queue is empty and no group is in
// flight, starting with the requests in pending. A caller that leads for
// its own request (own) hands the sequencer to a new goroutine once that
// request is done and work remains.
func (s *Strand) lead(pending []*request, own *request) {
	for {
		if own != nil && isDone(own) {
			s.qmu.Lock()
			idle := len(pending) == 0 && len(s.inflight) == 0 && len(s.queue) == 0
			if idle {
				s.leading = false
			}
			s.qmu.Unlock()
			if !idle {
				go s.lead(pending, nil)
			}
			return
		}
		s.qmu.Lock()
		if pending == nil {
			pending = s.queue
		} else {
			pending = append(pending, s.queue...)
		}
		s.queue = nil
		if len(pending) == 0 && len(s.inflight) == 0 {
			s.leading = false
			s.qmu.Unlock()
			return
		}
		s.qmu.Unlock()
		if len(pending) > 0 && len(s.inflight) < maxInFlight {
			s.commitGroup(pending)
			pending = nil
			continue
		}
		// Wait for the oldest sync, or for new work while there is room.
		wake := s.wake
		if len(pending) > 0 {
			wake = nil
		}
		select {
		case <-s.inflight[0].synced:
			s.finishOldest()
		case <-wake:
		}
	}
}

func isDone(r *request) bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// complete wakes the callers of reqs.
func complete(reqs []*request) {
	for _, r := range reqs {
		close(r.done)
	}
}

func failAll(reqs []*request, err error) {
	for _, r := range reqs {
		r.err = err
	}
}

// commitGroup validates and sequences one group of transactions, applies
// them to the store in one batch and puts the batch in flight. Rejected
// transactions are answered at once.
func (s *Strand) commitGroup(group []*request) {
	db, gen, release, err := s.j.store()
	if err != nil {
		failAll(group, err)
		complete(group)
		return
	}
	if s.gen != gen {
		// The store was reopened (it waited for the syncs in flight): what
		// is durable is the truth.
		release()
		s.failInFlight(s.gen, errors.New("the store was reopened"), nil)
		if db, gen, release, err = s.j.store(); err == nil {
			err = s.loadFrom(db, gen)
			if err != nil {
				release()
			}
		}
		if err != nil {
			failAll(group, err)
			complete(group)
			return
		}
	}
	// The batch is laid out for Pebble's memtable, which inserts a batch's
	// keys one by one in a skiplist and reuses the search of the previous
	// key when the next one lands beside it: the group's block records
	// first (consecutive keys: each insert is next to the last), then the
	// Merkle nodes and the strand state, then the transactions' writes.
	// Pebble numbers a batch's operations in order, so of two writes of one
	// key in the group the later still wins. Validations read the group's
	// earlier writes from the overlay, then the store (with the groups in
	// flight, in the memtable).
	b := db.NewBatch()
	var overlay groupOverlay
	if slices.ContainsFunc(group, func(r *request) bool { return r.p.tx.Validate != nil }) {
		overlay = groupOverlay{}
	}
	st, acc := s.state, s.acc.Clone()
	sync := false
	f := &flight{gen: gen, b: b, synced: make(chan struct{})}
	cacheFrom := s.cache.lowest()
	var rejected []*request
	var stored []cachedNode // Merkle nodes to store, after the blocks
	var writes []Write
	for _, r := range group {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			rejected = append(rejected, r)
			continue
		}
		if v := r.p.tx.Validate; v != nil {
			if err := v(groupReader{db: db, overlay: overlay, marks: &s.marks}); err != nil {
				r.err = err
				rejected = append(rejected, r)
				continue
			}
		}
		txWrites := r.p.tx.Writes
		if c := r.p.tx.Complete; c != nil {
			txWrites = append(txWrites[:len(txWrites):len(txWrites)], c(st.size, r.p.revHashes, r.p.dataRefs)...)
			if i := slices.IndexFunc(txWrites, func(w Write) bool { return !callerKey(w.Key) }); i >= 0 {
				r.err = invalid("write %d from Complete: keys must be non-empty and must not start with 0x01", i)
				rejected = append(rejected, r)
				continue
			}
		}
		s.append(b, &st, acc, r, cacheFrom, &f.nodes, &stored)
		writes = append(writes, txWrites...)
		overlay.add(txWrites)
		r.stamp = s.marks.stamp(r.p.tx.Marks)
		sync = sync || !r.p.tx.NoSync
		f.accepted = append(f.accepted, r)
	}
	complete(rejected)
	if len(f.accepted) == 0 {
		release()
		_ = b.Close()
		return
	}
	for _, n := range stored {
		_ = b.Set(nodeKey(s.id, n.id), n.h[:], nil)
	}
	_ = b.Set(metaKey(s.id), st.encode(), nil)
	for _, w := range writes {
		if w.Delete {
			_ = b.Delete(w.Key, nil)
		} else {
			_ = b.Set(w.Key, w.Value, nil)
		}
	}
	opts := pebble.NoSync
	if sync {
		opts = pebble.Sync
	}
	if err, fatal := s.j.apply(db, b, opts); err != nil {
		release()
		if fatal {
			s.failInFlight(gen, err, f.accepted) // it resyncs the marks
		} else {
			s.marks.resync() // the group's stamps were given, not applied
			failAll(f.accepted, fmt.Errorf("%w: %w", ErrCommitFailed, err))
			complete(f.accepted)
		}
		_ = b.Close()
		return
	}
	for _, r := range f.accepted {
		s.marks.publish(r.p.tx.Marks, r.stamp) // the writes are visible now
	}
	s.j.counters.groups.Add(1)
	s.j.counters.transactions.Add(uint64(len(f.accepted)))
	s.state, s.acc = st, acc
	f.state, f.acc = st, acc
	s.inflight = append(s.inflight, f)
	if !sync {
		release()
		close(f.synced)
		return
	}
	// The sync holds the store shared, so that Close and recoveries wait
	// for it.
	await := func() {
		f.err = b.SyncWait()
		release()
		close(f.synced)
	}
	s.qmu.Lock()
	alone := len(s.inflight) == 1 && len(s.queue) == 0
	s.qmu.Unlock()
	if alone {
		await() // nothing else to do: wait here, without a goroutine to wake
		return
	}
	go await() // the sequencer goes on with the next group
}

// finishOldest acknowledges the oldest group in flight once its sync is
// done, or resolves every group in flight if it failed.
func (s *Strand) finishOldest() {
	f := s.inflight[0]
	<-f.synced
	if f.err != nil {
		s.failInFlight(f.gen, f.err, nil)
		return
	}
	s.inflight[0] = nil
	s.inflight = s.inflight[1:]
	s.cache.add(f.nodes)
	s.publish(f.state, f.acc)
	_ = f.b.Close()
	complete(f.accepted)
}

// failInFlight handles a fatal store error (cause, in generation gen): it
// waits for the syncs in flight, reopens the store and tells every
// transaction in flight, and those in more, whether its block is durable.
func (s *Strand) failInFlight(gen uint64, cause error, more []*request) {
	var accepted []*request
	for _, f := range s.inflight {
		<-f.synced
		accepted = append(accepted, f.accepted...)
		_ = f.b.Close()
	}
	clear(s.inflight)
	s.inflight = s.inflight[:0]
	s.marks.resync()
	accepted = append(accepted, more...)
	if len(accepted) > 0 {
		s.resolveAfterFailure(gen, accepted, cause)
	}
	complete(accepted)
}

// append adds one accepted transaction's block record to the batch as the
// next block; the new Merkle nodes from level cacheFrom up go to cached,
// those to store (level storedNodeLevel and up) to stored.
func (s *Strand) append(b *pebble.Batch, st *strandState, acc *merkle.Accumulator, r *request,
	cacheFrom uint8, cached, stored *[]cachedNode) {
	p := r.p
	millis := max(s.j.opts.Clock().UnixMilli(), st.lastMillis)
	seq := st.size
	entries := make([]merkle.Hash, 0, 1+len(p.entries))
	entries = append(entries, s.header.hash(seq, p.txIDDigest, millis))
	entries = append(entries, p.entries...)
	entriesHash, _ := merkle.Root(entries)
	rec := record{
		millis: millis, txID: p.txID, entriesHash: entriesHash, previousBlockHash: st.last,
		entries: entries, compressed: p.compressed, split: p.split, body: p.body,
		skeleton: p.skeleton, parts: p.parts,
		blockHash: merkle.Dot(entriesHash, st.last),
	}
	// The record is laid out in the batch itself: the document is copied
	// from the caller's bytes once.
	key := blockKey(s.id, seq)
	op := b.SetDeferred(len(key), rec.size())
	copy(op.Key, key)
	if out := rec.appendTo(op.Value[:0]); len(out) != len(op.Value) {
		panic(fmt.Sprintf("journal: record of %d bytes, sized %d", len(out), len(op.Value)))
	}
	_ = op.Finish()
	acc.Append(rec.blockHash, func(id merkle.NodeID, h merkle.Hash) {
		if id.Level == 0 {
			return // a leaf is the block's hash, in its record
		}
		if id.Level >= cacheFrom {
			*cached = append(*cached, cachedNode{id, h})
		}
		if id.Level >= storedNodeLevel { // the nodes below are computed from the leaves
			*stored = append(*stored, cachedNode{id, h})
		}
	})
	r.receipt = Receipt{Strand: s.id, SequenceNo: seq, TransactionID: p.txID,
		BlockHash: rec.blockHash, Timestamp: time.UnixMilli(millis).UTC()}
	*st = strandState{size: seq + 1, last: rec.blockHash, lastMillis: millis}
}

// apply writes the batch to the log and the memtable (a synced batch is
// then synced in the background: Batch.SyncWait), turning Pebble's fatal
// commit errors, and a log that has failed (walwatch.go), into an error
// with fatal set.
func (j *Journal) apply(db *pebble.DB, b *pebble.Batch, opts *pebble.WriteOptions) (err error, fatal bool) {
	j.applyMu.Lock()
	defer j.applyMu.Unlock()
	if j.walFailed.Load() {
		return errWALFailed, true
	}
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(pebbleFatal)
			if !ok {
				panic(r)
			}
			err, fatal = errors.New(f.msg), true
		}
	}()
	if opts.Sync {
		return db.ApplyNoSyncWait(b, opts), false
	}
	return db.Apply(b, opts), false
}

// resolveAfterFailure reopens the store after a fatal write error and tells
// each transaction whether its block made it: the log is written and
// synced in order, so what survives is a prefix.
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
