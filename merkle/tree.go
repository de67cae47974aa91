package merkle

import (
	"errors"
	"fmt"
	"math/bits"
)

// NodeID names a perfect subtree of the journal tree: the node at Level
// covers the 2^Level leaves starting at Index<<Level. Level 0 nodes are the
// leaves themselves.
type NodeID struct {
	Level uint8
	Index uint64
}

// String returns "level/index".
func (id NodeID) String() string { return fmt.Sprintf("%d/%d", id.Level, id.Index) }

// Visitor receives each node that becomes complete, leaves included, in the
// order they complete (a leaf before the parents it completes).
type Visitor func(id NodeID, h Hash)

// NodeGetter returns a stored perfect node. It is how proofs read the
// caller's storage; its errors are returned wrapped and unchanged.
type NodeGetter func(id NodeID) (Hash, error)

// ErrBadTreeSize is returned when a tree size or leaf index is out of range
// for the requested operation (an index at or past the size, a consistency
// proof from a larger to a smaller tree, an empty tree).
var ErrBadTreeSize = errors.New("merkle: index or tree size out of range")

// Accumulator is the append-only journal tree. It holds the roots of the
// perfect subtrees that make up the tree (one per set bit of the size, the
// largest first) and nothing else.
//
// The zero value is an empty tree. An Accumulator is not safe for concurrent
// use; the journal's sequencer owns it.
type Accumulator struct {
	size     uint64
	frontier []Hash
}

// FrontierIDs lists the perfect nodes an Accumulator of the given size holds,
// the largest subtree first. Use it with [RestoreAccumulator] to reopen a
// persisted tree.
func FrontierIDs(size uint64) []NodeID {
	ids := make([]NodeID, 0, bits.OnesCount64(size))
	for l := 63; l >= 0; l-- {
		if size&(1<<uint(l)) != 0 {
			ids = append(ids, NodeID{Level: uint8(l), Index: (size >> uint(l)) - 1})
		}
	}
	return ids
}

// RestoreAccumulator rebuilds the accumulator of a tree of the given size
// from its stored frontier nodes (see [FrontierIDs]).
func RestoreAccumulator(size uint64, get NodeGetter) (*Accumulator, error) {
	ids := FrontierIDs(size)
	a := &Accumulator{size: size, frontier: make([]Hash, 0, len(ids)+1)}
	for _, id := range ids {
		h, err := get(id)
		if err != nil {
			return nil, fmt.Errorf("merkle: restore tree of size %d: node %s: %w", size, id, err)
		}
		a.frontier = append(a.frontier, h)
	}
	return a, nil
}

// Size returns the number of leaves appended so far.
func (a *Accumulator) Size() uint64 { return a.size }

// Clone returns an independent copy, so that a caller can append
// speculatively and throw the copy away.
func (a *Accumulator) Clone() *Accumulator {
	return &Accumulator{size: a.size, frontier: append([]Hash(nil), a.frontier...)}
}

// Append adds a leaf and returns its index. visit, if not nil, receives the
// leaf and every node the leaf completes.
func (a *Accumulator) Append(leaf Hash, visit Visitor) uint64 {
	index := a.size
	if visit != nil {
		visit(NodeID{Level: 0, Index: index}, leaf)
	}
	a.frontier = append(a.frontier, leaf)
	// Each trailing one bit of the old size is a subtree of the same height
	// as the one just completed: merge them pairwise, lowest level first.
	h := leaf
	for l := 0; index&(1<<uint(l)) != 0; l++ {
		n := len(a.frontier)
		h = Dot(a.frontier[n-2], h)
		a.frontier = a.frontier[:n-1]
		a.frontier[n-2] = h
		if visit != nil {
			visit(NodeID{Level: uint8(l + 1), Index: index >> uint(l+1)}, h)
		}
	}
	a.size++
	return index
}

// Root returns the Merkle root of all leaves appended: the digest of the
// strand at its tip. ok is false for an empty tree.
func (a *Accumulator) Root() (root Hash, ok bool) {
	return foldRight(a.frontier)
}

// foldRight combines perfect subtree roots listed largest first into the
// root of their concatenation: the RFC 6962 shape joins the two smallest
// first.
func foldRight(nodes []Hash) (Hash, bool) {
	if len(nodes) == 0 {
		return Hash{}, false
	}
	acc := nodes[len(nodes)-1]
	for i := len(nodes) - 2; i >= 0; i-- {
		acc = Dot(nodes[i], acc)
	}
	return acc, true
}

