package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/quilldb/quill"
	"github.com/quilldb/quill/export"
	s3sink "github.com/quilldb/quill/export/s3"
	"github.com/quilldb/quill/journal"
	"github.com/quilldb/quill/server"
	"github.com/quilldb/quill/stream"
	kinesissink "github.com/quilldb/quill/stream/kinesis"
)

const serveAbout = `Serves QLDB's API over HTTP for unchanged AWS clients until SIGINT or SIGTERM, then stops
accepting, finishes the requests in flight and closes the store: the control plane (ledgers,
digests, proofs, exports, streams), the session protocol QLDB's drivers use to run PartiQL, and
DynamoDB's table export operations, all on one listener.

It opens the Quill store in DIR. It creates one only in a new or empty directory, or anywhere with
-create, and says so; a directory that holds other files and no store is refused. One process owns
a data directory at a time.`

// serveLimit is one of the quill.Options limits that serve takes as a
// flag, so that its errors name the flag.
type serveLimit struct {
	flag  string
	field *int
	def   int
	usage string
}

// serveCmd runs QLDB's control-plane API until SIGINT or SIGTERM, then
// stops accepting, finishes the requests in flight and closes the store.
func serveCmd(args []string, stdout, stderr io.Writer) error {
	c := newCommand("serve", "[-data DIR] [-addr HOST:PORT] [-auth FILE] [-create] [limits]", serveAbout, stdout)
	fs := c.fs
	dir := fs.String("data", "quill-data", "data directory")
	addr := fs.String("addr", "127.0.0.1:8787", "listen address (port 0 picks a free port)")
	authFile := fs.String("auth", "", "require SigV4 signatures from the keys in this file (\"ACCESS_KEY_ID SECRET\" per line)")
	create := fs.Bool("create", false, "create a store in DIR even if it holds other files")
	region := fs.String("region", "us-east-1", "region in ARNs")
	account := fs.String("account", "000000000000", "account in ARNs (12 digits)")
	maxBody := fs.Int64("max-body-bytes", 2<<20, "largest request body in bytes")
	var bucketDirs bucketDirFlag
	fs.Var(&bucketDirs, "bucket-dir", "NAME=DIR: journal exports to bucket NAME go to directory DIR instead of S3 (repeatable)")
	objectSize := fs.Int("export-object-size", 8<<20, "journal exports close a data object at this many bytes")
	pace := fs.Float64("export-max-blocks-per-second", 0, "pace journal exports (0: unpaced)")
	sessionIdle := fs.Duration("session-idle-timeout", 15*time.Minute, "end a qldb-session session after this long without a command")
	maxSessions := fs.Int("max-sessions-per-ledger", 1500, "open qldb-session sessions per ledger (QLDB's quota)")
	var opts quill.Options
	d := (&quill.Options{}).EnsureDefaults() // the library's defaults, shown in -h
	limits := []serveLimit{
		{"max-ledgers", &opts.MaxLedgers, d.MaxLedgers, "active ledgers (QLDB's quota per account)"},
		{"max-active-tables", &opts.MaxActiveTables, d.MaxActiveTables, "active tables per ledger"},
		{"max-tables", &opts.MaxTables, d.MaxTables, "tables per ledger, dropped ones included"},
		{"max-indexes-per-table", &opts.MaxIndexesPerTable, d.MaxIndexesPerTable, "indexes per table"},
		{"max-documents-per-transaction", &opts.MaxDocumentsPerTransaction, d.MaxDocumentsPerTransaction, "documents one transaction may write"},
		{"max-document-size", &opts.MaxDocumentSize, d.MaxDocumentSize, "largest document, bytes of Ion binary"},
		{"max-transaction-size", &opts.MaxTransactionSize, d.MaxTransactionSize, "bytes one transaction may write"},
	}
	for _, l := range limits {
		fs.IntVar(l.field, l.flag, l.def, l.usage)
	}
	rest, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return c.usageError("takes no arguments, got %q", rest)
	}
	for _, l := range limits {
		if *l.field < 1 {
			return c.usageError("-%s must be at least 1, got %d", l.flag, *l.field)
		}
	}
	if opts.MaxActiveTables > opts.MaxTables {
		return c.usageError("-max-active-tables (%d) must not exceed -max-tables (%d)", opts.MaxActiveTables, opts.MaxTables)
	}
	if *objectSize < 1 {
		return c.usageError("-export-object-size must be at least 1, got %d", *objectSize)
	}
	if *pace < 0 {
		return c.usageError("-export-max-blocks-per-second must not be negative, got %g", *pace)
	}
	if *sessionIdle <= 0 {
		return c.usageError("-session-idle-timeout must be positive, got %v", *sessionIdle)
	}
	if *maxSessions < 1 {
		return c.usageError("-max-sessions-per-ledger must be at least 1, got %d", *maxSessions)
	}
	if *maxBody < 1<<20+1024 {
		return c.usageError("-max-body-bytes must be at least %d (an IonText member may hold 1 MiB), got %d", 1<<20+1024, *maxBody)
	}
	// Signals are caught before anything is printed, so that a SIGTERM
	// sent as soon as the first line appears shuts down cleanly.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	sopts := &server.Options{Logger: logger, MaxBodyBytes: *maxBody, SessionIdleTimeout: *sessionIdle, MaxSessionsPerLedger: *maxSessions}
	if *authFile != "" {
		keys, err := server.LoadKeys(*authFile)
		if err != nil {
			return err
		}
		sopts.Keys = keys
	}
	existed, err := journal.StoreExists(nil, *dir)
	if err != nil {
		return err
	}
	opts.Region, opts.Account = *region, *account
	opts.ExportSinks = bucketDirs.sinks()
	opts.StreamSinks = func(ctx context.Context, t quill.StreamTarget) (stream.Sink, error) {
		return kinesissink.New(ctx, kinesissink.Config{StreamName: t.StreamName, Aggregate: t.Aggregate})
	}
	opts.ExportObjectSize, opts.ExportMaxBlocksPerSecond = *objectSize, *pace
	opts.Journal = journal.Options{Logger: logger}
	if *create {
		opts.Journal.Create = journal.CreateAlways
	}
	db, err := quill.Open(*dir, &opts)
	if errors.Is(err, journal.ErrNoStore) {
		return fmt.Errorf("%w (check -data, or pass -create to make a store there)", err)
	}
	if err != nil {
		return err
	}
	if !existed {
		fmt.Fprintf(stdout, "quill: created a new store in %s\n", *dir)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		_ = db.Close()
		return err
	}
	srv := &http.Server{Handler: server.New(db, sopts), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "quill: serving QLDB's API on http://%s (data %s)\n", ln.Addr(), *dir)
	if f, ok := stdout.(*os.File); ok {
		_ = f.Sync()
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err = <-served:
	case <-ctx.Done():
		logger.Info("shutting down: finishing requests in flight")
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = srv.Shutdown(sctx)
		cancel()
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		fmt.Fprintln(stdout, "quill: stopped cleanly")
	}
	return err
}

// bucketDirFlag maps bucket names to local directories (-bucket-dir).
type bucketDirFlag map[string]string

func (b *bucketDirFlag) String() string { return fmt.Sprint(map[string]string(*b)) }

func (b *bucketDirFlag) Set(v string) error {
	name, dir, ok := strings.Cut(v, "=")
	if !ok || name == "" || dir == "" {
		return fmt.Errorf("want NAME=DIR, got %q", v)
	}
	if *b == nil {
		*b = bucketDirFlag{}
	}
	(*b)[name] = dir
	return nil
}

// sinks is serve's ExportSinks: a mapped bucket is a directory, any other
// goes to S3 through the SDK's standard configuration (AWS_ENDPOINT_URL_S3
// points it at an S3-compatible store).
func (b bucketDirFlag) sinks() func(context.Context, export.Target) (export.Sink, error) {
	return func(ctx context.Context, t export.Target) (export.Sink, error) {
		if dir, ok := b[t.Bucket]; ok {
			return export.DirSink{Dir: dir}, nil
		}
		return s3sink.New(ctx, s3sink.Config{Bucket: t.Bucket, Encryption: t.Encryption, KmsKeyArn: t.KmsKeyArn})
	}
}
