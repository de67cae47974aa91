package merkle

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

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
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	var out []Hash
	for _, part := range strings.Split(s, ",") {
		out = append(out, mustHash(t, strings.TrimSuffix(strings.TrimPrefix(part, "{{"), "}}")))
	}
	return out
}

// V1 of the spec: GetBlock and GetRevision of block 100 of ledger
// vehicle-registration (AWS CLI examples), tip 123.
var v1 = struct {
	entriesHashList                       []string
	entriesHash, previousBlockHash, block string
	revisionHash                          string
	blockProof, revisionProof             string
	digest                                string
}{
	entriesHashList: []string{
		"eRSwnmAM7WWANWDd5iGOyK+T4tDXyzUq6HZ/0fgLHos=",
		"mHVex/yjHAWjFPpwhBuH2GKXmKJjK2FBa9faqoUVNtg=",
		"y5cCBr7pOAIUfsVQ1j0TqtE97b4b4oo1R0vnYyE5wWM=",
		"TvTXygML1bMe6NvEZtGkX+KR+W/EJl4qD1mmV77KZQg=",
	},
	entriesHash:       "l05LOsiKV14SDbuaYnH7uwXzUvqzIwUiRLXGbTyj/nY=",
	previousBlockHash: "7kewBXhpdbClcZKxhVmpoMHpUGOJtWQD0iY2LPfZkYA=",
	block:             "NoChM92yKRuJAb/jeLd1VnYn4DHiWIf071ACfic9uHc=",
	revisionHash:      "mHVex/yjHAWjFPpwhBuH2GKXmKJjK2FBa9faqoUVNtg=",
	blockProof:        "[{{l3+EXs69K1+rehlqyWLkt+oHDlw4Zi9pCLW/t/mgTPM=}},{{48CXG3ehPqsxCYd34EEa8Fso0ORpWWAO8010RJKf3Do=}},{{9UnwnKSQT0i3ge1JMVa+tMIqCEDaOPTkWxmyHSn8UPQ=}},{{3nW6Vryghk+7pd6wFCtLufgPM6qXHyTNeCb1sCwcDaI=}},{{Irb5fNhBrNEQ1VPhzlnGT/ZQPadSmgfdtMYcwkNOxoI=}},{{+3CWpYG/ytf/vq9GidpzSx6JJiLXt1hMQWNnqOy3jfY=}},{{NPx6cRhwsiy5m9UEWS5JTJrZoUdO2jBOAAOmyZAT+qE=}}]",
	revisionProof:     "[{{eRSwnmAM7WWANWDd5iGOyK+T4tDXyzUq6HZ/0fgLHos=}},{{VV1rdaNuf+yJZVGlmsM6gr2T52QvBO8Lg+KgpjcnWAU=}},{{7kewBXhpdbClcZKxhVmpoMHpUGOJtWQD0iY2LPfZkYA=}},{{l3+EXs69K1+rehlqyWLkt+oHDlw4Zi9pCLW/t/mgTPM=}},{{48CXG3ehPqsxCYd34EEa8Fso0ORpWWAO8010RJKf3Do=}},{{9UnwnKSQT0i3ge1JMVa+tMIqCEDaOPTkWxmyHSn8UPQ=}},{{3nW6Vryghk+7pd6wFCtLufgPM6qXHyTNeCb1sCwcDaI=}},{{Irb5fNhBrNEQ1VPhzlnGT/ZQPadSmgfdtMYcwkNOxoI=}},{{+3CWpYG/ytf/vq9GidpzSx6JJiLXt1hMQWNnqOy3jfY=}},{{NPx6cRhwsiy5m9UEWS5JTJrZoUdO2jBOAAOmyZAT+qE=}}]",
	digest:            "6m6BMXobbJKpMhahwVthAEsN6awgnHK62Qq5McGP1Gk=",
}

