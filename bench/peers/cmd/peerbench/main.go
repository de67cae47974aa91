// Command peerbench is `quill bench` with the peer engines registered:
// Quill, raw Pebble, immudb and Tessera side by side in one run.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/quilldb/quill/bench"
	"github.com/quilldb/quill/bench/peers"
)

func main() {
	peers.Register()
	if err := bench.Main(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "peerbench:", err)
		if errors.Is(err, bench.ErrUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}
