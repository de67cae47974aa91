package merkle

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// fuzzTree is a fixed tree the verifier fuzz tests prove against.
var fuzzTree = newMemTree(300)

// decodeEdit turns fuzz bytes into (index, size, edits to a proof).
func decodeEdit(data []byte) (index, size uint64, edits []byte) {
	if len(data) < 4 {
		return 0, 1, nil
	}
	size = uint64(binary.BigEndian.Uint16(data[0:2]))%uint64(len(fuzzTree.leaves)) + 1
	index = uint64(binary.BigEndian.Uint16(data[2:4])) % size
	return index, size, data[4:]
}

// applyEdits changes a proof as the fuzzer says: each 3-byte edit picks an
// element, a byte and an xor mask; a 0xff element number truncates or
// extends the proof instead.
func applyEdits(proof []Hash, edits []byte) []Hash {
	out := append([]Hash(nil), proof...)
	for len(edits) >= 3 {
		e, b, mask := edits[0], edits[1], edits[2]
		edits = edits[3:]
		switch {
		case e == 0xff && len(out) > 0 && mask%2 == 0:
			out = out[:len(out)-1]
		case e == 0xff:
			out = append(out, leafHash(uint64(b)))
		case len(out) > 0:
			out[int(e)%len(out)][int(b)%Size] ^= mask
		}
	}
	return out
}

func FuzzVerifyInclusion(f *testing.F) {
	f.Add([]byte{0, 9, 0, 4})
	f.Add([]byte{1, 0, 0, 99, 0, 3, 0x80})
	f.Add([]byte{0, 200, 0, 7, 0xff, 1, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		index, size, edits := decodeEdit(data)
		proof, err := InclusionProof(index, size, fuzzTree.get)
		require.NoError(t, err)
		root, err := RootAt(size, fuzzTree.get)
		require.NoError(t, err)
		tampered := applyEdits(proof, edits)
		err = VerifyInclusion(index, size, fuzzTree.leaves[index], tampered, root)
		if equalHashes(tampered, proof) {
			require.NoError(t, err)
			return
		}
		var mismatch *RootMismatchError
		var perr *ProofError
		require.True(t, errors.As(err, &mismatch) || errors.As(err, &perr), "tampered proof accepted: %v", err)
	})
}

func FuzzVerifyConsistency(f *testing.F) {
	f.Add([]byte{0, 9, 0, 4})
	f.Add([]byte{1, 0, 0, 64, 1, 2, 3})
	f.Add([]byte{0, 255, 0, 1, 0xff, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		size1, size2, edits := decodeEdit(data)
		size1++ // 1..size2
		proof, err := ConsistencyProof(size1, size2, fuzzTree.get)
		require.NoError(t, err)
		root1, err := RootAt(size1, fuzzTree.get)
		require.NoError(t, err)
		root2, err := RootAt(size2, fuzzTree.get)
		require.NoError(t, err)
		tampered := applyEdits(proof, edits)
		err = VerifyConsistency(size1, size2, root1, root2, tampered)
		if equalHashes(tampered, proof) {
			require.NoError(t, err)
			return
		}
		require.Error(t, err, "tampered consistency proof %d -> %d accepted", size1, size2)
	})
}

// FuzzFoldBytes feeds arbitrary byte strings, as a decoded foreign proof
// would be, to the byte-slice verifier: it must never panic, and must
// reject every element that is neither empty nor 32 bytes.
func FuzzFoldBytes(f *testing.F) {
	f.Add([]byte{32, 0, 5})
	f.Add(make([]byte, 70))
	f.Fuzz(func(t *testing.T, data []byte) {
		var parts [][]byte
		for len(data) > 0 {
			n := min(int(data[0]), len(data)-1)
			parts = append(parts, data[1:1+n])
			data = data[1+n:]
		}
		if len(parts) == 0 {
			return
		}
		start, proof := parts[0], parts[1:]
		_, err := FoldBytes(start, proof)
		bad := false
		acc := len(start)
		for _, p := range proof {
			if acc != 0 && len(p) != 0 && (acc != Size || len(p) != Size) {
				bad = true
				break
			}
			acc = max(acc, len(p))
		}
		if bad {
			require.Error(t, err)
		} else {
			require.NoError(t, err)
		}
	})
}

func equalHashes(a, b []Hash) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
