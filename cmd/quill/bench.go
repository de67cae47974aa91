package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/quilldb/quill/bench"
)

// benchCmd runs the benchmark harness's command line (see bench.Main).
func benchCmd(args []string, stdout, stderr io.Writer) error {
	err := bench.Main(args, stdout, stderr)
	if errors.Is(err, bench.ErrUsage) {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	return err
}
