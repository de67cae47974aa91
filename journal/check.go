package journal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/quilldb/quill/merkle"
)

// CheckReport summarises a successful Check.
type CheckReport struct {
	Blocks uint64
	Nodes  uint64
	Bytes  uint64 // stored block bytes read
	Digest merkle.Hash
}

// Check re-verifies the whole strand from a consistent snapshot: every
// block's internal hashes, the chain of previousBlockHash, timestamps that
// never decrease, every stored Merkle node against a recomputation, the
// absence of anything past the tip, and the digest. It returns the first corruption as a
// *CorruptionError (errors.Is(err, ErrCorrupt)) with its address.
func (s *Strand) Check(ctx context.Context) (CheckReport, error) {
	var rep CheckReport
	ctx, snap, done, err := s.j.snapshotForLongRead(ctx)
	if err != nil {
		return rep, err
	}
	defer done()
	rep, err = s.check(ctx, snap)
	if cause := context.Cause(ctx); err != nil && cause != nil && ctx.Err() != nil {
		return rep, cause // ErrClosed or an interrupted read, not "context canceled"
	}
	return rep, err
}

// snapshotForLongRead takes a snapshot registered as a long read: Close and
// recovery cancel ctx and wait for done before they close the store.
func (j *Journal) snapshotForLongRead(ctx context.Context) (context.Context, *pebble.Snapshot, func(), error) {
	db, _, release, err := j.store()
	if err != nil {
		return nil, nil, nil, err
	}
	defer release()
	// Registered under the shared lock, so that Close and recovery (which
	// wait for long reads under the exclusive lock) see it or come before.
	ctx, end := j.longRead(ctx)
	snap := db.NewSnapshot()
	return ctx, snap, func() { _ = snap.Close(); end() }, nil
}

func (s *Strand) check(ctx context.Context, snap *pebble.Snapshot) (CheckReport, error) {
	var rep CheckReport

	corrupt := func(seq int64, format string, args ...any) error {
		return &CorruptionError{Strand: s.id, SequenceNo: seq, Problem: fmt.Sprintf(format, args...)}
	}
	raw, ok, err := getCopy(snap, metaKey(s.id))
	if err != nil {
		return rep, err
	}
	if !ok {
		return rep, fmt.Errorf("%w: %s", ErrStrandNotFound, s.id)
	}
	st, err := decodeState(raw)
	if err != nil {
		return rep, &CorruptionError{Strand: s.id, SequenceNo: -1, Problem: "strand state", Err: err}
	}

	// Every level of the tree is read with an iterator that advances in
	// step with the blocks: keys come in the order Check needs them, so
	// that it reads sequentially instead of seeking.
	levels := &levelIters{snap: snap, strand: s.id}
	defer levels.close()

	// The blocks' contents are decoded and verified by a pool of workers
	// (that is most of the work, and blocks are independent); the chain,
	// the timestamps and the tree need only the records' headers and are
	// checked here, in order.
	verifier := newBlockVerifier(ctx, s.id)
	var acc merkle.Accumulator
	var prev merkle.Hash
	var prevMillis int64
	var nodeErr error
	next := uint64(0)
	lo, hi := kindBounds(s.id, kindBlock)
	err = scan(ctx, snap, lo, hi, func(k, v []byte) error {
		seq := trailingUint64(k)
		switch {
		case verifier.failed():
			return errStopScan // a block failed: what follows cannot come first
		case seq >= st.size:
			return corrupt(int64(seq), "block past the tip %d", int64(st.size)-1)
		case seq != next:
			return corrupt(int64(next), "block is missing")
		}
		r, err := decodeRecord(v)
		if err != nil {
			return &CorruptionError{Strand: s.id, SequenceNo: int64(seq), Problem: "undecodable record", Err: err}
		}
		if r.previousBlockHash != prev {
			return corrupt(int64(seq), "previousBlockHash %s is not the hash %s of the block before", r.previousBlockHash, prev)
		}
		if r.millis < prevMillis {
			return corrupt(int64(seq), "blockTimestamp goes backwards")
		}
		acc.Append(r.blockHash, func(id merkle.NodeID, h merkle.Hash) {
			if nodeErr != nil {
				return
			}
			stored, present, err := levels.next(id)
			switch {
			case err != nil:
				nodeErr = err
			case !present: // a leaf (the block's hash) or a low node: not stored
				return
			case len(stored) != merkle.Size || merkle.Hash(stored) != h:
				nodeErr = corrupt(int64(seq), "Merkle node %s differs from its recomputation", id)
			}
			rep.Nodes++
		})
		if nodeErr != nil {
			var cerr *CorruptionError
			if errors.As(nodeErr, &cerr) && cerr.SequenceNo < 0 {
				cerr.SequenceNo = int64(seq)
			}
			return nodeErr
		}
		verifier.add(seq, v)
		prev, prevMillis, next = r.blockHash, r.millis, seq+1
		rep.Bytes += uint64(len(v))
		return nil
	})
	// The first corruption is the one at the lowest address, whichever
	// pass found it.
	if errors.Is(err, errStopScan) {
		err = nil
	}
	if err = earliest(err, verifier.wait()); err != nil {
		return rep, err
	}
	rep.Blocks = next
	switch {
	case next != st.size:
		return rep, corrupt(int64(next), "strand state says %d blocks, found %d", st.size, next)
	case st.size > 0 && st.last != prev:
		return rep, corrupt(-1, "strand state's last block hash differs from block %d's", st.size-1)
	case st.lastMillis != prevMillis:
		return rep, corrupt(-1, "strand state's last timestamp differs from block %d's", int64(st.size)-1)
	}
	if err := s.checkNoExtraNodes(ctx, snap, rep.Nodes); err != nil {
		return rep, err
	}
	rep.Digest, _ = acc.Root()
	if _, root, _ := s.published(); st.size > 0 && s.Size() == st.size && root != rep.Digest {
		return rep, corrupt(-1, "digest %s differs from the recomputed %s", root, rep.Digest)
	}
	return rep, nil
}

