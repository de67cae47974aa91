package ion

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/quilldb/quill/internal/qldbvectors"
	"github.com/stretchr/testify/require"
)

func b64Hash(v Value) string {
	h := Hash(v)
	return base64.StdEncoding.EncodeToString(h[:])
}

func mustParse(t *testing.T, text string) Value {
	t.Helper()
	v, err := ParseText(text)
	require.NoError(t, err, "parse %q", text)
	return v
}

func field(t *testing.T, v Value, path ...string) Value {
	t.Helper()
	for _, name := range path {
		next, ok := v.Get(name)
		require.True(t, ok, "field %s missing", name)
		v = next
	}
	return v
}

// TestQLDBTextRoundTripsExactly: QLDB's own Ion text, parsed and printed
// again, through text and through binary, is the same bytes.
func TestQLDBTextRoundTripsExactly(t *testing.T) {
	for name, text := range map[string]string{
		"V1 block":         qldbvectors.V1Block,
		"V1 block proof":   qldbvectors.V1BlockProof,
		"V2 block summary": qldbvectors.V2BlockSummary,
		"V6 revision":      qldbvectors.V6Revision,
	} {
		t.Run(name, func(t *testing.T) {
			want := strings.TrimSpace(text)
			v := mustParse(t, want)
			require.Equal(t, want, v.String())
			bin, err := MarshalBinary(v)
			require.NoError(t, err)
			fromBin, err := Parse(bin)
			require.NoError(t, err)
			require.Equal(t, want, fromBin.String())
			require.True(t, Equal(v, fromBin))
		})
	}
}

func TestV1Hashes(t *testing.T) {
	block := mustParse(t, qldbvectors.V1Block)
	rev := field(t, block, "revisions").Index(0)
	require.Equal(t, qldbvectors.V1MetadataHash, b64Hash(field(t, rev, "metadata")))
	require.Equal(t, qldbvectors.V1DataHash, b64Hash(field(t, rev, "data")))
	txInfo := field(t, block, "transactionInfo")
	require.Equal(t, qldbvectors.V1TransactionInfo, b64Hash(txInfo))
	stmt := field(t, txInfo, "statements").Index(0)
	require.Equal(t, qldbvectors.V1StatementDigest, b64Hash(field(t, stmt, "statement")))
}

func TestV2AndV6RevisionHashes(t *testing.T) {
	require.Equal(t, qldbvectors.V2MetadataHash, b64Hash(mustParse(t, qldbvectors.V2RevisionMetadata)))
	require.Equal(t, qldbvectors.V2DataHash, b64Hash(mustParse(t, qldbvectors.V2RevisionData)))
	require.NotEqual(t, qldbvectors.V2DataHash, b64Hash(mustParse(t, qldbvectors.V2EditedData)))

	summary := mustParse(t, qldbvectors.V2BlockSummary)
	txInfo := field(t, summary, "transactionInfo")
	stmt := field(t, txInfo, "statements").Index(0)
	require.Equal(t, mustBlob(t, field(t, stmt, "statementDigest")), hashBytes(field(t, stmt, "statement")))
	require.Equal(t, mustBlob(t, field(t, summary, "entriesHashList").Index(3)), hashBytes(txInfo))

	rev := mustParse(t, qldbvectors.V6Revision)
	require.Equal(t, qldbvectors.V6MetadataHash, b64Hash(field(t, rev, "metadata")))
	require.Equal(t, qldbvectors.V6DataHash, b64Hash(field(t, rev, "data")))
}

func hashBytes(v Value) []byte {
	h := Hash(v)
	return h[:]
}

func mustBlob(t *testing.T, v Value) []byte {
	t.Helper()
	require.Equal(t, BlobType, v.Type())
	return v.Bytes()
}

