package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/quilldb/quill"
	"github.com/quilldb/quill/bench"
	"github.com/quilldb/quill/server"
)

// benchCmd runs the benchmark harness's command line (see bench.MainAs).
func benchCmd(args []string, stdout, stderr io.Writer) error {
	err := bench.MainAs("quill bench", args, stdout, stderr, func(c *bench.Config) {
		c.SessionHandler = func(db *quill.DB) http.Handler { return server.New(db, nil) }
	})
	if errors.Is(err, bench.ErrUsage) {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	return err
}
