package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/quilldb/quill"
	"github.com/quilldb/quill/export"
	"github.com/quilldb/quill/journal"
)

// localBucket is the bucket name an export to a directory records.
const localBucket = "quill-local-export"

const exportAbout = `Exports a ledger's journal as QLDB's ExportJournalToS3 did, in the foreground: a started
manifest, the blocks whose timestamps are in [-from, -to) in data objects by UTC hour, and a
completed manifest listing them. It writes to a directory (-dir) or to an S3 bucket (-bucket),
configured as the AWS SDK is (AWS_REGION, credentials, AWS_ENDPOINT_URL_S3 for an S3-compatible
store). It shows a progress bar on a terminal and a line per second otherwise.

Interrupted (Ctrl-C), the export stays IN_PROGRESS in the store and resumes where it stopped the
next time the directory is opened (quill export of another range, or quill serve).
Times are RFC 3339 (2026-01-02T15:04:05Z); -from defaults to the ledger's creation, -to to now.`

func exportCmd(args []string, stdout io.Writer) error {
	c := newCommand("export", "-ledger NAME (-dir PATH | -bucket B [-prefix P]) [-data DIR] [-from T] [-to T] [-format F]", exportAbout, stdout)
	dir := c.fs.String("data", "quill-data", "data directory")
	ledger := c.fs.String("ledger", "", "the ledger to export (required)")
	from := c.fs.String("from", "", "inclusive start time (default: the ledger's creation)")
	to := c.fs.String("to", "", "exclusive end time (default: now)")
	format := c.fs.String("format", "ION_TEXT", "ION_TEXT, ION_BINARY or JSON")
	outDir := c.fs.String("dir", "", "write the objects under this directory")
	bucket := c.fs.String("bucket", "", "write the objects to this S3 bucket")
	prefix := c.fs.String("prefix", "", "key prefix of the objects")
	encryption := c.fs.String("encryption", "NO_ENCRYPTION", "S3 server-side encryption: NO_ENCRYPTION, SSE_S3 or SSE_KMS")
	kmsKey := c.fs.String("kms-key", "", "the KMS key for SSE_KMS")
	role := c.fs.String("role-arn", "arn:aws:iam::000000000000:role/quill-export", "recorded as the export's RoleArn (Quill writes with the SDK's credentials)")
	objectSize := c.fs.Int("object-size", 8<<20, "close a data object at this many bytes")
	rest, err := c.parse(args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return c.usageError("takes no arguments, got %q", rest)
	case *ledger == "":
		return c.usageError("-ledger is required")
	case (*outDir == "") == (*bucket == ""):
		return c.usageError("give one of -dir and -bucket")
	case *objectSize < 1:
		return c.usageError("-object-size must be at least 1, got %d", *objectSize)
	}
	end := time.Now()
	start := time.Unix(0, 0)
	if *from != "" {
		if start, err = time.Parse(time.RFC3339Nano, *from); err != nil {
			return c.usageError("-from: %v", err)
		}
	}
	if *to != "" {
		if end, err = time.Parse(time.RFC3339Nano, *to); err != nil {
			return c.usageError("-to: %v", err)
		}
	}
	target := *bucket
	if *outDir != "" {
		target = localBucket
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	db, err := openData(*dir, journal.CreateNever, quill.Options{ExportObjectSize: *objectSize, ExportSinks: exportTo(*outDir)})
	if err != nil {
		return err
	}
	defer db.Close()
	id, err := db.ExportJournalToS3(ctx, *ledger, &quill.ExportJournalToS3Input{InclusiveStartTime: start, ExclusiveEndTime: end,
		Bucket: target, Prefix: *prefix, ObjectEncryptionType: *encryption, KmsKeyArn: *kmsKey, RoleArn: *role,
		OutputFormat: strings.ToUpper(*format)})
	if err != nil {
		return err
	}
	d, err := watchExport(ctx, db, *ledger, id, stdout)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted: export %s stays IN_PROGRESS and resumes when %s is opened again", id, *dir)
		}
		return err
	}
	if d.Status != quill.ExportCompleted {
		return fmt.Errorf("export %s %s: %s", id, d.Status, d.ErrorCause)
	}
	where := "s3://" + *bucket + "/"
	if *outDir != "" {
		where = strings.TrimSuffix(*outDir, "/") + "/"
	}
	_, err = fmt.Fprintf(stdout, "export %s COMPLETED: %d blocks in %d objects, %s\nmanifest: %s%s\n", id, d.BlocksExported,
		len(d.Keys), humanBytes(d.BytesWritten), where, export.CompletedManifestKey(*prefix, id, strandOf(d)))
	return err
}

// exportTo is the export sinks of quill export and export-table: the
// directory when one is given (the request names localBucket), else S3,
// as serve sends the buckets it does not map.
func exportTo(dir string) func(context.Context, export.Target) (export.Sink, error) {
	if dir == "" {
		return bucketDirFlag(nil).sinks()
	}
	return bucketDirFlag{localBucket: dir}.sinks()
}

// strandOf is the strand in an export's keys (data keys end in
// STRAND.FIRST-LAST.EXT); the ledger's strand otherwise.
func strandOf(d *quill.JournalS3ExportDescription) string {
	for _, k := range d.Keys {
		base := k[strings.LastIndex(k, "/")+1:]
		if i := strings.IndexByte(base, '.'); i > 0 {
			return base[:i]
		}
	}
	return "STRAND"
}

// watchExport waits for the export, drawing its progress.
func watchExport(ctx context.Context, db *quill.DB, ledger, id string, out io.Writer) (*quill.JournalS3ExportDescription, error) {
	terminal := false
	if f, ok := out.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			terminal = true
		}
	}
	began := time.Now()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	lastLine := time.Time{}
	for {
		d, err := db.DescribeJournalS3Export(ctx, ledger, id)
		if err != nil {
			return nil, err
		}
		line := progressLine(d, time.Since(began))
		switch {
		case d.Status != quill.ExportInProgress:
			if terminal {
				fmt.Fprintf(out, "\r%s\n", line)
			}
			return d, nil
		case terminal:
			fmt.Fprintf(out, "\r%s   ", line)
		case time.Since(lastLine) >= time.Second:
			fmt.Fprintln(out, line)
			lastLine = time.Now()
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return d, ctx.Err()
		}
	}
}

func progressLine(d *quill.JournalS3ExportDescription, elapsed time.Duration) string {
	const width = 30
	total := max(d.TotalBlocks, 1)
	filled := int(width * d.BlocksExported / total)
	rate := float64(d.BlocksExported) / max(elapsed.Seconds(), 0.001)
	eta := "?"
	if rate > 0 && d.TotalBlocks >= d.BlocksExported {
		eta = (time.Duration(float64(d.TotalBlocks-d.BlocksExported)/rate) * time.Second).Round(time.Second).String()
	}
	return fmt.Sprintf("[%s%s] %d/%d blocks, %s, %.0f blocks/s, %s/s, ETA %s", strings.Repeat("#", filled),
		strings.Repeat(".", width-filled), d.BlocksExported, d.TotalBlocks, humanBytes(d.BytesWritten), rate,
		humanBytes(int64(float64(d.BytesWritten)/max(elapsed.Seconds(), 0.001))), eta)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
