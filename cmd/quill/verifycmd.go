package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/quilldb/quill/ion"
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

func verifyChainCmd(args []string, stdin io.Reader, stdout io.Writer) error {
	c := newCommand("verify-chain", "FILE...", `Checks that the blocks in the files, in order, form one hash chain and that each block's
hashes are right: what a journal export holds. "-" is standard input.`, stdout)
	files, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return c.usageError("needs at least one FILE")
	}
	var blocks []ion.Value
	for _, f := range files {
		data, err := readInput(f, stdin)
		if err != nil {
			return err
		}
		vals, err := ion.ParseAll(data)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		blocks = append(blocks, vals...)
	}
	if err := verify.Chain(blocks); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "chain of %d blocks verified\n", len(blocks))
	return err
}
