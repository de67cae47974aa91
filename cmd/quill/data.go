package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"syscall"

	"github.com/quilldb/quill"
	"github.com/quilldb/quill/demo"
)

// dataCmd runs the commands that open a data directory.
func dataCmd(cmd string, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dir := fs.String("data", "quill-data", "data directory")
	ledger := fs.String("ledger", "", "only this ledger (verify)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	db, err := quill.Open(*dir, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	switch cmd {
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
	names := []string{only}
	if only == "" {
		names = nil
		page, _, err := db.ListLedgers(ctx, 100, "")
		if err != nil {
			return err
		}
		for _, s := range page {
			names = append(names, s.Name)
		}
	}
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
		fmt.Fprintf(out, "%s: %d blocks and %d Merkle nodes verified; digest %s at %s\n",
			name, rep.Blocks, rep.Nodes, d.Digest, d.Tip)
	}
	return nil
}
