package verify

import (
	"encoding/base64"
	"errors"
	"testing"

	"github.com/quilldb/quill/internal/qldbvectors"
	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/merkle"
	"github.com/stretchr/testify/require"
)

func mustParse(t *testing.T, text string) ion.Value {
	t.Helper()
	v, err := ion.ParseText(text)
	require.NoError(t, err)
	return v
}

func b64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	require.NoError(t, err)
	return b
}

// replace rewrites one field of a struct (the first with that name).
func replace(v ion.Value, name string, nv ion.Value) ion.Value {
	fields := append([]ion.Field(nil), v.Fields()...)
	for i := range fields {
		if s, _ := fields[i].Name.Text(); s == name {
			fields[i].Value = nv
			break
		}
	}
	return ion.Struct(fields...).WithAnnotations(v.Annotations()...)
}

func v1(t *testing.T) (block, revision ion.Value) {
	block = mustParse(t, qldbvectors.V1Block)
	revs, _ := block.Get("revisions")
	return block, revs.Index(0)
}

func TestV1BlockAndRevisionVerify(t *testing.T) {
	block, rev := v1(t)
	require.NoError(t, Block(block))
	require.NoError(t, Revision(rev))
	h, ok, err := RevisionHash(rev)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, qldbvectors.V1RevisionHash, base64.StdEncoding.EncodeToString(h))

	digest := b64(t, qldbvectors.V1Digest)
	revProof, err := ParseProof([]byte(qldbvectors.V1RevisionProof))
	require.NoError(t, err)
	require.NoError(t, RevisionAgainstDigest(rev, revProof, digest))
	blockProof, err := ParseProof([]byte(qldbvectors.V1BlockProof))
	require.NoError(t, err)
	require.NoError(t, BlockAgainstDigest(block, blockProof, digest))

	// A revision proof is not a block proof.
	var mismatch *merkle.RootMismatchError
	require.ErrorAs(t, BlockAgainstDigest(block, revProof, digest), &mismatch)
}

func TestV2BlockSummaryAndV6RevisionVerify(t *testing.T) {
	require.NoError(t, Block(mustParse(t, qldbvectors.V2BlockSummary)))
	require.NoError(t, Revision(mustParse(t, qldbvectors.V6Revision)))

	// The V2 revision recovered from its statement has the summary's hash;
	// the sample authors' edited copy does not.
	rev := func(data string) ion.Value {
		return ion.Struct(
			ion.F("hash", ion.Blob(b64(t, qldbvectors.V2RevisionHash))),
			ion.F("data", mustParse(t, data)),
			ion.F("metadata", mustParse(t, qldbvectors.V2RevisionMetadata)))
	}
	require.NoError(t, Revision(rev(qldbvectors.V2RevisionData)))
	var mismatch *merkle.RootMismatchError
	require.ErrorAs(t, Revision(rev(qldbvectors.V2EditedData)), &mismatch)
}

func TestTamperedV1IsCaughtWithTheFailingCheck(t *testing.T) {
	block, rev := v1(t)
	flip := func(b []byte) ion.Value {
		c := append([]byte(nil), b...)
		c[5] ^= 0x01
		return ion.Blob(c)
	}
	blockHash, _, _ := blob(block, "blockHash")
	entriesHash, _, _ := blob(block, "entriesHash")
	prevHash, _, _ := blob(block, "previousBlockHash")
	data, _ := rev.Get("data")
	tamperedRev := replace(rev, "data", replace(data, "City", ion.String("Seattle")))
	txInfo, _ := block.Get("transactionInfo")

	cases := []struct {
		name  string
		block ion.Value
		check string
	}{
		{"blockHash flipped", replace(block, "blockHash", flip(blockHash)), "blockHash"},
		{"previousBlockHash flipped", replace(block, "previousBlockHash", flip(prevHash)), "blockHash"},
		{"entriesHash flipped", replace(block, "entriesHash", flip(entriesHash)), "entriesHash"},
		{"revision data changed", replace(block, "revisions", ion.List(tamperedRev)), "revision hash"},
		{"statement changed", replace(block, "transactionInfo", replace(txInfo, "documents", ion.Struct())), "transactionInfo"},
		{"blockHash not a blob", replace(block, "blockHash", ion.String("x")), "block"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Block(c.block)
			var verr *Error
			require.ErrorAs(t, err, &verr)
			require.Equal(t, c.check, verr.Check, "%v", err)
			require.Equal(t, int64(100), verr.SequenceNo)
			require.Equal(t, "KmA3ZZca7vAIiJAK9S5Iwl", verr.StrandID)
			require.Contains(t, err.Error(), "block KmA3ZZca7vAIiJAK9S5Iwl/100")
		})
	}
	err := Revision(tamperedRev)
	var mismatch *merkle.RootMismatchError
	require.ErrorAs(t, err, &mismatch)
	require.Equal(t, b64(t, qldbvectors.V1RevisionHash), mismatch.Expected)
	require.Contains(t, err.Error(), "document JUJgkIcNbhS2goq8RqLuZ4")
}

