package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/quilldb/quill/export"
	s3sink "github.com/quilldb/quill/export/s3"
	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/journal"
	"github.com/quilldb/quill/verify"
)

// awsResponse is the JSON the AWS CLI prints for get-block, get-revision
// and get-digest, so that `aws qldb get-revision ... > rev.json` can be
// verified as it is.
type awsResponse struct {
	Block            *awsValueHolder `json:"Block"`
	Revision         *awsValueHolder `json:"Revision"`
	Proof            *awsValueHolder `json:"Proof"`
	Digest           string          `json:"Digest"`
	DigestTipAddress *awsValueHolder `json:"DigestTipAddress"`
}

type awsValueHolder struct {
	IonText string `json:"IonText"`
}

// parseAWSResponse reads data as an AWS CLI JSON response; ok is false when
// it is not one (then it is Ion).
func parseAWSResponse(data []byte) (awsResponse, bool) {
	var r awsResponse
	trimmed := strings.TrimSpace(string(data))
	if !strings.HasPrefix(trimmed, "{\"") || json.Unmarshal(data, &r) != nil {
		return r, false
	}
	return r, r.Block != nil || r.Revision != nil || r.Proof != nil || r.Digest != ""
}

const verifyOneAbout = `Checks a %[1]s as QLDB's official samples do: its hashes, and with a digest, that folding
its hash with the proof gives the digest.

FILE holds the %[1]s as Ion text or binary, or the JSON the AWS CLI prints for
"aws qldb get-%[1]s" (which includes the proof when a digest tip was given). "-" is standard input.
P holds the proof (an Ion list of blobs) when FILE does not. D is the base64 digest, or a file
holding the JSON of "aws qldb get-digest".`

func verifyOneCmd(name string, args []string, stdin io.Reader, stdout io.Writer) error {
	what := strings.TrimPrefix(name, "verify-")
	synopsis := "FILE [-proof P] [-digest D]"
	if what == "revision" {
		synopsis = "FILE [-proof P] -digest D"
	}
	c := newCommand(name, synopsis, fmt.Sprintf(verifyOneAbout, what), stdout)
	proofFile := c.fs.String("proof", "", "file with the proof, an Ion list of blobs (\"-\" is standard input)")
	digestArg := c.fs.String("digest", "", "base64 digest, or a file with the JSON of aws qldb get-digest")
	files, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return c.usageError("needs exactly one FILE, got %d", len(files))
	}
	if *digestArg == "" && what == "revision" {
		return c.usageError("-digest is required: a revision is verified against a digest")
	}
	data, err := readInput(files[0], stdin)
	if err != nil {
		return err
	}
	valueText, proofText := "", ""
	if r, ok := parseAWSResponse(data); ok {
		holder := r.Block
		if what == "revision" {
			holder = r.Revision
		}
		if holder == nil {
			return fmt.Errorf("%s is AWS CLI JSON without a %s member: is it the output of get-%s?", files[0], strings.ToUpper(what[:1])+what[1:], what)
		}
		valueText = holder.IonText
		if r.Proof != nil {
			proofText = r.Proof.IonText
		}
	}
	var v ion.Value
	if valueText != "" {
		v, err = ion.ParseText(valueText)
	} else {
		v, err = ion.Parse(data)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", files[0], err)
	}
	if *proofFile != "" {
		p, err := readInput(*proofFile, stdin)
		if err != nil {
			return err
		}
		proofText = string(p)
	}
	if *digestArg == "" {
		if proofText != "" && *proofFile != "" {
			return c.usageError("-proof needs -digest")
		}
		if err := verify.Block(v); err != nil {
			return err
		}
		_, err := fmt.Fprintln(stdout, "block hashes verified")
		return err
	}
	if proofText == "" {
		return c.usageError("-digest needs a proof: -proof P, or FILE from get-%s with -digest-tip-address", what)
	}
	digest, err := readDigest(*digestArg)
	if err != nil {
		return err
	}
	proof, err := verify.ParseProof([]byte(proofText))
	if err != nil {
		return err
	}
	check := verify.BlockAgainstDigest
	if what == "revision" {
		check = verify.RevisionAgainstDigest
	}
	if err := check(v, proof, digest); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s verified against digest %s (%d proof hashes)\n", what, base64.StdEncoding.EncodeToString(digest), len(proof))
	return err
}

