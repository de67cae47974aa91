package journal

import (
	"errors"
	"fmt"
	"testing"

	"github.com/quilldb/quill/ion"
	"github.com/stretchr/testify/require"
)

// distinctMarks returns n mark names that do not share a stamp slot, so
// that a test can tell their stamps apart.
func distinctMarks(s *Strand, n int) [][]byte {
	var out [][]byte
	used := map[uint64]bool{}
	for i := 0; len(out) < n; i++ {
		name := []byte(fmt.Sprintf("mark-%d", i))
		if slot := s.marks.slot(name); !used[slot] {
			used[slot] = true
			out = append(out, name)
		}
	}
	return out
}

func TestMarksMoveWithTheTransactionsThatChangeThem(t *testing.T) {
	_, s := newTestStrand(t)
	m := distinctMarks(s, 2)
	a, b := m[0], m[1]
	require.Zero(t, s.Mark(a))
	tx := insertTx(0, ion.NewID())
	tx.Marks = [][]byte{a}
	_, err := s.Commit(ctx, tx)
	require.NoError(t, err)
	first := s.Mark(a)
	require.NotZero(t, first, "a committed change moves its mark")
	require.Zero(t, s.Mark(b), "and no other")
	commitN(t, s, 2)
	require.Equal(t, first, s.Mark(a), "transactions without the mark leave it")

	// A validation that compares a stamp recorded before the change fails.
	tx = insertTx(1, ion.NewID())
	tx.Marks = [][]byte{a}
	_, err = s.Commit(ctx, tx)
	require.NoError(t, err)
	conflict := errors.New("conflict")
	tx = insertTx(2, ion.NewID())
	tx.Validate = func(r ValidationReader) error {
		if r.Mark(a) != first {
			return conflict
		}
		return nil
	}
	_, err = s.Commit(ctx, tx)
	require.ErrorIs(t, err, conflict)
}

// TestMarkValidationLosesNoUpdate runs read-modify-write transactions on a
// counter from many goroutines, validated by a mark alone: each records the
// mark's stamp, reads the counter, and writes it plus one, touching the
// mark. If validation saw every transaction sequenced before it (in its
// own group and in the groups in flight too), no increment is lost.
func TestMarkValidationLosesNoUpdate(t *testing.T) {
	j, s := newTestStrand(t)
	mark := []byte("counter-mark")
	_, conflicts := raceOnCounter(t, j, s, []byte("counter"), 16, 25, func(read func() uint64) *Transaction {
		stamp := s.Mark(mark) // before the read it covers
		read()
		tx := insertTx(0, ion.NewID())
		tx.Marks = [][]byte{mark}
		tx.Validate = func(r ValidationReader) error {
			if r.Mark(mark) != stamp {
				return errTestConflict
			}
			return nil
		}
		return tx
	})
	require.Positive(t, conflicts, "sixteen writers of one counter never conflicted")
}

// TestMarkStampsAgreeAfterFailedGroups: a stamp given to a group that was
// never applied must not stay in the sequencer's stamps, or every later
// validation of the mark would fail until the mark changed again; and a
// stamp recorded before the failure (its reader may have seen a group that
// was lost) must not validate after it.
func TestMarkStampsAgreeAfterFailedGroups(t *testing.T) {
	m := newMarkTable()
	a, b := []byte("a"), []byte("b")
	m.publish([][]byte{a}, m.stamp([][]byte{a}))
	before := m.read(a)
	m.stamp([][]byte{a, b}) // sequenced, then its apply failed
	require.NotEqual(t, m.read(a), m.sequenced(a))
	m.resync()
	require.Equal(t, m.read(a), m.sequenced(a))
	require.Equal(t, m.read(b), m.sequenced(b))
	require.NotEqual(t, before, m.sequenced(a), "a stamp recorded before the failure no longer validates")
	next := m.stamp([][]byte{a})
	require.Greater(t, next, m.read(b), "stamps are never given twice")
}
