package merkle

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/quilldb/quill/internal/qldbvectors"
	"github.com/stretchr/testify/require"
)

func mustHash(t testing.TB, s string) Hash {
	t.Helper()
	h, err := ParseHash(s)
	require.NoError(t, err)
	return h
}

// parseProofText reads the Ion text proof format [{{b64}},{{b64}}] that QLDB
// returns; only blobs occur in it, so a split is enough for these vectors.
func parseProofText(t testing.TB, s string) []Hash {
	t.Helper()
	s = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "["), "]")
	var out []Hash
	for _, part := range strings.Split(s, ",") {
		out = append(out, mustHash(t, strings.TrimSuffix(strings.TrimPrefix(part, "{{"), "}}")))
	}
	return out
}

// v1EntriesHashList is the entriesHashList of the V1 block.
var v1EntriesHashList = []string{
	"eRSwnmAM7WWANWDd5iGOyK+T4tDXyzUq6HZ/0fgLHos=",
	"mHVex/yjHAWjFPpwhBuH2GKXmKJjK2FBa9faqoUVNtg=",
	"y5cCBr7pOAIUfsVQ1j0TqtE97b4b4oo1R0vnYyE5wWM=",
	"TvTXygML1bMe6NvEZtGkX+KR+W/EJl4qD1mmV77KZQg=",
}

func TestV1BlockAndRevisionProofsFoldToTheSameDigest(t *testing.T) {
	var ehl []Hash
	for _, s := range v1EntriesHashList {
		ehl = append(ehl, mustHash(t, s))
	}
	entries, ok := Root(ehl)
	require.True(t, ok)
	require.Equal(t, mustHash(t, qldbvectors.V1EntriesHash), entries, "MR(entriesHashList)")
	require.Equal(t, "FcYGbPfJCvZcTmLD4AcZ2BGlLJX0P/mfzdkdsRKR1w0=", Dot(ehl[0], ehl[1]).String())
	require.Equal(t, "VV1rdaNuf+yJZVGlmsM6gr2T52QvBO8Lg+KgpjcnWAU=", Dot(ehl[2], ehl[3]).String())

	block := Dot(entries, mustHash(t, qldbvectors.V1PreviousBlockHash))
	require.Equal(t, mustHash(t, qldbvectors.V1BlockHash), block, "dot(entriesHash, previousBlockHash)")

	digest := mustHash(t, qldbvectors.V1Digest)
	blockProof := parseProofText(t, qldbvectors.V1BlockProof)
	require.Equal(t, digest, Fold(block, blockProof))
	revProof := parseProofText(t, qldbvectors.V1RevisionProof)
	require.Equal(t, digest, Fold(mustHash(t, qldbvectors.V1RevisionHash), revProof))
	// The revision proof climbs to the block hash, then continues with the
	// block proof (spec §3.7).
	require.Equal(t, block, Fold(mustHash(t, qldbvectors.V1RevisionHash), revProof[:3]))
	require.Equal(t, blockProof, revProof[3:])
	// Block 100 of a tree of 124 leaves: the proof length the shape demands.
	require.NoError(t, VerifyInclusion(100, 124, block, blockProof, digest))
	var perr *ProofError
	require.ErrorAs(t, VerifyInclusion(100, 129, block, blockProof, digest), &perr)
}

func TestRealProofVectors(t *testing.T) {
	for _, tc := range qldbvectors.RevisionProofs {
		t.Run(tc.Name, func(t *testing.T) {
			start, digest := mustHash(t, tc.Start), mustHash(t, tc.Digest)
			proof := parseProofText(t, tc.Proof)
			require.Equal(t, digest, Fold(start, proof))
			require.NoError(t, VerifyProofBytes(start[:], hashesToBytes(proof), digest[:]))

			// The samples' negative checks: flip one bit of the hash, of
			// the digest, or of any proof element, and the proof must fail.
			var mismatch *RootMismatchError
			for bit := 0; bit < 8*Size; bit += 37 {
				bad := start
				bad[bit/8] ^= 1 << (bit % 8)
				require.ErrorAs(t, VerifyProofBytes(bad[:], hashesToBytes(proof), digest[:]), &mismatch)
				badDigest := digest
				badDigest[bit/8] ^= 1 << (bit % 8)
				require.ErrorAs(t, VerifyProofBytes(start[:], hashesToBytes(proof), badDigest[:]), &mismatch)
			}
			for i := range proof {
				bad := append([]Hash(nil), proof...)
				bad[i][i%Size] ^= 0x10
				require.ErrorAs(t, VerifyProofBytes(start[:], hashesToBytes(bad), digest[:]), &mismatch, "element %d", i)
			}
		})
	}
}

