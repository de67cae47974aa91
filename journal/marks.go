package journal

import (
	"hash/maphash"
	"sync/atomic"
)

// Marks are how a reader learns that something it observed as a whole (a
// table it scanned, the entries of one indexed value it looked up) was
// changed, without a key written by every change: writing a key per insert
// only to be able to compare it later cost a memtable insert, log bytes
// and compaction work on every commit (issue 15).
//
// A transaction names the marks it changes (Transaction.Marks). The strand
// keeps, in memory only, a stamp per mark: a number that grows with every
// block that changes the mark. A reader records Strand.Mark(name) before it
// reads; its validation compares that with ValidationReader.Mark(name), the
// stamp after every transaction sequenced before it. Names are hashed into
// a fixed number of slots, so two names can share a stamp: that can only
// make a reader conflict with a change it did not observe, never miss one.
//
// The stamps seen by readers (Strand.Mark) move when a block is applied to
// the store, after its writes are visible: a reader that records a stamp
// and then reads sees every change the stamp covers, and a change it may
// have missed moves the stamp later. The sequencer's own stamps move when a
// block is sequenced, so that validations in the same group see the
// transactions before them. Stamps are never reused, even when groups fail
// and the sequence numbers are: a stamp a reader recorded always means the
// same changes. They start at zero when the strand is opened; nothing that
// recorded one survives the process.

// markSlots is the number of stamps per strand: 32 Ki × 8 bytes, twice
// (sequencer and readers), allocated at the first mark.
const markSlots = 1 << 15

type markTable struct {
	seed    maphash.Seed
	clock   uint64   // sequencer only: the last stamp given
	stamped []uint64 // sequencer only: each slot's stamp once sequenced
	applied atomic.Pointer[[markSlots]atomic.Uint64]
}

func newMarkTable() markTable { return markTable{seed: maphash.MakeSeed()} }

func (m *markTable) slot(name []byte) uint64 {
	return maphash.Bytes(m.seed, name) & (markSlots - 1)
}

// read returns the stamp of name as readers see it.
func (m *markTable) read(name []byte) uint64 {
	a := m.applied.Load()
	if a == nil {
		return 0
	}
	return a[m.slot(name)].Load()
}

// sequenced returns the stamp of name once every sequenced block is applied.
func (m *markTable) sequenced(name []byte) uint64 {
	if m.stamped == nil {
		return 0
	}
	return m.stamped[m.slot(name)]
}

// stamp gives names a new stamp when their block is sequenced and returns
// it (0 when there are no names).
func (m *markTable) stamp(names [][]byte) uint64 {
	if len(names) == 0 {
		return 0
	}
	if m.stamped == nil {
		m.stamped = make([]uint64, markSlots)
	}
	m.clock++
	for _, n := range names {
		m.stamped[m.slot(n)] = m.clock
	}
	return m.clock
}

// publish makes a block's stamp visible to readers once the block is
// applied. Blocks are applied in order, so a slot only moves forward.
func (m *markTable) publish(names [][]byte, stamp uint64) {
	if len(names) == 0 {
		return
	}
	a := m.appliedSlots()
	for _, n := range names {
		a[m.slot(n)].Store(stamp)
	}
}

// appliedSlots returns the readers' stamps, allocated at the first use;
// only the sequencer calls it, so only it stores them.
func (m *markTable) appliedSlots() *[markSlots]atomic.Uint64 {
	a := m.applied.Load()
	if a == nil {
		a = new([markSlots]atomic.Uint64)
		m.applied.Store(a)
	}
	return a
}

// Mark returns the stamp of the mark name as readers see it: record it
// before reading what the mark covers, and compare it in Validate with
// ValidationReader.Mark. See Transaction.Marks.
func (s *Strand) Mark(name []byte) uint64 { return s.marks.read(name) }

// resync gives every slot one new stamp, for readers and the sequencer
// alike, after groups in flight failed. A stamp given to a block that was
// never applied would otherwise differ from what readers record until the
// mark changed again, failing every validation of it meanwhile; and a
// reader may have seen the writes of a group that was applied and then
// lost with its log sync (readers see a group before its sync), which
// only a changed stamp tells it. Every reader in flight conflicts once.
func (m *markTable) resync() {
	if m.stamped == nil {
		return
	}
	a := m.appliedSlots()
	m.clock++
	for i := range m.stamped {
		m.stamped[i] = m.clock
		a[i].Store(m.clock)
	}
}
