package journal

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/quilldb/quill/ion"
	"github.com/stretchr/testify/require"
)

// followInBackground runs Follow on a goroutine and hands back its error.
func followInBackground(ctx context.Context, s *Strand, from uint64, fn func(*Block) error) <-chan error {
	done := make(chan error, 1)
	go func() { done <- s.Follow(ctx, from, fn) }()
	return done
}

func waitErr(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("the follower did not return")
		return nil
	}
}

func TestFollowDeliversEveryBlockOnceInOrderFromAnyStart(t *testing.T) {
	_, s := newTestStrand(t)
	commitN(t, s, 5)
	fctx, cancel := context.WithCancel(ctx)
	got := make(chan uint64, 100)
	done := followInBackground(fctx, s, 2, func(b *Block) error {
		got <- b.SequenceNo
		return nil
	})
	commitN(t, s, 5) // blocks 5..9 arrive while it follows
	for want := uint64(2); want < 10; want++ {
		select {
		case seq := <-got:
			require.Equal(t, want, seq)
		case <-time.After(10 * time.Second):
			t.Fatalf("block %d was not delivered", want)
		}
	}
	cancel()
	require.ErrorIs(t, waitErr(t, done), context.Canceled)
	require.Empty(t, got, "no block twice")
}

func TestFollowIsWokenByDeleteCloseAndCancel(t *testing.T) {
	t.Run("strand deleted while the follower waits at the tip", func(t *testing.T) {
		j, s := newTestStrand(t)
		commitN(t, s, 2)
		done := followInBackground(ctx, s, 2, func(*Block) error { return nil })
		require.NoError(t, j.DeleteStrand(ctx, s.ID()))
		require.ErrorIs(t, waitErr(t, done), ErrStrandNotFound)
	})
	t.Run("strand deleted while the follower is behind the tip", func(t *testing.T) {
		j, s := newTestStrand(t)
		commitN(t, s, 3)
		release := make(chan struct{})
		entered := make(chan struct{})
		done := followInBackground(ctx, s, 0, func(b *Block) error {
			if b.SequenceNo == 0 {
				close(entered)
				<-release
			}
			return nil
		})
		<-entered
		require.NoError(t, j.DeleteStrand(ctx, s.ID()))
		close(release)
		// Before the fix the follower looped at full CPU over an empty range.
		require.ErrorIs(t, waitErr(t, done), ErrStrandNotFound)
	})
	t.Run("journal closed", func(t *testing.T) {
		j, s := newTestStrand(t)
		commitN(t, s, 1)
		done := followInBackground(ctx, s, 1, func(*Block) error { return nil })
		require.NoError(t, j.Close())
		require.ErrorIs(t, waitErr(t, done), ErrClosed)
	})
	t.Run("context cancelled", func(t *testing.T) {
		_, s := newTestStrand(t)
		fctx, cancel := context.WithCancel(ctx)
		done := followInBackground(fctx, s, 0, func(*Block) error { return nil })
		cancel()
		require.ErrorIs(t, waitErr(t, done), context.Canceled)
	})
}

func TestBlockedFollowerHoldsUpNeitherCommitsNorClose(t *testing.T) {
	j, s := newTestStrand(t)
	commitN(t, s, 1)
	release := make(chan struct{})
	entered := make(chan struct{})
	done := followInBackground(ctx, s, 0, func(b *Block) error {
		if b.SequenceNo == 0 {
			close(entered)
			<-release
		}
		return nil
	})
	<-entered
	commitN(t, s, 20) // would block behind a read lock held by the callback
	require.Equal(t, uint64(21), s.Size())
	require.NoError(t, j.Close())
	close(release)
	require.ErrorIs(t, waitErr(t, done), ErrClosed)
}