func (h Hash) bytes() []byte { return h[:] }

func hashesToBytes(hs []Hash) [][]byte {
	out := make([][]byte, len(hs))
	for i := range hs {
		out[i] = hs[i][:]
	}
	return out
}

func TestV2EntriesAndBlockHash(t *testing.T) {
	ehl := []Hash{
		mustHash(t, "LmcGQjLlfScQQxbzaoglEpXpeN9bp7I/QUk690ncEpk="),
		mustHash(t, "vJFOcsNRM14gsIBSEnwPhMVgRAWf/4EUW5gPYbtmDv0="),
		mustHash(t, "KXJrG8t/KePERHasyztlv4kZPol4Q2buhWmy7iJrsiY="),
		mustHash(t, "Lz3XWBwtWyBA/Lhj+UoLhbajPQ8Mk9N4j0HJlrm2OTg="),
	}
	entries, _ := Root(ehl)
	require.Equal(t, "RNGQGcOKCGLCo5S+hs1eboanNrocIzRiqzzq1s99G/Q=", entries.String())
	block := Dot(entries, mustHash(t, "pV28aszpqJH9LOO9oMsACDmXfdzdEW7HYxzuQVIjSDU="))
	require.Equal(t, "lu425dAWsmvzxuNHTbn4ID4mLo0bWKkjLP2Uel4wrPQ=", block.String())
}

func TestDotOrdersBySignedBytesFromTheLastByte(t *testing.T) {
	var a, b Hash
	a[31], b[31] = 0x7f, 0x80 // 127 vs -128: b is smaller although larger unsigned
	a[0], b[0] = 0x00, 0xff   // the first byte must not decide
	want := sha256.Sum256(append(b.bytes(), a.bytes()...))
	require.Equal(t, Hash(want), Dot(a, b))
	require.Equal(t, Hash(want), Dot(b, a))

	// Equal hashes: either order gives the same bytes.
	same := sha256.Sum256(append(a.bytes(), a.bytes()...))
	require.Equal(t, Hash(same), Dot(a, a))
}

func TestBytesFormsApplyTheEmptyIdentity(t *testing.T) {
	h := leafHash(7)
	got, err := DotBytes(nil, h[:])
	require.NoError(t, err)
	require.Equal(t, h[:], got)
	got, err = DotBytes(h[:], []byte{})
	require.NoError(t, err)
	require.Equal(t, h[:], got)
	_, err = DotBytes(h[:], []byte{1, 2, 3})
	require.ErrorContains(t, err, "3 bytes")

	root, err := RootBytes(nil)
	require.NoError(t, err)
	require.Empty(t, root)
	root, err = RootBytes([][]byte{h[:], nil, h[:]})
	require.NoError(t, err)
	require.Equal(t, Dot(h, h).bytes(), root)

	_, err = FoldBytes(h[:], [][]byte{h[:], {9}})
	require.ErrorContains(t, err, "proof element 1")
}

func TestParseHash(t *testing.T) {
	h := leafHash(3)
	got, err := ParseHash(base64.StdEncoding.EncodeToString(h[:]))
	require.NoError(t, err)
	require.Equal(t, h, got)
	require.Equal(t, h.String(), got.String())
	require.Len(t, got.Hex(), 64)
	_, err = ParseHash("not base64!")
	require.ErrorContains(t, err, "not base64")
	_, err = ParseHash(base64.StdEncoding.EncodeToString([]byte("short")))
	require.ErrorContains(t, err, "5 bytes")
}