// blockVerifier decodes and verifies blocks (decodeBlock) on a pool of
// goroutines and keeps the failure at the lowest sequence number.
type blockVerifier struct {
	jobs   chan verifyJob
	wg     sync.WaitGroup
	mu     sync.Mutex
	err    error
	errSeq uint64
	stop   chan struct{} // closed at the first failure: no more work needed past it
	once   sync.Once
}

type verifyJob struct {
	seq uint64
	raw []byte
}

func newBlockVerifier(ctx context.Context, strand string) *blockVerifier {
	v := &blockVerifier{jobs: make(chan verifyJob, 256), stop: make(chan struct{})}
	for range runtime.GOMAXPROCS(0) {
		v.wg.Add(1)
		go func() {
			defer v.wg.Done()
			for job := range v.jobs {
				if ctx.Err() != nil {
					continue
				}
				if _, err := decodeBlock(strand, job.seq, job.raw); err != nil {
					v.fail(job.seq, err)
				}
			}
		}()
	}
	return v
}

var errStopScan = errors.New("stop the scan")

func (v *blockVerifier) failed() bool {
	select {
	case <-v.stop:
		return true
	default:
		return false
	}
}

func (v *blockVerifier) fail(seq uint64, err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.err == nil || seq < v.errSeq {
		v.err, v.errSeq = err, seq
	}
	v.once.Do(func() { close(v.stop) })
}

// add queues a block; raw is copied, as iterators reuse their buffers.
func (v *blockVerifier) add(seq uint64, raw []byte) {
	select {
	case <-v.stop:
		// A block failed already; later blocks cannot be the first failure
		// unless they come before it, and the scan is in order.
	case v.jobs <- verifyJob{seq: seq, raw: slices.Clone(raw)}:
	}
}

// wait stops the workers and returns the failure at the lowest address.
func (v *blockVerifier) wait() error {
	close(v.jobs)
	v.wg.Wait()
	return v.err
}

// earliest returns the corruption with the lowest sequence number of a and
// b, or the one that is not a corruption (an I/O error, a cancellation).
func earliest(a, b error) error {
	if a == nil || b == nil {
		return firstErr(a, b)
	}
	var ca, cb *CorruptionError
	if !errors.As(a, &ca) {
		return a
	}
	if !errors.As(b, &cb) {
		return b
	}
	if cb.SequenceNo >= 0 && (ca.SequenceNo < 0 || cb.SequenceNo < ca.SequenceNo) {
		return b
	}
	return a
}

// levelIters reads the stored nodes of each tree level in index order, one
// iterator per level.
type levelIters struct {
	snap   *pebble.Snapshot
	strand string
	its    map[uint8]*pebble.Iterator
}

// next returns the stored node id, which must be the next one of its level.
// Leaves and nodes below storedNodeLevel are stored only by stores written
// before 2026-12: one that is not there is not missing (present false).
func (l *levelIters) next(id merkle.NodeID) (node []byte, present bool, err error) {
	if l.its == nil {
		l.its = map[uint8]*pebble.Iterator{}
	}
	it, ok := l.its[id.Level]
	if !ok {
		lo := nodeKey(l.strand, merkle.NodeID{Level: id.Level})
		hi := nodeKey(l.strand, merkle.NodeID{Level: id.Level + 1})
		if it, err = l.snap.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi}); err != nil {
			return nil, false, err
		}
		it.First()
		l.its[id.Level] = it
	}
	if !it.Valid() || !bytes.Equal(it.Key(), nodeKey(l.strand, id)) {
		if err := it.Error(); err != nil {
			return nil, false, err
		}
		if id.Level < storedNodeLevel {
			return nil, false, nil
		}
		return nil, false, &CorruptionError{Strand: l.strand, SequenceNo: -1, Problem: fmt.Sprintf("Merkle node %s is missing", id)}
	}
	v, err := it.ValueAndErr()
	if err != nil {
		return nil, false, err
	}
	out := append([]byte(nil), v...)
	it.Next()
	return out, true, nil
}

func (l *levelIters) close() {
	for _, it := range l.its {
		_ = it.Close()
	}
}

// checkNoExtraNodes counts the stored nodes: a tree of n leaves has exactly
// the perfect nodes the accumulator emitted.
func (s *Strand) checkNoExtraNodes(ctx context.Context, snap *pebble.Snapshot, want uint64) error {
	lo, hi := kindBounds(s.id, kindNode)
	var n uint64
	if err := scan(ctx, snap, lo, hi, func(_, _ []byte) error { n++; return nil }); err != nil {
		return err
	}
	if n != want {
		return &CorruptionError{Strand: s.id, SequenceNo: -1,
			Problem: fmt.Sprintf("%d Merkle nodes stored, the tree has %d", n, want)}
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// Check runs Strand.Check on every strand of the journal and returns the
// reports by strand id, stopping at the first corruption.
func (j *Journal) Check(ctx context.Context) (map[string]CheckReport, error) {
	ids, err := j.Strands(ctx)
	if err != nil {
		return nil, err
	}
	reports := make(map[string]CheckReport, len(ids))
	for _, id := range ids {
		s, err := j.Strand(ctx, id)
		if err != nil {
			return reports, err
		}
		rep, err := s.Check(ctx)
		if err != nil {
			return reports, err
		}
		reports[id] = rep
	}
	return reports, nil
}
