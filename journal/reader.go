package journal

import (
	"context"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Long reads (exports and streams read for minutes while commits go on)
// must never hold the journal's lock or pin the store while the caller's
// code runs: a slow consumer would then hold up Close and the recovery
// from a WAL fault, which take the lock exclusively, and a nested read lock
// taken inside a callback deadlocks as soon as a writer queues between the
// two. So every range read here copies a bounded batch of keys and values
// under the shared lock, releases it, and only then calls back.
//
// Reads that need one consistent view of keys that change (Scan) read each
// batch from a Pebble snapshot registered with the journal. Close and
// recovery close the registered snapshots under the exclusive lock, which
// no reader holds while its callback runs; the reader notices at its next
// batch and ends with ErrClosed, or after a recovery continues at the next
// key from a snapshot of the reopened store.

// readBatch is one batch of copied keys and values.
type readBatch struct {
	keys, vals [][]byte
	arena      []byte
}

func (b *readBatch) reset() {
	b.keys, b.vals, b.arena = b.keys[:0], b.vals[:0], b.arena[:0]
}

// add copies k and v. The arena is never reallocated under the slices
// already handed out: a new arena is started when the current one is full.
func (b *readBatch) add(k, v []byte) {
	if len(b.arena)+len(k)+len(v) > cap(b.arena) {
		b.arena = make([]byte, 0, max(2*cap(b.arena), len(k)+len(v), 4096))
	}
	start := len(b.arena)
	b.arena = append(b.arena, k...)
	b.arena = append(b.arena, v...)
	b.keys = append(b.keys, b.arena[start:start+len(k):start+len(k)])
	b.vals = append(b.vals, b.arena[start+len(k):len(b.arena):len(b.arena)])
}

func (b *readBatch) size() int { return len(b.arena) }

// readSnapshot is a Pebble snapshot registered with the journal, so that
// Close and recovery can close it before they close the store.
type readSnapshot struct {
	snap *pebble.Snapshot
	gen  uint64
	// closed is set under the journal's exclusive lock; readers look at it
	// under the shared lock.
	closed bool
}

// registerSnapshot takes a snapshot of db; the caller holds j.mu shared.
func (j *Journal) registerSnapshot(db *pebble.DB, gen uint64) *readSnapshot {
	rs := &readSnapshot{snap: db.NewSnapshot(), gen: gen}
	j.snapsMu.Lock()
	j.snaps[rs] = struct{}{}
	j.snapsMu.Unlock()
	return rs
}

// releaseSnapshot closes rs unless Close or a recovery already did.
func (j *Journal) releaseSnapshot(rs *readSnapshot) {
	if rs == nil {
		return
	}
	j.mu.RLock()
	defer j.mu.RUnlock()
	j.snapsMu.Lock()
	_, registered := j.snaps[rs]
	delete(j.snaps, rs)
	j.snapsMu.Unlock()
	if registered && !rs.closed {
		rs.closed = true
		_ = rs.snap.Close()
	}
}

// closeSnapshots closes every registered snapshot; the caller holds j.mu
// exclusively.
func (j *Journal) closeSnapshots() {
	j.snapsMu.Lock()
	defer j.snapsMu.Unlock()
	for rs := range j.snaps {
		rs.closed = true
		_ = rs.snap.Close()
		delete(j.snaps, rs)
	}
}

// rangeReader reads [lo, hi) in batches of about maxBytes.
type rangeReader struct {
	j          *Journal
	next, hi   []byte
	consistent bool // read from a registered snapshot
	snap       *readSnapshot
	maxBytes   int
	done       bool
}

func (j *Journal) newRangeReader(lo, hi []byte, consistent bool) *rangeReader {
	return &rangeReader{j: j, next: append([]byte(nil), lo...), hi: hi,
		consistent: consistent, maxBytes: j.opts.ReadBatchSize}
}

// close releases the reader's snapshot.
func (r *rangeReader) close() { r.j.releaseSnapshot(r.snap) }

// fill copies the next batch into b under the shared lock; it returns
// false when the range is exhausted and b is empty.
func (r *rangeReader) fill(ctx context.Context, b *readBatch) (bool, error) {
	b.reset()
	if r.done {
		return false, nil
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	j := r.j
	j.mu.RLock()
	defer j.mu.RUnlock()
	if j.closed {
		return false, ErrClosed
	}
	var src pebble.Reader = j.db
	if r.consistent {
		if r.snap == nil || r.snap.closed {
			// First batch, or the store was reopened after a fault: the
			// old snapshot is gone with the old store.
			r.snap = j.registerSnapshot(j.db, j.gen)
		}
		src = r.snap.snap
	}
	it, err := src.NewIter(&pebble.IterOptions{LowerBound: r.next, UpperBound: r.hi})
	if err != nil {
		return false, err
	}
	ok := it.First()
	for ; ok && b.size() < r.maxBytes; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			_ = it.Close()
			return false, err
		}
		b.add(it.Key(), v)
	}
	if ok {
		// The batch is full: continue just after its last key.
		r.next = append(append(r.next[:0], b.keys[len(b.keys)-1]...), 0)
	} else {
		r.done = true
	}
	if err := firstErr(it.Error(), it.Close()); err != nil {
		return false, err
	}
	return len(b.keys) > 0, nil
}

// readRange calls fn for every key in [lo, hi) in order, in batches,
// without holding any lock while fn runs. fn must not keep k or v.
func (j *Journal) readRange(ctx context.Context, lo, hi []byte, consistent bool, fn func(k, v []byte) error) error {
	r := j.newRangeReader(lo, hi, consistent)
	defer r.close()
	var b readBatch
	for {
		more, err := r.fill(ctx, &b)
		if err != nil || !more {
			return err
		}
		for i := range b.keys {
			if err := fn(b.keys[i], b.vals[i]); err != nil {
				return err
			}
		}
	}
}

// longRead registers a read that keeps iterators open on a snapshot
// without the journal's lock (Check). Close and recovery, holding the lock
// exclusively, cancel its context and wait for it to return before they
// close the store; the read must therefore take the journal's lock only
// before it starts. The returned func ends the registration.
func (j *Journal) longRead(ctx context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	lr := &longRead{cancel: cancel, done: make(chan struct{})}
	j.longMu.Lock()
	j.longReads[lr] = struct{}{}
	j.longMu.Unlock()
	return ctx, func() {
		cancel(nil)
		j.longMu.Lock()
		delete(j.longReads, lr)
		j.longMu.Unlock()
		close(lr.done)
	}
}

type longRead struct {
	cancel context.CancelCauseFunc
	done   chan struct{}
}

// cancelLongReads cancels every registered long read with cause and waits
// for them to return; the caller holds j.mu exclusively.
func (j *Journal) cancelLongReads(cause error) {
	j.longMu.Lock()
	reads := make([]*longRead, 0, len(j.longReads))
	for lr := range j.longReads {
		lr.cancel(cause)
		reads = append(reads, lr)
	}
	j.longMu.Unlock()
	for _, lr := range reads {
		<-lr.done
	}
}

// errReadInterrupted is the cause given to long reads cancelled by a
// recovery of the store.
var errReadInterrupted = fmt.Errorf("journal: read interrupted: the store was reopened after a write fault; retry")