func TestParseProofRejectsNonBlobs(t *testing.T) {
	_, err := ParseProof([]byte(`[{{AQID}}, "x"]`))
	require.ErrorContains(t, err, "element 1 is string")
	_, err = ParseProof([]byte(`{a:1}`))
	require.ErrorContains(t, err, "a proof is a list")
	p, err := ParseProof([]byte(`[ {{AQID}} ]`))
	require.NoError(t, err)
	require.Equal(t, [][]byte{{1, 2, 3}}, p)
}

// chainBuilder makes a small valid journal the way Quill's journal lays
// blocks out, so that Chain has consecutive blocks to check (the real
// vectors are single blocks).
type chainBuilder struct {
	strand string
	prev   merkle.Hash
	seq    int64
}

func (c *chainBuilder) next(t *testing.T, docs ...string) ion.Value {
	t.Helper()
	addr := ion.Struct(ion.F("strandId", ion.String(c.strand)), ion.F("sequenceNo", ion.Int(c.seq)))
	txID := ion.NewID()
	var revs []ion.Value
	var revHashes []merkle.Hash
	for _, d := range docs {
		meta := ion.Struct(ion.F("id", ion.String(ion.NewID())), ion.F("version", ion.Int(0)),
			ion.F("txTime", mustParse(t, "2024-01-02T03:04:05.006Z")), ion.F("txId", ion.String(txID)))
		data := mustParse(t, d)
		h := merkle.Dot(ion.Hash(meta), ion.Hash(data))
		revHashes = append(revHashes, h)
		revs = append(revs, ion.Struct(ion.F("blockAddress", addr), ion.F("hash", ion.Blob(h[:])),
			ion.F("data", data), ion.F("metadata", meta)))
	}
	txInfo := ion.Struct(ion.F("statements", ion.List()))
	revRoot, _ := merkle.Root(revHashes)
	entries := []merkle.Hash{revRoot, ion.Hash(txInfo)}
	entriesHash, _ := merkle.Root(entries)
	blockHash := merkle.Dot(entriesHash, c.prev)
	block := ion.Struct(
		ion.F("blockAddress", addr),
		ion.F("transactionId", ion.String(txID)),
		ion.F("blockTimestamp", mustParse(t, "2024-01-02T03:04:05.007Z")),
		ion.F("blockHash", ion.Blob(blockHash[:])),
		ion.F("entriesHash", ion.Blob(entriesHash[:])),
		ion.F("previousBlockHash", ion.Blob(c.prev[:])),
		ion.F("entriesHashList", ion.List(ion.Blob(revRoot[:]), ion.Blob(entries[1][:]))),
		ion.F("transactionInfo", txInfo),
		ion.F("revisions", ion.List(revs...)))
	c.prev = blockHash
	c.seq++
	return block
}

func TestChain(t *testing.T) {
	c := &chainBuilder{strand: ion.NewID()}
	var blocks []ion.Value
	for range 6 {
		blocks = append(blocks, c.next(t, `{a:1}`, `{b:"x"}`))
	}
	require.NoError(t, Chain(blocks))
	// Order does not matter: an export reader may see blocks out of order.
	shuffled := []ion.Value{blocks[3], blocks[0], blocks[5], blocks[1], blocks[4], blocks[2]}
	require.NoError(t, Chain(shuffled))

	var verr *Error
	err := Chain([]ion.Value{blocks[0], blocks[1], blocks[3]})
	require.ErrorAs(t, err, &verr)
	require.Equal(t, "chain", verr.Check)
	require.Equal(t, int64(3), verr.SequenceNo)

	// A block from another journal with the right sequence number breaks
	// the link.
	other := &chainBuilder{strand: c.strand, seq: 2}
	err = Chain([]ion.Value{blocks[0], blocks[1], other.next(t, `{a:1}`)})
	require.ErrorAs(t, err, &verr)
	var mismatch *merkle.RootMismatchError
	require.True(t, errors.As(err, &mismatch))
	require.Equal(t, "previousBlockHash", mismatch.What)
}

func TestDeletedAndRedactedRevisions(t *testing.T) {
	meta := mustParse(t, `{id:"JUJgkIcNbhS2goq8RqLuZ4",version:4,txTime:2019-09-16T19:37:05.344Z,txId:"FnQeJBAicTX0Ah32ZnVtSX"}`)
	metaHash := ion.Hash(meta)
	deleted := ion.Struct(ion.F("hash", ion.Blob(metaHash[:])), ion.F("metadata", meta))
	require.NoError(t, Revision(deleted), "a deleted revision hashes as H(metadata)")

	data := mustParse(t, `{secret:"x"}`)
	dataHash := ion.Hash(data)
	full := merkle.Dot(metaHash, dataHash)
	redacted := ion.Struct(ion.F("hash", ion.Blob(full[:])), ion.F("dataHash", ion.Blob(dataHash[:])), ion.F("metadata", meta))
	require.NoError(t, Revision(redacted), "a redacted revision keeps its hash")
	both := ion.Struct(ion.F("hash", ion.Blob(full[:])), ion.F("data", data), ion.F("dataHash", ion.Blob(dataHash[:])), ion.F("metadata", meta))
	require.ErrorContains(t, Revision(both), "both data and dataHash")
	system := ion.Struct(ion.F("hash", ion.Blob(full[:])))
	require.NoError(t, Revision(system))
}
