// Command quill is Quill's command line: the demo ledger, ledger listing
// and full verification of a data directory, and offline tools that hash
// Ion values and verify QLDB journal data (blocks, revisions, proofs,
// exported chains) from Quill or from Amazon QLDB. Run `quill help`.
package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/quilldb/quill/ion"
)

const usage = `usage: quill <command> [arguments]

commands:
  serve [-data DIR] [-addr HOST:PORT] [-auth FILE] [-create] [limits]
                                           serve QLDB's API (default http://127.0.0.1:8787)
  demo [-data DIR]                         build QLDB's vehicle-registration ledger, prove and verify a revision
  ledgers [-data DIR]                      list the ledgers of a data directory
  verify [-data DIR] [-ledger NAME]        re-verify every block and Merkle node of the ledgers (Check)
  export -ledger NAME (-dir PATH | -bucket B) [-from T] [-to T] [-format F]
                                           export a ledger's journal as QLDB's ExportJournalToS3 did
  tables -ledger NAME                      list a ledger's tables with their ids and ARNs
  query -ledger NAME STATEMENT [PARAM...]  run one PartiQL statement (-data DIR or -endpoint URL)
  shell -ledger NAME                       an interactive PartiQL shell (-data DIR or -endpoint URL)
  export-table -ledger NAME -table T (-dir PATH | -bucket B) [-at T | -from T -to T] [-format F]
                                           export a table as DynamoDB's ExportTableToPointInTime does
  tail -ledger NAME [-from T] [-format ion|json]
                                           print the ledger's journal stream records as blocks commit
  bench WORKLOAD [flags]                   measure commit, prove, check or growth against raw Pebble
  hash [ION_TEXT]                          print the Ion hash (SHA-256, base64) of each value
  id                                       print a new 22-character QLDB id
  verify-block FILE [-proof P] [-digest D] check a block's hashes (and its proof to a digest)
  verify-revision FILE [-proof P] -digest D
                                           check a revision's hash and its proof to a digest
  verify-chain FILE... | MANIFEST [-digest D]
                                           check the hash chain of blocks, or of a journal export
                                           from its completed manifest (a path or s3://bucket/key)
  version                                  print Quill's version

Run quill <command> -h for a command's flags. DIR defaults to ./quill-data.
`

func main() {
	err := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, errorLine(err))
	if errors.Is(err, errUsage) {
		os.Exit(2)
	}
	os.Exit(1)
}

// errorLine is how main prints an error: one "quill: " prefix, although
// the library's errors already start with one.
func errorLine(err error) string {
	return "quill: " + strings.TrimPrefix(err.Error(), "quill: ")
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	err := dispatch(args, stdin, stdout, stderr)
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}

func dispatch(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: no command (see quill help)", errUsage)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serveCmd(rest, stdout, stderr)
	case "bench":
		return benchCmd(rest, stdout, stderr)
	case "demo", "ledgers", "verify":
		return dataCmd(cmd, rest, stdout)
	case "export":
		return exportCmd(rest, stdout)
	case "tail":
		return tailCmd(rest, stdout)
	case "tables":
		return tablesCmd(rest, stdout)
	case "query":
		return queryCmd(rest, stdout)
	case "shell":
		return shellCmd(rest, stdin, stdout, stderr)
	case "export-table":
		return exportTableCmd(rest, stdout)
	case "hash":
		return hashCmd(rest, stdin, stdout)
	case "id":
		if _, err := newCommand("id", "", "Prints a new 22-character QLDB id (document, transaction and strand ids have this form).", stdout).parse(rest); err != nil {
			return err
		}
		_, err := fmt.Fprintln(stdout, ion.NewID())
		return err
	case "version":
		return versionCmd(rest, stdout)
	case "verify-block", "verify-revision":
		return verifyOneCmd(cmd, rest, stdin, stdout)
	case "verify-chain":
		return verifyChainCmd(rest, stdin, stdout)
	case "help", "-h", "--help":
		_, err := fmt.Fprint(stdout, usage)
		return err
	}
	return fmt.Errorf("%w: unknown command %q (see quill help)", errUsage, cmd)
}

// versionCmd prints the module version and the VCS revision the binary was
// built from, when Go recorded them.
func versionCmd(args []string, stdout io.Writer) error {
	if _, err := newCommand("version", "", "Prints Quill's version, the Go version and the commit it was built from.", stdout).parse(args); err != nil {
		return err
	}
	version, revision := "(devel)", ""
	if info, ok := debug.ReadBuildInfo(); ok {
		if info.Main.Version != "" {
			version = info.Main.Version
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				revision = " commit " + s.Value
			}
		}
	}
	_, err := fmt.Fprintf(stdout, "quill %s (%s%s)\n", version, runtime.Version(), revision)
	return err
}

func readInput(name string, stdin io.Reader) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(name) //nolint:gosec // reading the files the user names is the point
}

func hashCmd(args []string, stdin io.Reader, stdout io.Writer) error {
	c := newCommand("hash", "[ION_TEXT]", "Prints the Ion hash (SHA-256, base64) of each value in ION_TEXT, or in standard input\nwhen there is no argument, as QLDB hashes documents, metadata and statements.", stdout)
	rest, err := c.parse(args)
	if err != nil {
		return err
	}
	var data []byte
	switch len(rest) {
	case 0:
		if data, err = io.ReadAll(stdin); err != nil {
			return err
		}
	case 1:
		data = []byte(rest[0])
	default:
		return c.usageError("takes one argument (quote the Ion text)")
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
