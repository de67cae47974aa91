package demo

import (
	"bytes"
	"context"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/quilldb/quill"
	"github.com/quilldb/quill/journal"
	"github.com/stretchr/testify/require"
)

func TestDemoRunsTwiceAndVerifies(t *testing.T) {
	ctx := context.Background()
	db, err := quill.Open("data", &quill.Options{Journal: journal.Options{FS: vfs.NewMem()}})
	require.NoError(t, err)
	defer db.Close()

	var out bytes.Buffer
	require.NoError(t, Run(ctx, db, &out))
	first := out.String()
	require.Contains(t, first, `Created ledger "vehicle-registration", ACTIVE, deletion protection on`)
	require.Contains(t, first, "verified: the revision's hash folded with the proof gives the digest")
	require.Contains(t, first, "and a copy with the owner changed does not verify")
	require.Contains(t, first, "(2 revisions)")

	out.Reset()
	require.NoError(t, Run(ctx, db, &out))
	require.Contains(t, out.String(), "exists already")
	require.Contains(t, out.String(), "(3 revisions)")

	l, err := db.Ledger(ctx, LedgerName)
	require.NoError(t, err)
	rep, err := l.Check(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(5), rep.Blocks, "creation, tables, inserts, two transfers")
}