// TestSpecScalarHashes is the table of spec §3.1: pre-images and SHA-256
// hashes computed with ion-hash-js.
func TestSpecScalarHashes(t *testing.T) {
	cases := []struct{ text, preimage, sha256 string }{
		{"2019-09-16T19:37:05.344Z", "0b60800fe3899093a585c301580e", "dgCFTY2YTWS96SeQWRY4/Gj8fifd3LsiiknOpOOOr0g="},
		{"2019-09-16T19:37:05.344-00:00", "0b60c00fe3899093a585c301580e", "bjWZhGzpsLkfd+oU95XESieUZyo8zQ/+29PqQeOdUYw="},
		{"2019-09-16T19:37:05Z", "0b60800fe3899093a5850e", "uvXcfHvyFaV0ktmApKGoqdpjTgRwf8oGRLWj89duIyI="},
		{"2017-08-21", "0b60c00fe188950e", "3YfTv2A6M89kbpEJWTJTgjXdIfmscoE+T2dx149M6no="},
		{`"JUJgkIcNbhS2goq8RqLuZ4"`, "0b804a554a676b49634e62685332676f713852714c755a340e", "R3NCI8EqVac9/3ukpv9zCaXHcPRx528I5y/Ps8ZAG1o="},
		{"3", "0b20030e", "UXiwNKFk49thAeWHg1CykHlQA9346LlXK4s+CF0T2YU="},
		{"0", "0b200e", "o8fe+Xs1s/s020aC//AC09o5NwEb03IpR/UqqUuNWTE="},
		{"-1", "0b30010e", "5fdUx3sJ9iaXki239gLFdUsCG5Fgyvjbf1ig8+XGung="},
		{"100", "0b20640e", "RIsn+HlVuZDQD+8Yh0ciG4KutlxibH04cylLMJvuKHw="},
		{"90.25", "0b50c223410e", "ilnxQ0EnbA7/KgP6b7AYTYkHyWSpsK3eSLUKVXfWGsM="},
		{"{{AQID}}", "0ba00102030e", "vEjQundMmJikKjZyfC8rE2ExZxG4HWx+izLWpqODGEg="},
		{"null", "0b0f0e", "D7BrYYPCE3lSn91F1q9KunMaxvCB755sHJSx+yYXcwQ="},
		{"true", "0b110e", "zuVEmdXzYrJy+9juZID/VHptxOLZ4SczRZ+CDnAwUBc="},
		{"null.string", "0b8f0e", "pUq/6fw59atEroBBKtS51wD5kgXcIAgVOh0onvbXMPw="},
		{`""`, "0b800e", "N7blrvIkKdRDOeJ4b5zNq3Fb9PrID26GDU55uWRiHdQ="},
		{"sym", "0b7073796d0e", "7yjCfPWLHNnGoXk6cVf89dA38WK7t5eznMReNylnDmo="},
		{"[0]", "0bb00b200e0e", "xCpimI02SfbXtoc9j7g6ZYmF9sWH4autF9q6YdfLxN0="},
		{"{}", "0bd00e", "3D/45VDIMyNrvuktFjdiaYt7C3tooa8bBgJDWAdBt6Y="},
		{"{a:1}", "", "9dLZXBhGO047nlz32OFnKZ4xYnyCwVteC4Irg92txOs="},
		// environment.md §1 and §6 (hex there), cross-checked with ion-hash-js.
		{"[1,2,3]", "", "MKWBdytbrYhTqVD1kmA/uN3mcWiyH+6Ctbq0rEmF39w="},
		{`{a:1,b:"x"}`, "", "PC+tZ4g8dGlzUGzDSBG5fkQxTgITsZp2uIbGWzLTFgU="},
		{`ann::{id:"x",count:3}`, "", "YsQBbZlbYpEAPK7ynUaFm0s3IUmPZaaJdcY5ObymhPg="},
	}
	for _, c := range cases {
		v := mustParse(t, c.text)
		if c.preimage != "" {
			got := (&hasher{digest: identityDigest}).preimage(v)
			require.Equal(t, c.preimage, hexString(got), "pre-image of %s", c.text)
		}
		require.Equal(t, c.sha256, b64Hash(v), "hash of %s", c.text)
	}
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&0x0f])
	}
	return string(out)
}
