package journal

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/merkle"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawSet writes straight into the store, bypassing the journal, as a disk
// fault or an attacker would.
func rawSet(t *testing.T, j *Journal, k, v []byte) {
	t.Helper()
	require.NoError(t, j.db.Set(k, v, pebble.Sync))
}

func rawDelete(t *testing.T, j *Journal, k []byte) {
	t.Helper()
	require.NoError(t, j.db.Delete(k, pebble.Sync))
}

// TestCheckCatchesEveryFlippedByte flips bytes in every stored value of a
// strand, one at a time, and requires Check to report corruption; block
// flips are also caught by a normal read.
func TestCheckCatchesEveryFlippedByte(t *testing.T) {
	j, s := newTestStrand(t)
	const blocks = 1 << storedNodeLevel // the first stored Merkle node
	for i := range blocks {
		docs := []string{ion.NewID()}
		if i%4 == 1 {
			docs = append(docs, ion.NewID())
		}
		_, err := s.Commit(ctx, insertTx(i, docs...))
		require.NoError(t, err)
	}
	_, err := s.Check(ctx)
	require.NoError(t, err)

	type kv struct{ k, v []byte }
	var stored []kv
	lo, hi := []byte{keyPrefix}, []byte{keyPrefix + 1}
	require.NoError(t, j.Scan(ctx, lo, hi, func(k, v []byte) error {
		stored = append(stored, kv{append([]byte(nil), k...), append([]byte(nil), v...)})
		return nil
	}))
	flips := 0
	for _, e := range stored {
		for _, pos := range []int{0, 1, 9, 20, 40, 100, len(e.v) / 2, len(e.v) - 1} {
			if pos >= len(e.v) {
				continue
			}
			bad := bytes.Clone(e.v)
			bad[pos] ^= 0x04
			rawSet(t, j, e.k, bad)
			_, err := s.Check(ctx)
			require.ErrorIs(t, err, ErrCorrupt, "flip of byte %d of key %x went unnoticed", pos, e.k)
			var cerr *CorruptionError
			require.ErrorAs(t, err, &cerr)
			require.Equal(t, s.ID(), cerr.Strand)
			if e.k[1+ion.IDLength] == kindBlock {
				seq := trailingUint64(e.k)
				require.Equal(t, int64(seq), cerr.SequenceNo, "reported address")
				_, err := s.Block(ctx, seq)
				require.ErrorIs(t, err, ErrCorrupt, "a normal read of block %d must fail", seq)
			}
			rawSet(t, j, e.k, e.v)
			flips++
		}
	}
	require.Greater(t, flips, 100)

	for _, kind := range []byte{kindNode, kindBlock} {
		var victim kv
		for _, e := range stored {
			if e.k[1+ion.IDLength] == kind {
				victim = e
				break
			}
		}
		rawDelete(t, j, victim.k)
		_, err := s.Check(ctx)
		require.ErrorIs(t, err, ErrCorrupt, "deleting a %c key went unnoticed", kind)
		rawSet(t, j, victim.k, victim.v)
	}
	// Something past the tip.
	extra := blockKey(s.ID(), blocks)
	rawSet(t, j, extra, stored[0].v)
	_, err = s.Check(ctx)
	require.ErrorContains(t, err, "past the tip")
	rawDelete(t, j, extra)

	_, err = s.Check(ctx)
	require.NoError(t, err, "everything restored")
}

// TestWALFaultsFailCommitsAndTheJournalRecovers injects write and sync
// errors into Pebble's write-ahead log. Pebble treats them as fatal; the
// journal reopens the store and resolves each caught commit: after a failed
// write the block is not there and the commit fails with ErrCommitFailed;
// after a failed sync of bytes the in-memory filesystem kept, the block is
// durable and the commit is acknowledged. Either way the journal stays
// verifiable and commits succeed again once the fault clears, without
// losing an acknowledged block.
func TestWALFaultsFailCommitsAndTheJournalRecovers(t *testing.T) {
	for name, c := range map[string]struct {
		ops      []errorfs.OpKind
		mustFail bool
	}{
		"write": {ops: []errorfs.OpKind{errorfs.OpFileWrite, errorfs.OpFileWriteAt}, mustFail: true},
		"sync":  {ops: []errorfs.OpKind{errorfs.OpFileSync, errorfs.OpFileSyncData, errorfs.OpFileSyncTo}},
	} {
		t.Run(name, func(t *testing.T) {
			var on atomic.Bool
			injected := errors.New("injected disk error")
			fs := errorfs.Wrap(vfs.NewMem(), errorfs.InjectorFunc(func(o errorfs.Op) error {
				if on.Load() && slices.Contains(c.ops, o.Kind) && strings.HasSuffix(o.Path, ".log") {
					return injected
				}
				return nil
			}))
			j := openMem(t, fs, nil)
			s, err := j.CreateStrand(ctx)
			require.NoError(t, err)
			acked := commitN(t, s, 5)

			on.Store(true)
			failed := 0
			for i := range 3 {
				r, err := s.Commit(ctx, insertTx(100+i, ion.NewID()))
				if err == nil {
					acked = append(acked, r)
					continue
				}
				require.ErrorIs(t, err, ErrCommitFailed)
				failed++
			}
			if c.mustFail {
				require.Positive(t, failed, "no commit saw the injected fault")
			}
			j.mu.RLock()
			require.Positive(t, j.gen, "the store was never reopened")
			j.mu.RUnlock()
			on.Store(false)

			acked = append(acked, commitN(t, s, 4)...)
			rep, err := s.Check(ctx)
			require.NoError(t, err)
			require.Equal(t, uint64(len(acked)), rep.Blocks)
			for _, r := range acked {
				b, err := s.Block(ctx, r.SequenceNo)
				require.NoError(t, err)
				require.Equal(t, r.BlockHash, b.Hash)
			}
		})
	}
}

