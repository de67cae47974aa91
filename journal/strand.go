package journal

import (
	"encoding/binary"
	"fmt"
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

// Strand is one chain of blocks. Commit is safe for concurrent use; all
// reads are too.
type Strand struct {
	j  *Journal
	id string

	qmu     sync.Mutex
	queue   []*request
	leading bool          // a sequencer goroutine runs (see sequencer.go)
	wake    chan struct{} // tells the running sequencer that the queue grew
	deleted bool          // set by DeleteStrand: no more commits
	// gone is closed by DeleteStrand: followers stop.
	gone chan struct{}

	// Sequencer state: only the sequencer goroutine touches it. It runs
	// ahead of the published state by the groups in flight.
	gen      uint64
	state    strandState
	acc      *merkle.Accumulator
	inflight []*flight

	header *headerHasher // the sequencer's

	// marks are the stamps of Transaction.Marks (marks.go).
	marks markTable

	// cache holds the upper tree levels for proofs.
	cache nodeCache

	// Published state: what readers may rely on.
	pmu    sync.Mutex
	pub    strandState
	root   merkle.Hash
	notify chan struct{}
}

func newStrand(j *Journal, id string) *Strand {
	return &Strand{j: j, id: id, notify: make(chan struct{}), gone: make(chan struct{}),
		wake: make(chan struct{}, 1), marks: newMarkTable(), header: newHeaderHasher(id)}
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
	acc, err := merkle.RestoreAccumulator(st.size, s.nodeGetter(db, nil))
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
