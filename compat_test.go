package quill

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/journal"
	"github.com/stretchr/testify/require"
)

// TestStoreWrittenBeforeIssue15 opens a store written by the version
// before issue 15's changes to the commit path (testdata/stores/
// 2026-12-06-before-issue15: `quill demo`, then one insert): committed
// views with the data inline, a time index, Merkle leaves stored as nodes,
// block bodies with local symbol tables. It must verify, read, prove and
// take new commits, old and new documents side by side.
func TestStoreWrittenBeforeIssue15(t *testing.T) {
	dir := copyStore(t, filepath.Join("testdata", "stores", "2026-12-06-before-issue15"))
	db, err := Open(dir, nil)
	require.NoError(t, err)
	defer db.Close()
	l, err := db.Ledger(ctx, "vehicle-registration")
	require.NoError(t, err)
	rep, err := l.Check(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(5), rep.Blocks)
	require.Equal(t, uint64(8), rep.Nodes, "the stored leaves are verified too")

	query := func(stmt string, params ...ion.Value) []ion.Value {
		t.Helper()
		var out []ion.Value
		require.NoError(t, l.Execute(ctx, func(tx *Tx) error {
			res, err := tx.Query(stmt, params...)
			if err == nil {
				out = res.Values
			}
			return err
		}))
		return out
	}
	old := query("SELECT v.Mileage, id FROM Vehicle AS v BY id WHERE v.VIN = 'OLD1'")
	require.Len(t, old, 1)
	mileage, _ := old[0].Get("Mileage")
	require.True(t, ion.Equal(ion.Int(5), mileage), "%s", old[0])
	oldID, ok := old[0].Get("id")
	require.True(t, ok, "%s", old[0])

	raw, found, err := db.j.Get(docKey(l.strand.ID(), tableIDOf(t, l, "Vehicle"), oldID.Text()))
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, byte(0xE0), raw[viewHeader], "the old view holds the data inline")

	query("UPDATE Vehicle SET Mileage = 6 WHERE VIN = 'OLD1'")
	query("INSERT INTO Vehicle ?", ion.Struct(ion.F("VIN", ion.String("NEW1")), ion.F("Mileage", ion.Int(1))))
	require.Len(t, query("SELECT VIN FROM Vehicle"), 5, "the demo's three, OLD1, NEW1")
	hist := query("SELECT h.metadata.version AS v FROM history(Vehicle) AS h WHERE h.metadata.id = ?", oldID)
	require.Len(t, hist, 2, "the old revision and the new one")
	// The old store has history keys for live versions too, which views
	// now hold: each revision is read once.
	all := query("SELECT h.metadata.id AS id, h.metadata.version AS v FROM history(Vehicle) AS h")
	require.Len(t, all, 6, "the demo's three, OLD1 twice, NEW1: %v", all)

	// A revision of the old store and one of the new version, each proved
	// against today's digest.
	digest, err := l.GetDigest(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(6), digest.Tip.SequenceNo)
	id := oldID.Text()
	for _, seq := range []uint64{4, 5} {
		rev, proof, err := l.GetRevision(ctx, journal.Address{Strand: digest.Tip.Strand, SequenceNo: seq}, id, &digest.Tip)
		require.NoError(t, err, "block %d", seq)
		require.NoError(t, VerifyRevision(rev, proof, digest.Digest), "block %d", seq)
	}
	var first, last uint64
	first, last, ok, err = l.strand.SequenceRange(ctx, time.Unix(0, 0), time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, [2]uint64{0, 6}, [2]uint64{first, last})

	rep, err = l.Check(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(7), rep.Blocks)
}

// copyStore copies a store directory into a temporary one (opening a store
// writes to it).
func copyStore(t *testing.T, from string) string {
	t.Helper()
	to := t.TempDir()
	require.NoError(t, os.CopyFS(to, os.DirFS(from)))
	return to
}