func TestScanCallbackMayReadTheJournalWhileCloseWaits(t *testing.T) {
	// Scan's callback reads the journal again. With the read lock held
	// across the callback, a Close queued between the two read locks
	// deadlocked (Go's RWMutex blocks new readers once a writer waits).
	j, s := newTestStrand(t)
	commitN(t, s, 3)
	require.NoError(t, j.Write(ctx, []Write{{Key: []byte("Ka"), Value: []byte("1")}, {Key: []byte("Kb"), Value: []byte("2")}}))
	inCallback := make(chan struct{})
	var closed atomic.Bool
	closeStarted := make(chan struct{})
	scanDone := make(chan error, 1)
	go func() {
		first := true
		scanDone <- j.Scan(ctx, []byte("K"), []byte("L"), func(_, _ []byte) error {
			if first {
				first = false
				close(inCallback)
				<-closeStarted
				// Wait until Close queues for the lock (a new reader is
				// then refused) or has finished.
				for !closed.Load() && j.mu.TryRLock() {
					j.mu.RUnlock()
					runtime.Gosched()
				}
			}
			_, err := s.Block(ctx, 0)
			if errors.Is(err, ErrClosed) {
				return nil
			}
			return err
		})
	}()
	<-inCallback
	closeDone := make(chan error, 1)
	go func() {
		close(closeStarted)
		err := j.Close()
		closed.Store(true)
		closeDone <- err
	}()
	require.NoError(t, waitErr(t, closeDone))
	err := waitErr(t, scanDone)
	if err != nil {
		require.ErrorIs(t, err, ErrClosed)
	}
}

func TestScanReadsOneViewAcrossBatches(t *testing.T) {
	j := openMem(t, vfs.NewMem(), &Options{ReadBatchSize: 64}) // a few keys per batch
	var writes []Write
	for i := range 100 {
		writes = append(writes, Write{Key: []byte{'K', byte(i)}, Value: []byte("before")})
	}
	require.NoError(t, j.Write(ctx, writes))
	var seen []byte
	err := j.Scan(ctx, []byte("K"), []byte("L"), func(k, v []byte) error {
		if k[1] == 10 { // change every key once the scan is under way
			for i := range writes {
				writes[i].Value = []byte("after")
			}
			writes = append(writes, Write{Key: []byte{'K', 200}, Value: []byte("new")})
			if err := j.Write(ctx, writes); err != nil {
				return err
			}
		}
		require.Equal(t, "before", string(v), "key %d", k[1])
		seen = append(seen, k[1])
		return nil
	})
	require.NoError(t, err)
	require.Len(t, seen, 100)
	for i, k := range seen {
		require.Equal(t, byte(i), k)
	}
}

func TestCheckEndsWithErrClosedWhenTheJournalCloses(t *testing.T) {
	j, s := newTestStrand(t)
	commitN(t, s, 200)
	checkDone := make(chan error, 1)
	go func() {
		_, err := s.Check(ctx)
		checkDone <- err
	}()
	require.NoError(t, j.Close())
	// Either Check finished before Close, or it was cancelled: it never
	// reads from a closed store.
	if err := waitErr(t, checkDone); err != nil {
		require.ErrorIs(t, err, ErrClosed)
	}
}

func TestFollowFromATime(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	j := openMem(t, vfs.NewMem(), &Options{Clock: clock.Now})
	s, err := j.CreateStrand(ctx)
	require.NoError(t, err)
	commitN(t, s, 2) // at 00:00
	clock.Set(clock.Now().Add(time.Hour))
	commitN(t, s, 2) // at 01:00: blocks 2 and 3

	seq, ok, err := s.FirstAtOrAfter(ctx, clock.Now().Add(-time.Minute))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, uint64(2), seq)

	future := clock.Now().Add(time.Hour)
	_, ok, err = s.FirstAtOrAfter(ctx, future)
	require.NoError(t, err)
	require.False(t, ok)

	fctx, cancel := context.WithCancel(ctx)
	got := make(chan uint64, 10)
	done := make(chan error, 1)
	go func() {
		done <- s.FollowFrom(fctx, future, func(b *Block) error { got <- b.SequenceNo; return nil })
	}()
	commitN(t, s, 1) // block 4, still before the start: skipped
	clock.Set(future)
	r, err := s.Commit(ctx, insertTx(0, ion.NewID())) // block 5: at the start
	require.NoError(t, err)
	select {
	case seq := <-got:
		require.Equal(t, r.SequenceNo, seq)
	case <-time.After(10 * time.Second):
		t.Fatal("block 5 was not delivered")
	}
	cancel()
	require.ErrorIs(t, waitErr(t, done), context.Canceled)
	require.Empty(t, got)
}
