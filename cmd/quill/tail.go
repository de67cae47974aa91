package main

import (
	"context"
	"io"
	"os/signal"
	"syscall"
	"time"

	"github.com/quilldb/quill"
	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/journal"
	"github.com/quilldb/quill/stream"
)

const tailAbout = `Prints the records a journal stream of the ledger would carry (CONTROL CREATED, then for each
block a BLOCK_SUMMARY and a REVISION_DETAILS per revision), one per line, from the first block at
or after -from, and then each new block as it commits, until Ctrl-C. -format ion prints Ion text,
json prints JSON Lines. The data directory must not be open in another process (stop quill serve,
or stream to Kinesis through it instead).`

func tailCmd(args []string, stdout io.Writer) error {
	c := newCommand("tail", "-ledger NAME [-data DIR] [-from T] [-format ion|json]", tailAbout, stdout)
	dir := c.fs.String("data", "quill-data", "data directory")
	ledger := c.fs.String("ledger", "", "the ledger to follow (required)")
	from := c.fs.String("from", "", "start at the first block at or after this RFC 3339 time (default: the first block)")
	format := c.fs.String("format", "ion", "ion or json")
	rest, err := c.parse(args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return c.usageError("takes no arguments, got %q", rest)
	case *ledger == "":
		return c.usageError("-ledger is required")
	case *format != "ion" && *format != "json":
		return c.usageError("-format must be ion or json, got %q", *format)
	}
	start := time.Unix(0, 0)
	if *from != "" {
		if start, err = time.Parse(time.RFC3339Nano, *from); err != nil {
			return c.usageError("-from: %v", err)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	db, err := openData(*dir, journal.CreateNever, quill.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	l, err := db.Ledger(ctx, *ledger)
	if err != nil {
		return err
	}
	err = l.Tail(ctx, start, func(recs []stream.Record) error {
		for _, r := range recs {
			v, err := ion.Parse(r.Data)
			if err != nil {
				return err
			}
			line := ion.AppendText(nil, v)
			if *format == "json" {
				line = ion.AppendJSON(nil, v)
			}
			if _, err := stdout.Write(append(line, '\n')); err != nil {
				return err
			}
		}
		return nil
	})
	if ctx.Err() != nil {
		return nil // Ctrl-C is how tail ends
	}
	return err
}