// TestWALFaultsWithGroupsInFlight: the sequencer applies a group while
// the groups before it wait for their sync. Sixteen writers commit while
// every third log sync (or write) fails; a failure resolves every group in
// flight. Every acknowledged block must survive with its hash, every
// failure must be ErrCommitFailed, and the chain must verify.
func TestWALFaultsWithGroupsInFlight(t *testing.T) {
	for name, ops := range map[string][]errorfs.OpKind{
		"write": {errorfs.OpFileWrite, errorfs.OpFileWriteAt},
		"sync":  {errorfs.OpFileSync, errorfs.OpFileSyncData, errorfs.OpFileSyncTo},
	} {
		t.Run(name, func(t *testing.T) {
			var on atomic.Bool
			var calls atomic.Int64
			injected := errors.New("injected disk error")
			fs := errorfs.Wrap(vfs.NewMem(), errorfs.InjectorFunc(func(o errorfs.Op) error {
				if on.Load() && slices.Contains(ops, o.Kind) && strings.HasSuffix(o.Path, ".log") && calls.Add(1)%3 == 0 {
					return injected
				}
				return nil
			}))
			j := openMem(t, fs, nil)
			s, err := j.CreateStrand(ctx)
			require.NoError(t, err)
			on.Store(true)
			var mu sync.Mutex
			var acked []Receipt
			failed := 0
			var wg sync.WaitGroup
			for w := range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 20 {
						tx := insertTx(w*100+i, ion.NewID())
						tx.Marks = [][]byte{[]byte("m")}
						r, err := s.Commit(ctx, tx)
						mu.Lock()
						if err == nil {
							acked = append(acked, r)
						} else {
							assert.ErrorIs(t, err, ErrCommitFailed)
							failed++
						}
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			on.Store(false)
			j.mu.RLock()
			require.Positive(t, j.gen, "the store was never reopened")
			j.mu.RUnlock()
			t.Logf("%d acknowledged, %d failed, %d reopenings", len(acked), failed, j.gen)

			// A mark changed by groups that failed validates again.
			stamp := s.Mark([]byte("m"))
			tx := insertTx(0, ion.NewID())
			tx.Validate = func(r ValidationReader) error {
				if r.Mark([]byte("m")) != stamp {
					return errors.New("the mark's stamps disagree")
				}
				return nil
			}
			r, err := s.Commit(ctx, tx)
			require.NoError(t, err)
			acked = append(acked, r)
			acked = append(acked, commitN(t, s, 3)...)
			rep, err := s.Check(ctx)
			require.NoError(t, err)
			require.GreaterOrEqual(t, rep.Blocks, uint64(len(acked)))
			seen := map[uint64]bool{}
			for _, r := range acked {
				require.False(t, seen[r.SequenceNo], "block %d acknowledged twice", r.SequenceNo)
				seen[r.SequenceNo] = true
				b, err := s.Block(ctx, r.SequenceNo)
				require.NoError(t, err)
				require.Equal(t, r.BlockHash, b.Hash, "block %d", r.SequenceNo)
			}
		})
	}
}

// TestCheckReportsTheEarliestCorruption: block contents are verified in
// parallel with the in-order checks of the chain and the tree; of two
// corruptions, Check reports the one at the lower address, whichever
// check finds it.
func TestCheckReportsTheEarliestCorruption(t *testing.T) {
	for _, c := range []struct {
		name           string
		bodyAt, nodeAt uint64
		want           int64
	}{
		{"body first", 40, 9, 40},  // node (4, 9) is made by block 159
		{"tree first", 300, 2, 47}, // node (4, 2) is made by block 47
	} {
		t.Run(c.name, func(t *testing.T) {
			j, s := newTestStrand(t)
			commitN(t, s, 400)
			raw, ok, err := j.Get(blockKey(s.ID(), c.bodyAt))
			require.NoError(t, err)
			require.True(t, ok)
			raw[len(raw)-3] ^= 0x01 // inside the document data
			rawSet(t, j, blockKey(s.ID(), c.bodyAt), raw)
			rawDelete(t, j, nodeKey(s.ID(), merkle.NodeID{Level: storedNodeLevel, Index: c.nodeAt}))
			_, err = s.Check(ctx)
			var cerr *CorruptionError
			require.ErrorAs(t, err, &cerr)
			require.Equal(t, c.want, cerr.SequenceNo, "%v", err)
		})
	}
}

func TestEarliestPrefersTheLowerAddressAndNonCorruptionErrors(t *testing.T) {
	at := func(seq int64) error { return &CorruptionError{Strand: "s", SequenceNo: seq, Problem: "p"} }
	io := errors.New("disk on fire")
	for _, c := range []struct {
		a, b, want error
	}{
		{nil, nil, nil},
		{at(5), nil, at(5)},
		{nil, at(5), at(5)},
		{at(300), at(40), at(40)},
		{at(40), at(300), at(40)},
		{at(-1), at(7), at(7)},
		{io, at(1), io},
		{at(1), io, io},
	} {
		got := earliest(c.a, c.b)
		if c.want == nil {
			require.NoError(t, got)
			continue
		}
		require.Equal(t, c.want.Error(), got.Error())
	}
}

// TestLeavesAndLowNodesAreReadFromTheBlocks: Merkle leaves and the nodes
// below storedNodeLevel are not stored; proofs read the leaves from the
// blocks and compute the low nodes from them. Stores written before kept
// them: Check verifies those it finds, and a wrong or extra one is
// corruption.
func TestLeavesAndLowNodesAreReadFromTheBlocks(t *testing.T) {
	j, s := newTestStrand(t)
	receipts := commitN(t, s, 40)
	n := 0
	require.NoError(t, j.Scan(ctx, nodeKey(s.ID(), merkle.NodeID{Level: 0}), nodeKey(s.ID(), merkle.NodeID{Level: storedNodeLevel}),
		func(_, _ []byte) error { n++; return nil }))
	require.Zero(t, n, "no leaf or low node is stored")
	proveAll := func() {
		d, err := s.Digest(ctx)
		require.NoError(t, err)
		for _, r := range receipts {
			proof, err := s.BlockProof(ctx, r.SequenceNo, d.SequenceNo)
			require.NoError(t, err)
			require.NoError(t, merkle.VerifyInclusion(r.SequenceNo, d.SequenceNo+1, r.BlockHash, proof, d.Hash))
		}
	}
	proveAll()

	// A store from before: leaves 0..9 and the level-1 nodes above them
	// stored as nodes.
	for i, r := range receipts[:10] {
		rawSet(t, j, nodeKey(s.ID(), merkle.NodeID{Level: 0, Index: r.SequenceNo}), r.BlockHash[:])
		if i%2 == 1 {
			node := merkle.Dot(receipts[i-1].BlockHash, r.BlockHash)
			rawSet(t, j, nodeKey(s.ID(), merkle.NodeID{Level: 1, Index: uint64(i / 2)}), node[:])
		}
	}
	rep, err := s.Check(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(10+5+2+1), rep.Nodes, "the stored leaves and low nodes are checked too, with (4,0), (4,1), (5,0)")
	proveAll()

	wrongNode := receipts[0].BlockHash
	rawSet(t, j, nodeKey(s.ID(), merkle.NodeID{Level: 1, Index: 2}), wrongNode[:])
	_, err = s.Check(ctx)
	require.ErrorIs(t, err, ErrCorrupt, "a wrong stored low node")
	rawDelete(t, j, nodeKey(s.ID(), merkle.NodeID{Level: 1, Index: 2}))
	_, err = s.Check(ctx)
	require.NoError(t, err, "an old store's low node is not needed any more: one missing is not corruption")
	proveAll()

	wrong := receipts[3].BlockHash
	wrong[0] ^= 1
	rawSet(t, j, nodeKey(s.ID(), merkle.NodeID{Level: 0, Index: 3}), wrong[:])
	_, err = s.Check(ctx)
	require.ErrorIs(t, err, ErrCorrupt, "a wrong stored leaf")
	rawSet(t, j, nodeKey(s.ID(), merkle.NodeID{Level: 0, Index: 3}), receipts[3].BlockHash[:])

	rawSet(t, j, nodeKey(s.ID(), merkle.NodeID{Level: 0, Index: 25}), receipts[3].BlockHash[:])
	_, err = s.Check(ctx)
	require.ErrorIs(t, err, ErrCorrupt, "a leaf past the tip")
}
