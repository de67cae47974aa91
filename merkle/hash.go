package merkle

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// Size is the length in bytes of every hash in a QLDB journal (SHA-256).
const Size = sha256.Size

// Hash is a SHA-256 hash: a block hash, a revision hash or a tree node.
type Hash [Size]byte

// String returns the hash in standard base64, the form QLDB prints inside
// Ion blobs and returns in the Digest member of GetDigest.
func (h Hash) String() string { return base64.StdEncoding.EncodeToString(h[:]) }

// Hex returns the hash as lower-case hexadecimal.
func (h Hash) Hex() string { return hex.EncodeToString(h[:]) }

// HashFromBytes converts a 32-byte slice into a Hash. It fails for any other
// length.
func HashFromBytes(b []byte) (Hash, error) {
	var h Hash
	if len(b) != Size {
		return h, fmt.Errorf("merkle: hash has %d bytes, want %d", len(b), Size)
	}
	copy(h[:], b)
	return h, nil
}

// ParseHash decodes a standard-base64 hash, such as one copied from a QLDB
// Ion blob or a GetDigest response.
func ParseHash(s string) (Hash, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return Hash{}, fmt.Errorf("merkle: hash %q is not base64: %w", s, err)
	}
	return HashFromBytes(b)
}

// less reports whether a sorts before b in QLDB's order: the bytes are read
// as signed two's-complement integers from the last byte to the first, and
// the first difference decides.
func less(a, b *Hash) bool {
	for i := Size - 1; i >= 0; i-- {
		if a[i] != b[i] {
			return int8(a[i]) < int8(b[i])
		}
	}
	return false
}

// Dot is QLDB's pairwise combine: SHA-256 of the two hashes concatenated,
// the smaller (see package doc) first. It is commutative.
func Dot(a, b Hash) Hash {
	var buf [2 * Size]byte
	if less(&a, &b) {
		copy(buf[:Size], a[:])
		copy(buf[Size:], b[:])
	} else {
		copy(buf[:Size], b[:])
		copy(buf[Size:], a[:])
	}
	return sha256.Sum256(buf[:])
}

// Root returns the Merkle root of the hashes in order: neighbours are paired
// level by level and an unpaired last element is promoted unchanged. A list
// of one hash has that hash as its root. ok is false for an empty list,
// whose root QLDB defines as the empty hash (see [RootBytes]).
func Root(hashes []Hash) (root Hash, ok bool) {
	switch len(hashes) {
	case 0:
		return Hash{}, false
	case 1: // a block of one revision: no copy
		return hashes[0], true
	}
	level := append([]Hash(nil), hashes...)
	for len(level) > 1 {
		level = parentLevel(level)
	}
	return level[0], true
}

// parentLevel replaces a level of the tree with the level above it, in
// place: neighbours are combined with Dot, an unpaired last node is
// promoted.
func parentLevel(level []Hash) []Hash {
	next := level[:0]
	for i := 0; i < len(level); i += 2 {
		if i+1 < len(level) {
			next = append(next, Dot(level[i], level[i+1]))
		} else {
			next = append(next, level[i])
		}
	}
	return next
}

// Fold combines start with every proof element in order using Dot. It is the
// computation with which the official samples check a block or revision
// proof: the result must equal the digest.
func Fold(start Hash, proof []Hash) Hash {
	acc := start
	for _, p := range proof {
		acc = Dot(acc, p)
	}
	return acc
}

// DotBytes is Dot over byte slices with QLDB's identity rule: if either side
// is empty the other is returned unchanged. Both sides must otherwise be 32
// bytes.
func DotBytes(a, b []byte) ([]byte, error) {
	switch {
	case len(a) == 0:
		return b, nil
	case len(b) == 0:
		return a, nil
	}
	ha, err := HashFromBytes(a)
	if err != nil {
		return nil, err
	}
	hb, err := HashFromBytes(b)
	if err != nil {
		return nil, err
	}
	h := Dot(ha, hb)
	return h[:], nil
}

// RootBytes is Root over byte slices with QLDB's identity rule; the root of
// an empty list is the empty hash.
func RootBytes(hashes [][]byte) ([]byte, error) {
	level := append([][]byte(nil), hashes...)
	if len(level) == 0 {
		return []byte{}, nil
	}
	for len(level) > 1 {
		next := level[:0]
		for i := 0; i < len(level); i += 2 {
			if i+1 == len(level) {
				next = append(next, level[i])
				continue
			}
			h, err := DotBytes(level[i], level[i+1])
			if err != nil {
				return nil, err
			}
			next = append(next, h)
		}
		level = next
	}
	return level[0], nil
}

// FoldBytes is Fold over byte slices with QLDB's identity rule.
func FoldBytes(start []byte, proof [][]byte) ([]byte, error) {
	acc := start
	for i, p := range proof {
		next, err := DotBytes(acc, p)
		if err != nil {
			return nil, fmt.Errorf("merkle: proof element %d: %w", i, err)
		}
		acc = next
	}
	return acc, nil
}

func b64(b []byte) string {
	if len(b) == 0 {
		return "(empty)"
	}
	return base64.StdEncoding.EncodeToString(b)
}

// ListProof returns the siblings of hashes[index] on its way to Root(hashes),
// bottom-up, levels without a sibling skipped: the in-block part of a
// revision proof (revision to revisions root, revisions root to
// entriesHash). Folding hashes[index] with it gives Root(hashes).
func ListProof(hashes []Hash, index int) []Hash {
	if index < 0 || index >= len(hashes) {
		return nil
	}
	proof := make([]Hash, 0, 8)
	level := append([]Hash(nil), hashes...)
	for i := index; len(level) > 1; i /= 2 {
		switch {
		case i%2 == 1:
			proof = append(proof, level[i-1])
		case i+1 < len(level):
			proof = append(proof, level[i+1])
		}
		level = parentLevel(level)
	}
	return proof
}
