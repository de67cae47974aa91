package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/quilldb/quill"
	"github.com/quilldb/quill/journal"
	"github.com/quilldb/quill/server"
)

// serveCmd runs QLDB's control-plane API until SIGINT or SIGTERM, then
// stops accepting, finishes the requests in flight and closes the store.
func serveCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dir := fs.String("data", "quill-data", "data directory")
	addr := fs.String("addr", "127.0.0.1:8787", "listen address (port 0 picks a free port)")
	authFile := fs.String("auth", "", "require SigV4 signatures from the keys in this file (\"ACCESS_KEY_ID SECRET\" per line)")
	region := fs.String("region", "us-east-1", "region in ARNs")
	account := fs.String("account", "000000000000", "account in ARNs")
	maxLedgers := fs.Int("max-ledgers", 5, "active ledger quota")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	opts := &server.Options{Logger: logger}
	if *authFile != "" {
		keys, err := server.LoadKeys(*authFile)
		if err != nil {
			return err
		}
		opts.Keys = keys
	}
	db, err := quill.Open(*dir, &quill.Options{Journal: journal.Options{Logger: logger}, Region: *region, Account: *account, MaxLedgers: *maxLedgers})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		_ = db.Close()
		return err
	}
	srv := &http.Server{Handler: server.New(db, opts), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "quill: serving QLDB's API on http://%s (data %s)\n", ln.Addr(), *dir)
	if f, ok := stdout.(*os.File); ok {
		_ = f.Sync()
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
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
