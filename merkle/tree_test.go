package merkle

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// leafHash is the deterministic leaf i used by the tree tests.
func leafHash(i uint64) Hash {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], i)
	return sha256.Sum256(b[:])
}

// memTree is an Accumulator plus the nodes it emitted, standing in for the
// journal's node storage.
type memTree struct {
	acc    Accumulator
	leaves []Hash
	nodes  map[NodeID]Hash
	// problems records visitor calls that broke the contract: a node
	// emitted twice, or Append returning the wrong index.
	problems []string
}

func newMemTree(n uint64) *memTree {
	m := &memTree{nodes: map[NodeID]Hash{}}
	for i := range n {
		m.append(leafHash(i))
	}
	return m
}

func (m *memTree) append(leaf Hash) {
	m.leaves = append(m.leaves, leaf)
	idx := m.acc.Append(leaf, func(id NodeID, h Hash) {
		if _, dup := m.nodes[id]; dup {
			m.problems = append(m.problems, fmt.Sprintf("node %s emitted twice", id))
		}
		m.nodes[id] = h
	})
	if idx != uint64(len(m.leaves)-1) {
		m.problems = append(m.problems, fmt.Sprintf("leaf %d appended at index %d", len(m.leaves)-1, idx))
	}
}

func (m *memTree) get(id NodeID) (Hash, error) {
	h, ok := m.nodes[id]
	if !ok {
		return Hash{}, fmt.Errorf("node %s not stored", id)
	}
	return h, nil
}

// naiveLevels builds every level of the tree over leaves the way the spec
// describes it: pair neighbours, promote an unpaired last node.
func naiveLevels(leaves []Hash) [][]Hash {
	levels := [][]Hash{leaves}
	for cur := leaves; len(cur) > 1; {
		var next []Hash
		for i := 0; i < len(cur); i += 2 {
			if i+1 < len(cur) {
				next = append(next, Dot(cur[i], cur[i+1]))
			} else {
				next = append(next, cur[i])
			}
		}
		levels = append(levels, next)
		cur = next
	}
	return levels
}

// naiveInclusion is the spec's proof generation over full levels.
func naiveInclusion(levels [][]Hash, index int) []Hash {
	proof := []Hash{}
	i := index
	for _, level := range levels[:len(levels)-1] {
		switch {
		case i%2 == 1:
			proof = append(proof, level[i-1])
		case i+1 < len(level):
			proof = append(proof, level[i+1])
		}
		i /= 2
	}
	return proof
}

// naiveConsistency is RFC 9162's PROOF(m, D[n]) with MTH computed from the
// leaves.
func naiveConsistency(m int, leaves []Hash, whole bool) []Hash {
	n := len(leaves)
	if m == n {
		if whole {
			return nil
		}
		r, _ := Root(leaves)
		return []Hash{r}
	}
	k := 1
	for k*2 < n {
		k *= 2
	}
	if m <= k {
		r, _ := Root(leaves[k:])
		return append(naiveConsistency(m, leaves[:k], whole), r)
	}
	r, _ := Root(leaves[:k])
	return append(naiveConsistency(m-k, leaves[k:], false), r)
}

func TestAccumulatorMatchesNaiveTreeForEverySizeAndLeaf(t *testing.T) {
	const maxSize = 1000
	m := newMemTree(0)
	for n := uint64(1); n <= maxSize; n++ {
		m.append(leafHash(n - 1))
		levels := naiveLevels(m.leaves)
		want := levels[len(levels)-1][0]

		root, ok := m.acc.Root()
		require.True(t, ok)
		require.Equal(t, want, root, "accumulator root, size %d", n)
		byList, _ := Root(m.leaves)
		require.Equal(t, want, byList, "Root of the list, size %d", n)
		stored, err := RootAt(n, m.get)
		require.NoError(t, err)
		require.Equal(t, want, stored, "RootAt from stored nodes, size %d", n)

		for i := range n {
			proof, err := InclusionProof(i, n, m.get)
			require.NoError(t, err)
			require.Equal(t, naiveInclusion(levels, int(i)), proof, "proof of leaf %d in %d", i, n)
			require.Len(t, proof, InclusionProofLen(i, n))
			require.NoError(t, VerifyInclusion(i, n, m.leaves[i], proof, root))
		}
	}
	require.Empty(t, m.problems)
}

func TestAccumulatorEmitsExactlyThePerfectNodes(t *testing.T) {
	const n = 777
	m := newMemTree(n)
	want := 0
	for level := 0; 1<<level <= n; level++ {
		count := n >> level
		want += count
		for i := range count {
			_, ok := m.nodes[NodeID{Level: uint8(level), Index: uint64(i)}]
			require.True(t, ok, "perfect node %d/%d missing", level, i)
		}
	}
	require.Len(t, m.nodes, want)
	require.Empty(t, m.problems)
}

