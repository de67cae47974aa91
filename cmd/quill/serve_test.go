package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
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
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "quill")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())

	dir := filepath.Join(t.TempDir(), "data")
	demo := exec.Command(bin, "demo", "-data", dir) // serve must serve what demo filled
	demo.Stdout = io.Discard
	require.NoError(t, demo.Run())
	cmd := exec.Command(bin, "serve", "-addr", "127.0.0.1:0", "-data", dir)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = io.Discard
	require.NoError(t, cmd.Start())
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	first := <-lines
	require.Contains(t, first, "serving QLDB's API on http://127.0.0.1:")
	url := strings.Fields(first)[len(strings.Fields(first))-3]

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