// readDigest reads -digest: base64, or a file with get-digest's JSON.
func readDigest(arg string) ([]byte, error) {
	if d, err := base64.StdEncoding.DecodeString(arg); err == nil && len(d) == 32 {
		return d, nil
	}
	data, err := os.ReadFile(arg) //nolint:gosec // the file the user names
	if err != nil {
		return nil, fmt.Errorf("-digest %q is neither a base64 32-byte digest nor a readable file: %w", arg, err)
	}
	r, ok := parseAWSResponse(data)
	if !ok || r.Digest == "" {
		return nil, fmt.Errorf("-digest file %s holds no Digest member (the JSON of aws qldb get-digest)", arg)
	}
	d, err := base64.StdEncoding.DecodeString(r.Digest)
	if err != nil || len(d) != 32 {
		return nil, fmt.Errorf("-digest file %s: Digest is not a base64 32-byte hash", arg)
	}
	return d, nil
}

const verifyChainAbout = `Checks that blocks form one hash chain and that each block's hashes are right.

Given files ("-" is standard input), it reads the blocks in them (Ion text or binary) in order.
Given the completed manifest of a journal export (a path ending in .completed.manifest, or
s3://BUCKET/KEY read with the AWS SDK's standard configuration), it reads every object the
manifest lists, in order, one at a time. With -digest D (base64, or the JSON of aws qldb
get-digest) it also checks that an export that starts at block 0 folds to that digest; the digest's
tip must be the export's last block.`

func verifyChainCmd(args []string, stdin io.Reader, stdout io.Writer) error {
	c := newCommand("verify-chain", "FILE... | MANIFEST [-digest D]", verifyChainAbout, stdout)
	digestArg := c.fs.String("digest", "", "base64 digest, or a file with the JSON of aws qldb get-digest")
	files, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return c.usageError("needs at least one FILE or a MANIFEST")
	}
	var chain verify.ChainVerifier
	if len(files) == 1 && isManifest(files[0]) {
		if err := verifyExport(context.Background(), files[0], &chain, stdout); err != nil {
			return err
		}
	} else {
		for _, f := range files {
			data, err := readInput(f, stdin)
			if err != nil {
				return err
			}
			if err := addBlocks(&chain, f, data); err != nil {
				return err
			}
		}
	}
	if chain.Blocks() == 0 {
		return fmt.Errorf("no blocks to verify")
	}
	strand, last := chain.Last()
	if _, err := fmt.Fprintf(stdout, "chain of %d blocks verified (strand %s, last block %d)\n", chain.Blocks(), strand, last); err != nil {
		return err
	}
	if *digestArg == "" {
		return nil
	}
	want, tip, err := readDigestAndTip(*digestArg)
	if err != nil {
		return err
	}
	got, ok := chain.Digest()
	switch {
	case !ok:
		return fmt.Errorf("-digest: the chain does not start at block 0, and a digest covers every block from the first")
	case tip >= 0 && tip != last:
		return fmt.Errorf("-digest: the digest's tip is block %d, the chain ends at block %d", tip, last)
	case !bytes.Equal(got[:], want):
		return fmt.Errorf("-digest: the chain folds to %s, not to %s", base64.StdEncoding.EncodeToString(got[:]), base64.StdEncoding.EncodeToString(want))
	}
	_, err = fmt.Fprintf(stdout, "the chain folds to digest %s\n", base64.StdEncoding.EncodeToString(want))
	return err
}

