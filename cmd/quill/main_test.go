package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quilldb/quill/internal/qldbvectors"
	"github.com/stretchr/testify/require"
)

func runCmd(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(args, strings.NewReader(stdin), &out, io.Discard)
	return out.String(), err
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func TestVerifyQLDBRevisionAndBlockOffline(t *testing.T) {
	block := writeFile(t, "block.ion", qldbvectors.V1Block)
	proof := writeFile(t, "proof.ion", qldbvectors.V1BlockProof)
	out, err := runCmd(t, "", "verify-block", block, "-proof", proof, "-digest", qldbvectors.V1Digest)
	require.NoError(t, err)
	require.Contains(t, out, "block verified against digest")

	out, err = runCmd(t, "", "verify-block", block)
	require.NoError(t, err)
	require.Contains(t, out, "block hashes verified")

	// The revision of V1 from standard input, with its own proof.
	rev := qldbvectors.V1Block[strings.Index(qldbvectors.V1Block, "revisions:[")+len("revisions:[") : len(strings.TrimSpace(qldbvectors.V1Block))-2]
	revProof := writeFile(t, "rev-proof.ion", qldbvectors.V1RevisionProof)
	out, err = runCmd(t, rev, "verify-revision", "-", "-proof", revProof, "-digest", qldbvectors.V1Digest)
	require.NoError(t, err)
	require.Contains(t, out, "revision verified")

	_, err = runCmd(t, rev, "verify-revision", "-", "-proof", revProof, "-digest", "AAAA"+qldbvectors.V1Digest[4:])
	require.ErrorContains(t, err, "digest mismatch")
}

func TestHashAndID(t *testing.T) {
	out, err := runCmd(t, "", "hash", "[1,2,3] {a:1}")
	require.NoError(t, err)
	require.Equal(t, "MKWBdytbrYhTqVD1kmA/uN3mcWiyH+6Ctbq0rEmF39w=\n9dLZXBhGO047nlz32OFnKZ4xYnyCwVteC4Irg92txOs=\n", out)
	out, err = runCmd(t, "", "id")
	require.NoError(t, err)
	require.Len(t, strings.TrimSpace(out), 22)
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"nope"}, {"verify-revision", "x"}, {"verify-block"}, {"verify-chain"}} {
		_, err := runCmd(t, "", args...)
		require.ErrorIs(t, err, errUsage, "%v", args)
	}
}

func TestVerifyChainReportsTheBrokenBlock(t *testing.T) {
	// One real block is a chain of one; the same block twice is not a chain.
	f := writeFile(t, "export.ion", qldbvectors.V1Block)
	out, err := runCmd(t, "", "verify-chain", f)
	require.NoError(t, err)
	require.Contains(t, out, "chain of 1 blocks verified")
	_, err = runCmd(t, "", "verify-chain", f, f)
	require.ErrorContains(t, err, "block KmA3ZZca7vAIiJAK9S5Iwl/100: chain")
}

func TestDemoLedgersAndVerifyOnADataDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	out, err := runCmd(t, "", "demo", "-data", dir)
	require.NoError(t, err)
	require.Contains(t, out, "verified: the revision's hash folded with the proof gives the digest")
	out, err = runCmd(t, "", "ledgers", "-data", dir)
	require.NoError(t, err)
	require.Contains(t, out, "vehicle-registration")
	require.Contains(t, out, "ACTIVE")
	out, err = runCmd(t, "", "verify", "-data", dir)
	require.NoError(t, err)
	require.Contains(t, out, "vehicle-registration: 4 blocks and")
	_, err = runCmd(t, "", "verify", "-data", dir, "-ledger", "nope")
	require.ErrorContains(t, err, "not found")
}

func TestBenchSmoke(t *testing.T) {
	dir := t.TempDir()
	jsonFile, linesFile := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.txt")
	out, err := runCmd(t, "", "bench", "commit", "-smoke", "-dir", dir, "-json", jsonFile, "-benchstat", linesFile, "-svg", dir)
	require.NoError(t, err)
	require.Contains(t, out, "vs quill")
	require.Contains(t, out, "commit-throughput.svg")
	lines, err := os.ReadFile(linesFile)
	require.NoError(t, err)
	require.Contains(t, string(lines), "BenchmarkCommit/engine=pebble/clients=1-")
	_, err = os.Stat(jsonFile)
	require.NoError(t, err)
	_, err = runCmd(t, "", "bench")
	require.ErrorIs(t, err, errUsage)
	_, err = runCmd(t, "", "bench", "commit", "-clients", "0")
	require.ErrorIs(t, err, errUsage)
}