func TestV1BlockAndRevisionProofsFoldToTheSameDigest(t *testing.T) {
	var ehl []Hash
	for _, s := range v1.entriesHashList {
		ehl = append(ehl, mustHash(t, s))
	}
	entries, ok := Root(ehl)
	require.True(t, ok)
	require.Equal(t, mustHash(t, v1.entriesHash), entries, "MR(entriesHashList)")
	require.Equal(t, "FcYGbPfJCvZcTmLD4AcZ2BGlLJX0P/mfzdkdsRKR1w0=", Dot(ehl[0], ehl[1]).String())
	require.Equal(t, "VV1rdaNuf+yJZVGlmsM6gr2T52QvBO8Lg+KgpjcnWAU=", Dot(ehl[2], ehl[3]).String())

	block := Dot(entries, mustHash(t, v1.previousBlockHash))
	require.Equal(t, mustHash(t, v1.block), block, "dot(entriesHash, previousBlockHash)")

	digest := mustHash(t, v1.digest)
	blockProof := parseProofText(t, v1.blockProof)
	require.Equal(t, digest, Fold(block, blockProof))
	revProof := parseProofText(t, v1.revisionProof)
	require.Equal(t, digest, Fold(mustHash(t, v1.revisionHash), revProof))
	// The revision proof climbs to the block hash, then continues with the
	// block proof (spec §3.7).
	require.Equal(t, block, Fold(mustHash(t, v1.revisionHash), revProof[:3]))
	require.Equal(t, blockProof, revProof[3:])
	// Block 100 of a tree of 124 leaves: the proof length the shape demands.
	require.NoError(t, VerifyInclusion(100, 124, block, blockProof, digest))
	var perr *ProofError
	require.ErrorAs(t, VerifyInclusion(100, 129, block, blockProof, digest), &perr)
}

func TestRealProofVectors(t *testing.T) {
	cases := []struct {
		name          string
		start, digest string
		proof         string
	}{
		{
			name:   "V3 keyvaluestore seq 90 tip 91",
			start:  "tS+8aK9q4O8z6UpmUc/XMYhQYo/qy2YDHC+mxKWKgvo=",
			proof:  "[{{G1/kFcc0BTpQMPtjymwxdXIqLct4XiBSW1bbRrRfWJo=}},{{s50Ex4gcOgimMf84bHwPQz2bJ9Gb/vj3wiPgQHCDrBs=}},{{ZaWBmeIAbFQbx8Gvn1ctyXye6YXpvKhQ0Wp139f54t8=}},{{thpqVHO8pIaIOfHcQSg+Pr8Ov833+4fTiADA2fj3+70=}},{{oovDHkBCwSG+LboyWcWzVqy2xCLCUEZBKU2jqKoMdSE=}},{{hthSOsAjMKF0sMfynt9YTuwpuXwP0c6rAb5pg0p44IA=}},{{+vWznEGRlfu/Kc4Q5AylVSuylJSqMtvO+hUpijHVZ0g=}},{{xNTTjhOCAFHnLOTDTeH7bMUt6dlvUDSaBIHYcFOyY3w=}},{{u1hrObLyR020Wv5e6vOPLTFNjjw8Mkbf0BvTQmA96QI=}}]",
			digest: "QDYY9bLz6v/PInJ6FrqPE0dalVYRealszt9DyyRDMA0=",
		},
		{
			name:   "V4 accord-contracts seq 175 tip 176",
			start:  "OJo1hlmyVvRHP60jGkIeG44+TDEI0Wtnf+udRfwKFHg=",
			proof:  "[{{kAQiHJo6G3r+l7O8nsHxz1x+NxvVV7JbU961OMVMFyM=}},{{poTwYxv3hKFziofD2u+SfvkPRUMXXcYOd4yj82wBhx4=}},{{m43BXjwJ8Kn9NyAGgai2A9S0/YCfAQfUBt6868mTqOY=}},{{m43BXjwJ8Kn9NyAGgai2A9S0/YCfAQfUBt6868mTqOY=}},{{d2vl/alHEi/4DDiQpSpCXWu9mFDUZyEqvlfGLDAG0dw=}},{{b6YqEUv7MMI3cF3cMF7lgBtikrPAhuF2kwVSUkW8Yh8=}},{{0L7AuMPEGEnmSPEsf5gHj5ryZ47vZZcDh9R9bm7RgvE=}},{{su0Jo/1rIhdHncfm7JRlz3Pv726oPZE4s8R8mvRLC5M=}},{{OBH12ldxb2NkK4M9Jw5JR4JFW5KeRhms9JDAfr4+WMM=}},{{LZgU0jltxUhzCisrM0kxg8FDjIpwCLrVHl0MYDUs9rE=}}]",
			digest: "jx1DMTXVkqdFaLdBHlpqG/13SLPlEKFcPlUrH/pWngE=",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start, digest := mustHash(t, tc.start), mustHash(t, tc.digest)
			proof := parseProofText(t, tc.proof)
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
