package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quilldb/quill"
	"github.com/quilldb/quill/internal/qldbvectors"
	"github.com/quilldb/quill/journal"
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
	_, err = runCmd(t, "", "bench", "commit", "-dir", filepath.Join(dir, "missing"))
	require.ErrorIs(t, err, errUsage)
	require.ErrorContains(t, err, "-dir")
	_, err = runCmd(t, "", "bench", "commit", "-warmup", "-1s")
	require.ErrorIs(t, err, errUsage)
	require.ErrorContains(t, err, "-warmup")
}

func TestEveryCommandAnswersHelp(t *testing.T) {
	for _, cmd := range []string{"serve", "demo", "ledgers", "verify", "export", "tail", "tables", "export-table", "hash", "id", "version",
		"verify-block", "verify-revision", "verify-chain", "query", "shell", "bench"} {
		for _, flag := range []string{"-h", "--help"} {
			out, err := runCmd(t, "", cmd, flag)
			require.NoError(t, err, "%s %s", cmd, flag)
			require.True(t, strings.HasPrefix(out, "usage: quill "+cmd), "%s %s printed %q", cmd, flag, out)
		}
	}
	out, err := runCmd(t, "", "bench", "commit", "-h")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(out, "usage: quill bench commit [flags]"), "bench commit -h printed %q", out)
	out, err = runCmd(t, "", "help")
	require.NoError(t, err)
	require.Contains(t, out, "verify-revision")
}

func TestVersion(t *testing.T) {
	out, err := runCmd(t, "", "version")
	require.NoError(t, err)
	require.Regexp(t, `^quill \S+ \(go1\.`, out)
}

func TestFlagsBeforeOrAfterFiles(t *testing.T) {
	block := writeFile(t, "block.ion", qldbvectors.V1Block)
	proof := writeFile(t, "proof.ion", qldbvectors.V1BlockProof)
	for _, args := range [][]string{
		{"verify-block", block, "-proof", proof, "-digest", qldbvectors.V1Digest},
		{"verify-block", "-proof", proof, "-digest", qldbvectors.V1Digest, block},
		{"verify-block", "-proof", proof, block, "-digest", qldbvectors.V1Digest},
	} {
		out, err := runCmd(t, "", args...)
		require.NoError(t, err, "%v", args)
		require.Contains(t, out, "block verified against digest")
	}
}

func TestVerifyReadsTheAWSCLIsJSON(t *testing.T) {
	// What `aws qldb get-revision ... > rev.json` and `aws qldb get-digest`
	// print, built from the V1 vectors.
	rev := qldbvectors.V1Block[strings.Index(qldbvectors.V1Block, "revisions:[")+len("revisions:[") : len(strings.TrimSpace(qldbvectors.V1Block))-2]
	j := func(v any) string {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		return string(b)
	}
	revJSON := writeFile(t, "rev.json", j(map[string]any{
		"Revision": map[string]string{"IonText": rev},
		"Proof":    map[string]string{"IonText": qldbvectors.V1RevisionProof}}))
	blockJSON := writeFile(t, "block.json", j(map[string]any{
		"Block": map[string]string{"IonText": qldbvectors.V1Block},
		"Proof": map[string]string{"IonText": qldbvectors.V1BlockProof}}))
	digestJSON := writeFile(t, "digest.json", j(map[string]any{
		"Digest": qldbvectors.V1Digest, "DigestTipAddress": map[string]string{"IonText": "{strandId:\"x\",sequenceNo:1}"}}))
	out, err := runCmd(t, "", "verify-revision", revJSON, "-digest", digestJSON)
	require.NoError(t, err)
	require.Contains(t, out, "revision verified against digest "+qldbvectors.V1Digest)
	out, err = runCmd(t, "", "verify-block", blockJSON, "-digest", qldbvectors.V1Digest)
	require.NoError(t, err)
	require.Contains(t, out, "block verified")
	_, err = runCmd(t, "", "verify-revision", blockJSON, "-digest", digestJSON)
	require.ErrorContains(t, err, "without a Revision member")
	_, err = runCmd(t, "", "verify-revision", revJSON, "-digest", "nope.json")
	require.ErrorContains(t, err, "neither a base64 32-byte digest nor a readable file")
}

func TestReadOnlyCommandsNeedAStoreAndCreateNothing(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "mistyped")
	for _, cmd := range []string{"ledgers", "verify"} {
		_, err := runCmd(t, "", cmd, "-data", missing)
		require.ErrorIs(t, err, journal.ErrNoStore, cmd)
		require.ErrorContains(t, err, "check -data")
		_, statErr := os.Stat(missing)
		require.ErrorIs(t, statErr, os.ErrNotExist, "%s created %s", cmd, missing)
	}
	// A directory of other files is not a store, and demo does not fill it.
	other := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(other, "notes.txt"), []byte("mine"), 0o600))
	_, err := runCmd(t, "", "demo", "-data", other)
	require.ErrorIs(t, err, journal.ErrNoStore)
	_, err = runCmd(t, "", "serve", "-data", other, "-addr", "127.0.0.1:0")
	require.ErrorContains(t, err, "-create")
	entries, err := os.ReadDir(other)
	require.NoError(t, err)
	require.Len(t, entries, 1)
}