func addBlocks(chain *verify.ChainVerifier, name string, data []byte) error {
	vals, err := ion.ParseAll(data)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	for _, v := range vals {
		if err := chain.Add(v); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

func isManifest(name string) bool {
	return strings.HasPrefix(name, "s3://") || strings.HasSuffix(name, ".completed.manifest")
}

// verifyExport reads an export's completed manifest and every object it
// lists, feeding the blocks to chain.
func verifyExport(ctx context.Context, manifest string, chain *verify.ChainVerifier, stdout io.Writer) error {
	var get func(key string) ([]byte, error)
	var manifestData []byte
	var err error
	if rest, ok := strings.CutPrefix(manifest, "s3://"); ok {
		bucket, key, ok := strings.Cut(rest, "/")
		if !ok || bucket == "" || key == "" {
			return fmt.Errorf("%s: want s3://BUCKET/KEY", manifest)
		}
		sink, err := s3sink.New(ctx, s3sink.Config{Bucket: bucket})
		if err != nil {
			return err
		}
		get = func(key string) ([]byte, error) { return sink.Get(ctx, key) }
		if manifestData, err = get(key); err != nil {
			return err
		}
	} else {
		if manifestData, err = os.ReadFile(manifest); err != nil { //nolint:gosec // the file the user names
			return err
		}
		root, err := exportRoot(manifest, manifestData)
		if err != nil {
			return err
		}
		dir := export.DirSink{Dir: root}
		get = func(key string) ([]byte, error) { return dir.Get(ctx, key) }
	}
	keys, err := manifestKeys(manifestData)
	if err != nil {
		return fmt.Errorf("%s: %w", manifest, err)
	}
	for _, key := range keys {
		if strings.HasSuffix(key, ".json") {
			return fmt.Errorf("%s: a JSON Lines export cannot be verified (the conversion from Ion loses the types the hashes cover): export ION_TEXT or ION_BINARY", key)
		}
		data, err := get(key)
		if err != nil {
			return err
		}
		if err := addBlocks(chain, key, data); err != nil {
			return err
		}
	}
	_, err = fmt.Fprintf(stdout, "%d objects listed by %s read\n", len(keys), manifest)
	return err
}

// manifestKeys reads {keys:[...]} in Ion or JSON.
func manifestKeys(data []byte) ([]string, error) {
	var m struct {
		Keys []string `json:"keys"`
	}
	if json.Unmarshal(data, &m) == nil && m.Keys != nil {
		return m.Keys, nil
	}
	v, err := ion.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("not a completed manifest: %w", err)
	}
	list, ok := v.Get("keys")
	if !ok || list.Type() != ion.ListType {
		return nil, fmt.Errorf("not a completed manifest: no keys list")
	}
	keys := make([]string, 0, list.Len())
	for _, k := range list.Elems() {
		keys = append(keys, k.Text())
	}
	return keys, nil
}

// exportRoot is the directory a local export's keys are relative to: the
// manifest's key is PREFIX + its file name, and the data keys share the
// prefix, so the root is the manifest's path less that key.
func exportRoot(manifestPath string, data []byte) (string, error) {
	keys, err := manifestKeys(data)
	if err != nil || len(keys) == 0 {
		return filepath.Dir(manifestPath), err
	}
	at := datePart.FindStringIndex(keys[0])
	if at == nil {
		return "", fmt.Errorf("%s: key %q is not an export's data key (PREFIX YYYY/MM/DD/HH/STRAND.FIRST-LAST.ion)", manifestPath, keys[0])
	}
	prefix := keys[0][:at[0]]
	key := prefix + filepath.Base(manifestPath)
	abs := filepath.ToSlash(manifestPath)
	if !strings.HasSuffix(abs, key) {
		return "", fmt.Errorf("%s: its keys start with %q, which is not where the manifest lies", manifestPath, prefix)
	}
	root := strings.TrimSuffix(abs, key)
	if root == "" {
		root = "."
	}
	return filepath.FromSlash(root), nil
}

var datePart = regexp.MustCompile(`\d{4}/\d{2}/\d{2}/\d{2}/[^/]+$`)

// readDigestAndTip reads -digest; tip is -1 when only the base64 digest
// was given.
func readDigestAndTip(arg string) ([]byte, int64, error) {
	d, err := readDigest(arg)
	if err != nil {
		return nil, 0, err
	}
	data, ferr := os.ReadFile(arg) //nolint:gosec // the file the user names
	if ferr != nil {
		return d, -1, nil
	}
	r, _ := parseAWSResponse(data)
	if r.DigestTipAddress == nil {
		return d, -1, nil
	}
	tip, err := journal.ParseAddress(r.DigestTipAddress.IonText)
	if err != nil {
		return nil, 0, fmt.Errorf("-digest file %s: DigestTipAddress: %w", arg, err)
	}
	return d, int64(tip.SequenceNo), nil
}
