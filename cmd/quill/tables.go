package main

import (
	"context"
	"fmt"
	"io"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/quilldb/quill"
	"github.com/quilldb/quill/journal"
)

func tablesCmd(args []string, stdout io.Writer) error {
	c := newCommand("tables", "-ledger NAME [-data DIR]", `Lists a ledger's tables, active and dropped, with their ids and ARNs: the ARN is what
DynamoDB's export-table-to-point-in-time takes (--table-arn) against quill serve.`, stdout)
	dir := c.fs.String("data", "quill-data", "data directory")
	ledger := c.fs.String("ledger", "", "the ledger (required)")
	rest, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(rest) > 0 || *ledger == "" {
		return c.usageError("-ledger is required and no arguments are taken")
	}
	db, err := openData(*dir, journal.CreateNever, quill.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	l, err := db.Ledger(context.Background(), *ledger)
	if err != nil {
		return err
	}
	tables, err := l.Tables(context.Background())
	if err != nil {
		return err
	}
	for _, t := range tables {
		fmt.Fprintf(stdout, "%-32s %-8s %s  %s\n", t.Name, t.Status, t.ID, t.Arn)
	}
	if len(tables) == 0 {
		fmt.Fprintln(stdout, "no tables")
	}
	return nil
}

const exportTableAbout = `Exports a table as DynamoDB's ExportTableToPointInTime does, in the foreground: the table as it
was at -at (default now; any time since its creation), or with -from and -to every revision
committed between them. Files go under PREFIX/AWSDynamoDB/ID/ in a directory (-dir) or an S3
bucket (-bucket; the AWS SDK's standard configuration says where S3 is). Each item carries the
document's id, version and block address, to ask GetRevision for its proof.`

func exportTableCmd(args []string, stdout io.Writer) error {
	c := newCommand("export-table", "-ledger NAME -table T (-dir PATH | -bucket B) [-at T | -from T -to T] [-format F]", exportTableAbout, stdout)
	dir := c.fs.String("data", "quill-data", "data directory")
	ledger := c.fs.String("ledger", "", "the ledger (required)")
	table := c.fs.String("table", "", "the table's name or id (required)")
	at := c.fs.String("at", "", "full export as of this RFC 3339 time (default: now)")
	from := c.fs.String("from", "", "incremental export: from this time (inclusive)")
	to := c.fs.String("to", "", "incremental export: to this time (exclusive)")
	format := c.fs.String("format", "ION", "ION or DYNAMODB_JSON")
	outDir := c.fs.String("dir", "", "write under this directory")
	bucket := c.fs.String("bucket", "", "write to this S3 bucket")
	prefix := c.fs.String("prefix", "", "key prefix")
	rest, err := c.parse(args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return c.usageError("takes no arguments, got %q", rest)
	case *ledger == "" || *table == "":
		return c.usageError("-ledger and -table are required")
	case (*outDir == "") == (*bucket == ""):
		return c.usageError("give one of -dir and -bucket")
	case (*from == "") != (*to == ""):
		return c.usageError("-from and -to go together")
	case *at != "" && *from != "":
		return c.usageError("-at is for a full export, -from and -to for an incremental one")
	}
	in := &quill.ExportTableInput{Table: *table, Format: strings.ToUpper(*format), Bucket: *bucket, Prefix: *prefix}
	if *outDir != "" {
		in.Bucket = localBucket
	}
	parse := func(flag, v string) (time.Time, error) {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return t, c.usageError("-%s: %v", flag, err)
		}
		return t, nil
	}
	if *at != "" {
		if in.ExportTime, err = parse("at", *at); err != nil {
			return err
		}
	}
	if *from != "" {
		in.Incremental = true
		if in.From, err = parse("from", *from); err != nil {
			return err
		}
		if in.To, err = parse("to", *to); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	db, err := openData(*dir, journal.CreateNever, quill.Options{ExportSinks: exportTo(*outDir)})
	if err != nil {
		return err
	}
	defer db.Close()
	d, err := db.ExportTable(ctx, *ledger, in)
	if err != nil {
		return err
	}
	if d, err = db.WaitTableExport(ctx, d.ExportArn); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted: export %s stays IN_PROGRESS and resumes when %s is opened again", d.ExportArn, *dir)
		}
		return err
	}
	if d.Status != quill.TableExportCompleted {
		return fmt.Errorf("export %s %s: %s", d.ExportArn, d.Status, d.FailureMessage)
	}
	where := "s3://" + *bucket + "/"
	if *outDir != "" {
		where = strings.TrimSuffix(*outDir, "/") + "/"
	}
	_, err = fmt.Fprintf(stdout, "export %s COMPLETED: %d items, %s\nmanifest: %s%s\n", d.ExportArn, d.ItemCount,
		humanBytes(d.BilledSizeBytes), where, d.ManifestKey)
	return err
}
