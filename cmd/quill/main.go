// Command quill is Quill's command line: the demo ledger, ledger listing
// and full verification of a data directory, and offline tools that hash
// Ion values and verify QLDB journal data (blocks, revisions, proofs,
// exported chains) from Quill or from Amazon QLDB. Run `quill help`.
package main

import (
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/verify"
)

const usage = `usage: quill <command> [arguments]

commands:
  serve [-data DIR] [-addr HOST:PORT] [-auth FILE] [-region R] [-account A]
                                           serve QLDB's control-plane API (default 127.0.0.1:8787)
  bench WORKLOAD [flags]                   measure commit, prove, check or growth against raw Pebble
                                           and registered peers (quill bench commit -h lists the flags)
  demo [-data DIR]                         build QLDB's vehicle-registration ledger, prove and verify a revision
  ledgers [-data DIR]                      list the ledgers of a data directory
  verify [-data DIR] [-ledger NAME]        re-verify every block and Merkle node of the ledgers (Check)
  hash [ION_TEXT]                          print the Ion hash (SHA-256, base64) of each value
                                           in ION_TEXT, or in standard input
  id                                       print a new 22-character QLDB id
  verify-block FILE [-proof P -digest D]   check a block's hashes (and its proof to a digest)
  verify-revision FILE -proof P -digest D  check a revision's hash and its proof to a digest
  verify-chain FILE...                     check the hash chain of blocks, e.g. a journal export

DIR defaults to ./quill-data. FILE and P hold Ion text or binary ("-" is standard input); D is the
base64 Digest of GetDigest.
`

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "quill:", err)
		if errors.Is(err, errUsage) {
			fmt.Fprint(os.Stderr, usage)
			os.Exit(2)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("bad usage")

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: no command", errUsage)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serveCmd(rest, stdout, stderr)
	case "bench":
		return benchCmd(rest, stdout, stderr)
	case "demo", "ledgers", "verify":
		return dataCmd(cmd, rest, stdout)
	case "hash":
		return hashCmd(rest, stdin, stdout)
	case "id":
		_, err := fmt.Fprintln(stdout, ion.NewID())
		return err
	case "verify-block", "verify-revision":
		return verifyOneCmd(cmd, rest, stdin, stdout)
	case "verify-chain":
		return verifyChainCmd(rest, stdin, stdout)
	case "help", "-h", "--help":
		_, err := fmt.Fprint(stdout, usage)
		return err
	}
	return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
}

func readInput(name string, stdin io.Reader) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(name) //nolint:gosec // reading the files the user names is the point
}

func hashCmd(args []string, stdin io.Reader, stdout io.Writer) error {
	var data []byte
	var err error
	switch len(args) {
	case 0:
		data, err = io.ReadAll(stdin)
	case 1:
		data = []byte(args[0])
	default:
		return fmt.Errorf("%w: hash takes one argument", errUsage)
	}
	if err != nil {
		return err
	}
	values, err := ion.ParseAll(data)
	if err != nil {
		return err
	}
	for _, v := range values {
		h := ion.Hash(v)
		if _, err := fmt.Fprintln(stdout, base64.StdEncoding.EncodeToString(h[:])); err != nil {
			return err
		}
	}
	return nil
}

func verifyOneCmd(cmd string, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	proofFile := fs.String("proof", "", "file with the proof (Ion list of blobs)")
	digestB64 := fs.String("digest", "", "base64 digest from GetDigest")
	if len(args) == 0 {
		return fmt.Errorf("%w: %s needs a FILE", errUsage, cmd)
	}
	file := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if (*proofFile == "") != (*digestB64 == "") || cmd == "verify-revision" && *proofFile == "" {
		return fmt.Errorf("%w: -proof and -digest go together (and verify-revision needs them)", errUsage)
	}
	data, err := readInput(file, stdin)
	if err != nil {
		return err
	}
	v, err := ion.Parse(data)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if *proofFile == "" {
		if err := verify.Block(v); err != nil {
			return err
		}
		_, err := fmt.Fprintln(stdout, "block hashes verified")
		return err
	}
	proofData, err := readInput(*proofFile, stdin)
	if err != nil {
		return err
	}
	proof, err := verify.ParseProof(proofData)
	if err != nil {
		return err
	}
	digest, err := base64.StdEncoding.DecodeString(*digestB64)
	if err != nil {
		return fmt.Errorf("-digest is not base64: %w", err)
	}
	check, what := verify.BlockAgainstDigest, "block"
	if cmd == "verify-revision" {
		check, what = verify.RevisionAgainstDigest, "revision"
	}
	if err := check(v, proof, digest); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s verified against digest %s (%d proof hashes)\n", what, *digestB64, len(proof))
	return err
}

func verifyChainCmd(files []string, stdin io.Reader, stdout io.Writer) error {
	if len(files) == 0 {
		return fmt.Errorf("%w: verify-chain needs files", errUsage)
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
	_, err := fmt.Fprintf(stdout, "chain of %d blocks verified\n", len(blocks))
	return err
}