func TestProofsReadLogarithmicallyManyNodes(t *testing.T) {
	const n = 1<<20 + 12345
	// Only the reads matter here, so the getter counts them and returns a
	// synthetic hash for any perfect node.
	reads := 0
	get := func(id NodeID) (Hash, error) {
		reads++
		require.LessOrEqual(t, (id.Index+1)<<id.Level, uint64(n), "read of a node that is not perfect: %s", id)
		return leafHash(id.Index<<8 | uint64(id.Level)), nil
	}
	for _, i := range []uint64{0, 1, n / 2, n - 2, n - 1} {
		reads = 0
		_, err := InclusionProof(i, n, get)
		require.NoError(t, err)
		require.LessOrEqual(t, reads, 2*21, "inclusion proof of %d read %d nodes", i, reads)
	}
	reads = 0
	_, err := ConsistencyProof(1000, n, get)
	require.NoError(t, err)
	require.LessOrEqual(t, reads, 2*21)
	reads = 0
	_, err = RootAt(n, get)
	require.NoError(t, err)
	require.LessOrEqual(t, reads, 21)
}

func TestRestoreAccumulatorContinuesTheSameTree(t *testing.T) {
	for _, n := range []uint64{1, 2, 3, 7, 8, 100, 511, 512, 513} {
		m := newMemTree(n)
		restored, err := RestoreAccumulator(n, m.get)
		require.NoError(t, err)
		require.Equal(t, n, restored.Size())
		for i := n; i < n+40; i++ {
			m.append(leafHash(i))
			restored.Append(leafHash(i), nil)
			a, _ := m.acc.Root()
			b, _ := restored.Root()
			require.Equal(t, a, b, "restored at %d, size now %d", n, i+1)
		}
	}
	_, err := RestoreAccumulator(5, func(NodeID) (Hash, error) { return Hash{}, errors.New("disk gone") })
	require.ErrorContains(t, err, "disk gone")
}

func TestCloneIsIndependent(t *testing.T) {
	m := newMemTree(5)
	c := m.acc.Clone()
	c.Append(leafHash(99), nil)
	require.Equal(t, uint64(5), m.acc.Size())
	a, _ := m.acc.Root()
	want, _ := Root(m.leaves)
	require.Equal(t, want, a)
}

func TestConsistencyProofsMatchRFC9162(t *testing.T) {
	const maxSize = 130
	m := newMemTree(maxSize)
	roots := make([]Hash, maxSize+1)
	for n := 1; n <= maxSize; n++ {
		roots[n], _ = Root(m.leaves[:n])
	}
	for n := uint64(1); n <= maxSize; n++ {
		for k := uint64(1); k <= n; k++ {
			proof, err := ConsistencyProof(k, n, m.get)
			require.NoError(t, err)
			require.Equal(t, naiveConsistency(int(k), m.leaves[:n], true), proof, "consistency %d -> %d", k, n)
			require.NoError(t, VerifyConsistency(k, n, roots[k], roots[n], proof), "verify %d -> %d", k, n)
			if k < n {
				// Any other old root must be rejected with the typed error.
				err := VerifyConsistency(k, n, leafHash(1<<40), roots[n], proof)
				var mismatch *RootMismatchError
				require.ErrorAs(t, err, &mismatch, "%d -> %d accepted a wrong old root", k, n)
			}
		}
	}
}

func TestBadSizesAreRejected(t *testing.T) {
	m := newMemTree(10)
	_, err := InclusionProof(10, 10, m.get)
	require.ErrorIs(t, err, ErrBadTreeSize)
	_, err = ConsistencyProof(0, 10, m.get)
	require.ErrorIs(t, err, ErrBadTreeSize)
	_, err = ConsistencyProof(11, 10, m.get)
	require.ErrorIs(t, err, ErrBadTreeSize)
	_, err = RootAt(0, m.get)
	require.ErrorIs(t, err, ErrBadTreeSize)
	_, err = InclusionProof(3, 11, m.get) // node 10 was never stored
	require.ErrorContains(t, err, "not stored")

	var perr *ProofError
	require.ErrorAs(t, VerifyInclusion(3, 2, Hash{}, nil, Hash{}), &perr)
	require.ErrorAs(t, VerifyInclusion(0, 10, Hash{}, nil, Hash{}), &perr)
	require.ErrorAs(t, VerifyConsistency(3, 2, Hash{}, Hash{}, nil), &perr)
	require.ErrorAs(t, VerifyConsistency(2, 3, Hash{}, Hash{}, nil), &perr)
}

func TestVerifyInclusionReportsExpectedAndComputedRoots(t *testing.T) {
	m := newMemTree(9)
	root, _ := m.acc.Root()
	proof, err := InclusionProof(4, 9, m.get)
	require.NoError(t, err)
	proof[1][0] ^= 1
	err = VerifyInclusion(4, 9, m.leaves[4], proof, root)
	var mismatch *RootMismatchError
	require.ErrorAs(t, err, &mismatch)
	require.Equal(t, root[:], mismatch.Expected)
	require.NotEqual(t, root[:], mismatch.Computed)
	require.Contains(t, err.Error(), root.String())
}

func TestListProofFoldsToTheListRoot(t *testing.T) {
	for n := 1; n <= 45; n++ {
		m := newMemTree(uint64(n))
		root, _ := Root(m.leaves)
		levels := naiveLevels(m.leaves)
		for i := range n {
			proof := ListProof(m.leaves, i)
			require.Equal(t, naiveInclusion(levels, i), proof, "element %d of %d", i, n)
			require.Equal(t, root, Fold(m.leaves[i], proof))
		}
	}
	require.Nil(t, ListProof([]Hash{{1}}, 1))
}
