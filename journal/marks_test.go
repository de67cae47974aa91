package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
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
	key, mark := []byte("counter"), []byte("counter-mark")
	const workers, rounds = 16, 25
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, conflicts := 0, 0
	errConflict := errors.New("conflict")
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				stamp := s.Mark(mark)
				cur, _, err := j.Get(key)
				if err != nil {
					t.Error(err)
					return
				}
				n := uint64(0)
				if len(cur) == 8 {
					n = binary.BigEndian.Uint64(cur)
				}
				tx := insertTx(0, ion.NewID())
				tx.Writes = []Write{{Key: key, Value: binary.BigEndian.AppendUint64(nil, n+1)}}
				tx.Marks = [][]byte{mark}
				tx.Validate = func(r ValidationReader) error {
					if r.Mark(mark) != stamp {
						return errConflict
					}
					return nil
				}
				_, err = s.Commit(ctx, tx)
				mu.Lock()
				switch {
				case err == nil:
					wins++
				case errors.Is(err, errConflict):
					conflicts++
				default:
					t.Error(err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	final, _, err := j.Get(key)
	require.NoError(t, err)
	require.Equal(t, uint64(wins), binary.BigEndian.Uint64(final), "every win incremented the counter exactly once")
	require.Equal(t, workers*rounds, wins+conflicts)
	require.Positive(t, conflicts, "sixteen writers of one counter never conflicted")
}

// TestMarkStampsAgreeAfterFailedGroups: a stamp given to a group that was
// never applied must not stay in the sequencer's stamps, or every later
// validation of the mark would fail until the mark changed again.
func TestMarkStampsAgreeAfterFailedGroups(t *testing.T) {
	m := newMarkTable()
	a, b := []byte("a"), []byte("b")
	m.publish([][]byte{a}, m.stamp([][]byte{a}))
	m.stamp([][]byte{a, b}) // sequenced, then its apply failed
	require.NotEqual(t, m.read(a), m.sequenced(a))
	m.resync()
	require.Equal(t, m.read(a), m.sequenced(a))
	require.Equal(t, m.read(b), m.sequenced(b))
	next := m.stamp([][]byte{a})
	require.Greater(t, next, uint64(2), "stamps are never given twice")
}
