package quill

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
	"github.com/quilldb/quill/journal"
	"github.com/stretchr/testify/require"
)

// TestFailedCatalogChangeChangesNothing: a CREATE TABLE whose commit fails
// on a disk fault leaves no table behind, in the store or in the ledger's
// in-memory catalog, and the same table can be created once the disk is
// back.
func TestFailedCatalogChangeChangesNothing(t *testing.T) {
	var failWAL atomic.Bool
	fs := errorfs.Wrap(vfs.NewMem(), errorfs.InjectorFunc(func(o errorfs.Op) error {
		if failWAL.Load() && o.Kind == errorfs.OpFileWrite && strings.HasSuffix(o.Path, ".log") {
			return errors.New("injected disk error")
		}
		return nil
	}))
	db := openDB(t, &Options{Journal: journal.Options{FS: fs}, MaxRetries: 0})
	l := newLedger(t, db, "faults")
	create := func() error {
		return l.Execute(ctx, func(tx *Tx) error { _, err := tx.CreateTable("Vehicle"); return err })
	}
	failWAL.Store(true)
	require.Error(t, create(), "the commit must fail")
	failWAL.Store(false)

	var tables []TableInfo
	require.NoError(t, l.Execute(ctx, func(tx *Tx) (err error) { tables, err = tx.Tables(); return err }))
	require.Empty(t, tables, "the in-memory catalog kept a table that was never committed")
	err := l.Execute(ctx, func(tx *Tx) error { _, err := tx.Insert("Vehicle", []byte(`{VIN:"1"}`)); return err })
	var nf *Error
	requireCode(t, err, CodeResourceNotFound, &nf)

	require.NoError(t, create())
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error { _, err := tx.Insert("Vehicle", []byte(`{VIN:"1"}`)); return err }))
	_, err = l.Check(ctx)
	require.NoError(t, err)
}