func TestVerifyCoversEveryLedgerAndSaysHowMany(t *testing.T) {
	// More ledgers than one page of ListLedgers (100): verify used to check
	// the first page only.
	dir := filepath.Join(t.TempDir(), "data")
	db, err := quill.Open(dir, &quill.Options{MaxLedgers: 105})
	require.NoError(t, err)
	for i := range 103 {
		_, err := db.CreateLedger(context.Background(), &quill.CreateLedgerInput{Name: fmt.Sprintf("l%03d", i), PermissionsMode: quill.PermissionsStandard})
		require.NoError(t, err)
	}
	require.NoError(t, db.Close())
	out, err := runCmd(t, "", "verify", "-data", dir)
	require.NoError(t, err)
	require.Contains(t, out, "l102: 1 blocks")
	require.Contains(t, out, "verified 103 ledgers: 103 blocks")
}

func TestErrorLinesHaveOnePrefix(t *testing.T) {
	require.Equal(t, "quill: not found LEDGER \"x\": gone", errorLine(&quill.Error{Code: quill.CodeResourceNotFound, ResourceType: "LEDGER", ResourceName: "x", Message: "gone"}))
	require.Equal(t, "quill: open x: no such file", errorLine(errors.New("open x: no such file")))
}

func TestExportToADirectoryThenVerifyItsChainAndDigest(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	_, err := runCmd(t, "", "demo", "-data", dir)
	require.NoError(t, err)
	out := t.TempDir()
	for _, format := range []string{"ION_TEXT", "ION_BINARY", "JSON"} {
		printed, err := runCmd(t, "", "export", "-data", dir, "-ledger", "vehicle-registration", "-dir", out,
			"-prefix", "exp/"+format, "-format", format)
		require.NoError(t, err, format)
		require.Contains(t, printed, "COMPLETED: 4 blocks in 1 objects")
		manifest := strings.TrimSpace(printed[strings.Index(printed, "manifest: ")+len("manifest: "):])
		_, err = os.Stat(manifest)
		require.NoError(t, err, "the printed manifest path exists")

		db, err := quill.Open(dir, nil)
		require.NoError(t, err)
		l, err := db.Ledger(context.Background(), "vehicle-registration")
		require.NoError(t, err)
		d, err := l.GetDigest(context.Background())
		require.NoError(t, err)
		require.NoError(t, db.Close())
		digestJSON := writeFile(t, "digest.json", fmt.Sprintf(`{"Digest":%q,"DigestTipAddress":{"IonText":%q}}`, d.Digest, d.Tip.String()))

		printed, err = runCmd(t, "", "verify-chain", manifest, "-digest", digestJSON)
		if format == "JSON" {
			require.ErrorContains(t, err, "JSON Lines export cannot be verified")
			continue
		}
		require.NoError(t, err, format)
		require.Contains(t, printed, "chain of 4 blocks verified")
		require.Contains(t, printed, "the chain folds to digest "+d.Digest.String())
		_, err = runCmd(t, "", "verify-chain", manifest, "-digest", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
		require.ErrorContains(t, err, "the chain folds to")
	}
	_, err = runCmd(t, "", "export", "-data", dir, "-ledger", "vehicle-registration")
	require.ErrorIs(t, err, errUsage, "neither -dir nor -bucket")
	_, err = runCmd(t, "", "export", "-data", dir, "-ledger", "nope", "-dir", out)
	require.ErrorIs(t, err, quill.ErrResourceNotFound)
	_, err = runCmd(t, "", "export", "-data", dir, "-ledger", "vehicle-registration", "-dir", out, "-format", "CSV")
	require.ErrorContains(t, err, "OutputFormat")
}

func TestTablesAndExportTable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	_, err := runCmd(t, "", "demo", "-data", dir)
	require.NoError(t, err)
	out, err := runCmd(t, "", "tables", "-data", dir, "-ledger", "vehicle-registration")
	require.NoError(t, err)
	require.Contains(t, out, "VehicleRegistration")
	require.Contains(t, out, "arn:aws:qldb:us-east-1:000000000000:ledger/vehicle-registration/table/")
	exports := t.TempDir()
	out, err = runCmd(t, "", "export-table", "-data", dir, "-ledger", "vehicle-registration", "-table", "Vehicle",
		"-dir", exports, "-format", "DYNAMODB_JSON")
	require.NoError(t, err)
	require.Contains(t, out, "COMPLETED: 3 items")
	manifest := strings.TrimSpace(out[strings.Index(out, "manifest: ")+len("manifest: "):])
	_, err = os.Stat(manifest)
	require.NoError(t, err)
	_, err = runCmd(t, "", "export-table", "-data", dir, "-ledger", "vehicle-registration", "-table", "Vehicle", "-dir", exports, "-from", "2020-01-01T00:00:00Z")
	require.ErrorIs(t, err, errUsage, "-from without -to")
}