// rangeRoot returns the root of leaves [lo, hi) read from perfect nodes. lo
// must be a multiple of the smallest power of two not less than hi-lo,
// which holds for every subtree of an RFC 6962 tree.
func rangeRoot(lo, hi uint64, get NodeGetter) (Hash, error) {
	var nodes [64]Hash
	n := 0
	for width := hi - lo; width > 0; {
		l := 63 - bits.LeadingZeros64(width)
		id := NodeID{Level: uint8(l), Index: lo >> uint(l)}
		h, err := getNode(get, id)
		if err != nil {
			return Hash{}, err
		}
		nodes[n] = h
		n++
		lo += 1 << uint(l)
		width -= 1 << uint(l)
	}
	root, _ := foldRight(nodes[:n])
	return root, nil
}

// RootAt returns the root of the tree of the given size (the digest at tip
// size-1) from stored nodes, in at most log2(size)+1 reads.
func RootAt(size uint64, get NodeGetter) (Hash, error) {
	if size == 0 {
		return Hash{}, fmt.Errorf("%w: root of an empty tree", ErrBadTreeSize)
	}
	return rangeRoot(0, size, get)
}

// InclusionProof returns the audit path of leaf index in the tree of size
// leaves, bottom-up, levels without a sibling skipped: the proof QLDB's
// GetBlock returns. Folding the leaf with it gives RootAt(size). It reads
// O(log size) nodes.
func InclusionProof(index, size uint64, get NodeGetter) ([]Hash, error) {
	if index >= size {
		return nil, fmt.Errorf("%w: leaf %d in a tree of %d", ErrBadTreeSize, index, size)
	}
	proof := make([]Hash, 0, InclusionProofLen(index, size))
	i, width := index, size
	for level := uint(0); width > 1; level++ {
		var (
			h   Hash
			err error
		)
		switch {
		case i%2 == 1:
			h, err = getNode(get, NodeID{Level: uint8(level), Index: i - 1})
		case i+1 < width:
			// The right sibling is perfect unless it is the tree's ragged
			// right edge, which is rebuilt from its own perfect parts.
			lo := (i + 1) << level
			hi := min(lo+(1<<level), size)
			h, err = rangeRoot(lo, hi, get)
		default:
			i, width = i/2, (width+1)/2
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("merkle: inclusion proof of leaf %d in %d: %w", index, size, err)
		}
		proof = append(proof, h)
		i, width = i/2, (width+1)/2
	}
	return proof, nil
}

func getNode(get NodeGetter, id NodeID) (Hash, error) {
	h, err := get(id)
	if err != nil {
		return Hash{}, fmt.Errorf("merkle: read node %s: %w", id, err)
	}
	return h, nil
}

// InclusionProofLen returns the number of hashes in the inclusion proof of
// leaf index in a tree of size leaves (0 if index is out of range).
func InclusionProofLen(index, size uint64) int {
	if index >= size {
		return 0
	}
	n := 0
	for i, width := index, size; width > 1; i, width = i/2, (width+1)/2 {
		if i%2 == 1 || i+1 < width {
			n++
		}
	}
	return n
}

// ConsistencyProof returns the RFC 9162 consistency proof between the trees
// of size1 and size2 leaves (0 < size1 <= size2), with Dot as the node hash.
// The proof is empty when the sizes are equal. It reads O(log size2) nodes.
func ConsistencyProof(size1, size2 uint64, get NodeGetter) ([]Hash, error) {
	if size1 == 0 || size1 > size2 {
		return nil, fmt.Errorf("%w: consistency from %d to %d", ErrBadTreeSize, size1, size2)
	}
	var proof []Hash
	if err := subproof(size1, 0, size2, true, get, &proof); err != nil {
		return nil, fmt.Errorf("merkle: consistency proof %d to %d: %w", size1, size2, err)
	}
	return proof, nil
}

// subproof is RFC 9162's SUBPROOF(m, D[lo:hi], b) with m counted from lo.
func subproof(m, lo, hi uint64, whole bool, get NodeGetter, proof *[]Hash) error {
	n := hi - lo
	if m == n {
		if whole {
			return nil
		}
		h, err := rangeRoot(lo, hi, get)
		if err != nil {
			return err
		}
		*proof = append(*proof, h)
		return nil
	}
	k := uint64(1) << uint(63-bits.LeadingZeros64(n-1)) // largest power of two < n
	var sibling Hash
	var err error
	if m <= k {
		if err = subproof(m, lo, lo+k, whole, get, proof); err != nil {
			return err
		}
		sibling, err = rangeRoot(lo+k, hi, get)
	} else {
		if err = subproof(m-k, lo+k, hi, false, get, proof); err != nil {
			return err
		}
		sibling, err = rangeRoot(lo, lo+k, get)
	}
	if err != nil {
		return err
	}
	*proof = append(*proof, sibling)
	return nil
}
