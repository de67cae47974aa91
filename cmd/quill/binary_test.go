package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// buildQuill builds the quill binary into a temporary directory.
func buildQuill(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "quill")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	return bin
}

// startServe runs `quill serve` on a free port over dir (with extra
// flags) and returns the URL it prints, the rest of its output line by
// line, and the process.
func startServe(t *testing.T, bin, dir string, extra ...string) (url string, lines <-chan string, cmd *exec.Cmd) {
	t.Helper()
	cmd = exec.Command(bin, append([]string{"serve", "-addr", "127.0.0.1:0", "-data", dir}, extra...)...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = io.Discard
	require.NoError(t, cmd.Start())
	out := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			out <- sc.Text()
		}
		close(out)
	}()
	first := <-out
	if strings.HasPrefix(first, "quill: created a new store in ") {
		first = <-out
	}
	require.Contains(t, first, "serving QLDB's API on http://127.0.0.1:")
	fields := strings.Fields(first)
	return fields[len(fields)-3], out, cmd
}
