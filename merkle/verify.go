package merkle

import (
	"fmt"
	"math/bits"
)

// RootMismatchError reports a proof or hash that does not lead to the
// expected value. Expected is what the caller trusted (a digest, a block
// hash); Computed is what the data folded to.
type RootMismatchError struct {
	What     string // what was compared, e.g. "digest" or "entriesHash"
	Expected []byte
	Computed []byte
}

func (e *RootMismatchError) Error() string {
	return fmt.Sprintf("merkle: %s mismatch: expected %s, computed %s",
		e.What, b64(e.Expected), b64(e.Computed))
}

// ProofError reports a proof whose shape cannot be right for the tree it
// claims to cover, before any hashing.
type ProofError struct {
	Reason string
}

func (e *ProofError) Error() string { return "merkle: bad proof: " + e.Reason }

// VerifyInclusion checks that leaf is leaf number index of the tree of size
// leaves whose root is root: the proof must have the length the tree shape
// demands and fold (see [Fold]) to root.
//
// Because Dot is commutative, a QLDB proof does not bind the leaf's position;
// the length check rejects proofs built for a different tree size.
func VerifyInclusion(index, size uint64, leaf Hash, proof []Hash, root Hash) error {
	if index >= size {
		return &ProofError{Reason: fmt.Sprintf("leaf %d is outside a tree of %d", index, size)}
	}
	if want := InclusionProofLen(index, size); len(proof) != want {
		return &ProofError{Reason: fmt.Sprintf("leaf %d of %d needs %d hashes, proof has %d", index, size, want, len(proof))}
	}
	return checkRoot("root", root, Fold(leaf, proof))
}

func checkRoot(what string, expected, computed Hash) error {
	if expected != computed {
		// Copies, so that the arrays stay on the caller's stack.
		return &RootMismatchError{What: what,
			Expected: append([]byte(nil), expected[:]...), Computed: append([]byte(nil), computed[:]...)}
	}
	return nil
}

// VerifyConsistency checks that the tree of size2 leaves with root2 extends
// the tree of size1 leaves with root1, given an RFC 9162 consistency proof
// (see [ConsistencyProof]).
func VerifyConsistency(size1, size2 uint64, root1, root2 Hash, proof []Hash) error {
	switch {
	case size1 == 0 || size1 > size2:
		return &ProofError{Reason: fmt.Sprintf("no consistency from size %d to %d", size1, size2)}
	case size1 == size2:
		if len(proof) != 0 {
			return &ProofError{Reason: "equal sizes need an empty proof"}
		}
		return checkRoot("root", root2, root1)
	case len(proof) == 0:
		return &ProofError{Reason: "empty proof for different sizes"}
	}
	// RFC 9162 section 2.1.4.2, with Dot for HASH(0x01 || a || b).
	if size1&(size1-1) == 0 { // size1 is a power of two: its root is the first node
		proof = append([]Hash{root1}, proof...)
	}
	fn, sn := size1-1, size2-1
	shift := bits.TrailingZeros64(^fn) // drop the common low one bits
	fn, sn = fn>>uint(shift), sn>>uint(shift)
	fr, sr := proof[0], proof[0]
	for _, c := range proof[1:] {
		if sn == 0 {
			return &ProofError{Reason: "proof is longer than the tree is high"}
		}
		if fn&1 == 1 || fn == sn {
			fr, sr = Dot(c, fr), Dot(c, sr)
			for fn&1 == 0 && fn != 0 {
				fn, sn = fn>>1, sn>>1
			}
		} else {
			sr = Dot(sr, c)
		}
		fn, sn = fn>>1, sn>>1
	}
	if sn != 0 {
		return &ProofError{Reason: "proof is shorter than the tree is high"}
	}
	if err := checkRoot("old root", root1, fr); err != nil {
		return err
	}
	return checkRoot("new root", root2, sr)
}

// VerifyProofBytes is the check of the official QLDB samples (algorithms A
// and B of the spec): fold start (a revision or block hash) with the proof,
// applying the empty-hash identity, and compare with the digest.
func VerifyProofBytes(start []byte, proof [][]byte, digest []byte) error {
	computed, err := FoldBytes(start, proof)
	if err != nil {
		return err
	}
	if string(computed) != string(digest) {
		return &RootMismatchError{What: "digest", Expected: digest, Computed: computed}
	}
	return nil
}
