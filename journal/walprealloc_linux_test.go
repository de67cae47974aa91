package journal

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLogFilesAreSizedWhenReserved: on a real filesystem the write-ahead
// log is sized when Pebble reserves space for it (walprealloc_linux.go),
// so that a log sync does not also write the file's size; the store still
// reopens (its log's zeroed tail read as the end) with every block. The
// crash test covers reopening after SIGKILL.
func TestLogFilesAreSizedWhenReserved(t *testing.T) {
	dir := t.TempDir()
	j, err := Open(dir, nil)
	require.NoError(t, err)
	s, err := j.CreateStrand(ctx)
	require.NoError(t, err)
	receipts := commitN(t, s, 20)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var logs []int64
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".log") {
			fi, err := os.Stat(filepath.Join(dir, e.Name()))
			require.NoError(t, err)
			logs = append(logs, fi.Size())
		}
	}
	require.NotEmpty(t, logs)
	require.GreaterOrEqual(t, logs[len(logs)-1], int64(64<<20), "the live log is sized to its reservation (a memtable and a tenth)")
	require.NoError(t, j.Close())

	for range 2 { // reopen twice: the first reopen replays the sized log
		j, err = Open(dir, nil)
		require.NoError(t, err)
		s, err = j.Strand(ctx, s.ID())
		require.NoError(t, err)
		require.Equal(t, uint64(len(receipts)), s.Size())
		b, err := s.Block(ctx, receipts[len(receipts)-1].SequenceNo)
		require.NoError(t, err)
		require.Equal(t, receipts[len(receipts)-1].BlockHash, b.Hash)
		receipts = append(receipts, commitN(t, s, 5)...)
		_, err = s.Check(ctx)
		require.NoError(t, err)
		require.NoError(t, j.Close())
	}
}
