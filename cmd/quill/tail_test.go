package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/quilldb/quill/ion"
	"github.com/stretchr/testify/require"
)

// TestTailPrintsTheStreamRecords runs quill tail over the demo ledger and
// reads the records it prints, in both formats, then stops it with SIGINT.
func TestTailPrintsTheStreamRecords(t *testing.T) {
	bin := buildQuill(t)
	dir := filepath.Join(t.TempDir(), "data")
	demo := exec.Command(bin, "demo", "-data", dir)
	demo.Stdout = io.Discard
	require.NoError(t, demo.Run())
	for _, format := range []string{"ion", "json"} {
		cmd := exec.Command(bin, "tail", "-data", dir, "-ledger", "vehicle-registration", "-format", format)
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 1<<20)
		var types []string
		for len(types) < 1+4 && sc.Scan() { // CREATED and the four blocks' summaries at least
			var recordType string
			if format == "json" {
				var rec struct{ RecordType string }
				require.NoError(t, json.Unmarshal(sc.Bytes(), &rec))
				recordType = rec.RecordType
			} else {
				v, err := ion.ParseText(sc.Text())
				require.NoError(t, err)
				rt, _ := v.Get("recordType")
				recordType = rt.Text()
			}
			if recordType != "REVISION_DETAILS" {
				types = append(types, recordType)
			}
		}
		require.Equal(t, "CONTROL,BLOCK_SUMMARY,BLOCK_SUMMARY,BLOCK_SUMMARY,BLOCK_SUMMARY", strings.Join(types, ","), format)
		require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
		_, _ = io.Copy(io.Discard, out)
		require.NoError(t, cmd.Wait(), "tail exits 0 on Ctrl-C")
	}
}
