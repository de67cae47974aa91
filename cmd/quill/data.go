package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/signal"
	"syscall"

	"github.com/quilldb/quill"
	"github.com/quilldb/quill/demo"
	"github.com/quilldb/quill/journal"
)

var dataAbout = map[string]string{
	"demo": `Builds QLDB's vehicle-registration ledger in DIR (a new or empty directory, or one with a
Quill store), transfers a vehicle, fetches a revision with its proof, verifies it against the
digest, prints the document's history and re-verifies the journal.`,
	"ledgers": "Lists the ledgers of the Quill store in DIR.",
	"verify": `Re-verifies every block, hash chain link and Merkle node of every ledger in DIR (or of one
ledger) and its digest, and prints what it verified. Exits 1 at the first corruption.`,
}

// dataCmd runs the commands that open a data directory. Only demo may
// create a store: the read-only commands fail on a directory without one,
// so that a mistyped -data is an error, not a new empty store.
func dataCmd(name string, args []string, stdout io.Writer) error {
	synopsis := "[-data DIR]"
	if name == "verify" {
		synopsis = "[-data DIR] [-ledger NAME]"
	}
	c := newCommand(name, synopsis, dataAbout[name], stdout)
	dir := c.fs.String("data", "quill-data", "data directory")
	var ledger *string
	if name == "verify" {
		ledger = c.fs.String("ledger", "", "verify only this ledger")
	}
	rest, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return c.usageError("takes no arguments, got %q", rest)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	create := journal.CreateNever
	if name == "demo" {
		create = journal.CreateIfEmpty
	}
	db, err := openData(*dir, create, quill.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	switch name {
	case "demo":
		fmt.Fprintf(stdout, "data directory: %s\n\n", *dir)
		err = demo.Run(ctx, db, stdout)
	case "ledgers":
		err = listLedgers(ctx, db, stdout)
	default:
		err = verifyLedgers(ctx, db, *ledger, stdout)
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return err
}

// openData opens the store in dir with opts, with an error that says what
// to do when there is none.
func openData(dir string, create journal.CreateMode, opts quill.Options) (*quill.DB, error) {
	opts.Journal.Create = create
	db, err := quill.Open(dir, &opts)
	if errors.Is(err, journal.ErrNoStore) {
		return nil, fmt.Errorf("%w (check -data, or create one with quill demo or quill serve)", err)
	}
	return db, err
}

func listLedgers(ctx context.Context, db *quill.DB, out io.Writer) error {
	token := ""
	n := 0
	for {
		page, next, err := db.ListLedgers(ctx, 100, token)
		if err != nil {
			return err
		}
		for _, s := range page {
			d, err := db.DescribeLedger(ctx, s.Name)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "%-32s %-8s created %s  deletion protection %v  %s\n", d.Name, d.State,
				d.CreationDateTime.Format("2006-01-02T15:04:05Z"), d.DeletionProtection, d.ARN)
			n++
		}
		if next == "" {
			break
		}
		token = next
	}
	if n == 0 {
		fmt.Fprintln(out, "no ledgers (try: quill demo)")
	}
	return nil
}

func verifyLedgers(ctx context.Context, db *quill.DB, only string, out io.Writer) error {
	var names []string
	if only != "" {
		names = []string{only}
	}
	for token := ""; only == ""; {
		page, next, err := db.ListLedgers(ctx, 100, token)
		if err != nil {
			return err
		}
		for _, s := range page {
			names = append(names, s.Name)
		}
		if next == "" {
			break
		}
		token = next
	}
	var blocks, nodes uint64
	for _, name := range names {
		l, err := db.Ledger(ctx, name)
		if err != nil {
			return err
		}
		rep, err := l.Check(ctx)
		if err != nil {
			return fmt.Errorf("ledger %s: %w", name, err)
		}
		d, err := l.GetDigest(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s: %d blocks and their Merkle tree (%d stored nodes) verified; digest %s at %s\n",
			name, rep.Blocks, rep.Nodes, d.Digest, d.Tip)
		blocks += rep.Blocks
		nodes += rep.Nodes
	}
	_, err := fmt.Fprintf(out, "verified %d ledgers: %d blocks and their Merkle trees (%d stored nodes)\n", len(names), blocks, nodes)
	return err
}
