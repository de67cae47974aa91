package main

import (
	"bufio"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestServeBinary builds the quill binary, fills a data directory with
// `quill demo`, runs `quill serve` on port 0 over it, reads the URL it
// prints, calls it, sends SIGTERM and expects a clean exit.
func TestServeBinary(t *testing.T) {
	bin := buildQuill(t)
	dir := filepath.Join(t.TempDir(), "data")
	demo := exec.Command(bin, "demo", "-data", dir) // serve must serve what demo filled
	demo.Stdout = io.Discard
	require.NoError(t, demo.Run())
	url, lines, cmd := startServe(t, bin, dir)

	resp, err := http.Get(url + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, err = http.Get(url + "/ledgers")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(body), `"Name":"vehicle-registration","State":"ACTIVE"`)

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case last := <-lines:
		require.Equal(t, "quill: stopped cleanly", last)
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("quill serve did not stop after SIGTERM")
	}
	require.NoError(t, cmd.Wait(), "quill serve must exit 0 after SIGTERM")
}

// TestServeSaysWhenItCreatesAStore: a new directory gets a store and a line
// saying so; the same directory the next time is served as it is.
func TestServeSaysWhenItCreatesAStore(t *testing.T) {
	bin := buildQuill(t)
	dir := filepath.Join(t.TempDir(), "new")
	for i, want := range []string{"quill: created a new store in " + dir, "quill: serving QLDB's API"} {
		cmd := exec.Command(bin, "serve", "-addr", "127.0.0.1:0", "-data", dir)
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		first, err := bufio.NewReader(out).ReadString('\n')
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(first, want), "run %d printed %q", i, first)
		require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
		_, _ = io.Copy(io.Discard, out)
		require.NoError(t, cmd.Wait())
	}
}
