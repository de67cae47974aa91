package quill

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/journal"
	"github.com/stretchr/testify/require"
)

// exec runs one statement in its own interactive transaction and returns
// the rows as Ion text.
func run1(t *testing.T, l *Ledger, stmt string, params ...ion.Value) []string {
	t.Helper()
	ctx := context.Background()
	tx, err := l.Begin(ctx)
	require.NoError(t, err)
	res, err := tx.Execute(ctx, stmt, params...)
	require.NoError(t, err, stmt)
	_, err = tx.Commit(ctx)
	require.NoError(t, err, stmt)
	out := make([]string, len(res.Values))
	for i, v := range res.Values {
		out[i] = strings.TrimSpace(v.String())
	}
	return out
}

func TestInteractiveTransactionsRunPartiQL(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, nil)
	l := newLedger(t, db, "l")
	require.Len(t, run1(t, l, "CREATE TABLE Person"), 1)
	run1(t, l, "CREATE INDEX ON Person (GovId)")
	ids := run1(t, l, "INSERT INTO Person ?", ion.List(
		ion.Struct(ion.F("Name", ion.String("Ana")), ion.F("GovId", ion.String("G1"))),
		ion.Struct(ion.F("Name", ion.String("Bo")), ion.F("GovId", ion.String("G2")))))
	require.Len(t, ids, 2)
	require.Equal(t, []string{`"Bo"`}, run1(t, l, "SELECT VALUE p.Name FROM Person AS p WHERE p.GovId = ?", ion.String("G2")))
	before, err := l.GetDigest(ctx)
	require.NoError(t, err)
	ro, err := l.Begin(ctx)
	require.NoError(t, err)
	_, err = ro.Execute(ctx, "SELECT * FROM Person")
	require.NoError(t, err)
	rec, err := ro.Commit(ctx)
	require.NoError(t, err)
	require.False(t, rec.Written, "a transaction that only read writes no block")
	after, err := l.GetDigest(ctx)
	require.NoError(t, err)
	require.Equal(t, before.Tip, after.Tip)

	// A failed statement changes nothing and the transaction goes on.
	tx, err := l.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Execute(ctx, "INSERT INTO Person VALUE {'Name': 'Cy'}")
	require.NoError(t, err)
	_, err = tx.Execute(ctx, "INSERT INTO Person << {'Name': 'Di'}, 5 >>")
	require.ErrorContains(t, err, "a document must be a struct")
	_, err = tx.Execute(ctx, "UPDATE Nope SET a = 1")
	require.ErrorIs(t, err, ErrResourceNotFound)
	rec, err = tx.Commit(ctx)
	require.NoError(t, err)
	require.True(t, rec.Written)
	require.Equal(t, []string{"3"}, run1(t, l, "SELECT VALUE COUNT(*) FROM Person"))
	b, _, err := l.GetBlock(ctx, rec.Block, nil)
	require.NoError(t, err)
	stmts, _ := b.TransactionInfo.Get("statements")
	require.Equal(t, 1, stmts.Len(), "only the statement that succeeded is in transactionInfo")

	// A catalog change inside an interactive transaction, next to reads.
	tx, err = l.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Execute(ctx, "SELECT * FROM Person")
	require.NoError(t, err)
	_, err = tx.Execute(ctx, "CREATE TABLE Car")
	require.NoError(t, err)
	_, err = tx.Execute(ctx, "INSERT INTO Car VALUE {'VIN': 'V1'}")
	require.NoError(t, err)
	_, err = tx.Commit(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{`"V1"`}, run1(t, l, "SELECT VALUE VIN FROM Car"))
	idx := run1(t, l, "SELECT VALUE indexes[0].indexId FROM information_schema.user_tables WHERE name = 'Person'")
	require.Len(t, idx, 1)
	run1(t, l, "DROP INDEX "+idx[0]+" ON Person WITH (purge = true)")
	require.Equal(t, []string{"[]"}, run1(t, l, "SELECT VALUE indexes FROM information_schema.user_tables WHERE name = 'Person'"))
	require.Equal(t, []string{`"Bo"`}, run1(t, l, "SELECT VALUE p.Name FROM Person AS p WHERE p.GovId = ?", ion.String("G2")))
}

func TestInteractiveTransactionConflicts(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, nil)
	l := newLedger(t, db, "l")
	run1(t, l, "CREATE TABLE t")
	run1(t, l, "INSERT INTO t VALUE {'Name': 'a'}")

	// The driver's OCC scenario: a read set changed by a transaction that
	// commits first fails the reader's commit.
	outer, err := l.Begin(ctx)
	require.NoError(t, err)
	_, err = outer.Execute(ctx, "SELECT VALUE Name FROM t")
	require.NoError(t, err)
	run1(t, l, "UPDATE t SET Name = ?", ion.String("b"))
	_, err = outer.Commit(ctx)
	require.ErrorIs(t, err, ErrOCCConflict)

	// A catalog change to a table the transaction used conflicts with it;
	// one to another table does not.
	tx, err := l.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Execute(ctx, "SELECT * FROM t")
	require.NoError(t, err)
	run1(t, l, "CREATE TABLE u")
	_, err = tx.Execute(ctx, "SELECT * FROM t")
	require.NoError(t, err, "a new table u does not concern a transaction on t")
	run1(t, l, "CREATE INDEX ON t (Name)")
	_, err = tx.Execute(ctx, "SELECT * FROM t")
	require.ErrorIs(t, err, ErrOCCConflict, "t changed")
	tx, err = l.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Execute(ctx, "SELECT * FROM v")
	require.ErrorIs(t, err, ErrResourceNotFound)
	run1(t, l, "CREATE TABLE v")
	_, err = tx.Commit(ctx)
	require.ErrorIs(t, err, ErrOCCConflict, "a table it found missing exists now")
	tx, err = l.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Execute(ctx, "SELECT VALUE name FROM information_schema.user_tables")
	require.NoError(t, err)
	run1(t, l, "CREATE TABLE w")
	_, err = tx.Commit(ctx)
	require.ErrorIs(t, err, ErrOCCConflict, "it listed the tables")

	// Expired transactions write nothing.
	clock := db.opts.Journal.Clock
	tx, err = l.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Execute(ctx, "INSERT INTO t VALUE {'Name': 'late'}")
	require.NoError(t, err)
	db.opts.Journal.Clock = func() time.Time { return clock().Add(time.Minute) }
	_, err = tx.Commit(ctx)
	db.opts.Journal.Clock = clock
	require.True(t, errors.Is(err, ErrTransactionExpired), "%v", err)
	require.Equal(t, []string{"1"}, run1(t, l, "SELECT VALUE COUNT(*) FROM t"))
	_, err = tx.Execute(ctx, "SELECT * FROM t")
	require.ErrorIs(t, err, ErrTransactionClosed)
}

// BenchmarkLookup compares an indexed lookup through the Go API with the
// same lookup in PartiQL, in process: the difference is PartiQL's cost.
func BenchmarkLookup(b *testing.B) {
	ctx := context.Background()
	db := openDB(b, nil)
	l := newLedger(b, db, "l")
	require.NoError(b, l.Execute(ctx, func(tx *Tx) error {
		if _, err := tx.CreateTable("Person"); err != nil {
			return err
		}
		return tx.CreateIndex("Person", "GovId")
	}))
	const n = 2000
	for i := 0; i < n; i += 40 {
		require.NoError(b, l.Execute(ctx, func(tx *Tx) error {
			for j := i; j < i+40; j++ {
				if _, err := tx.Insert("Person", ion.Struct(ion.F("GovId", ion.String(fmt.Sprintf("G%06d", j))), ion.F("Name", ion.String("x")))); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	b.Run("goapi", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			require.NoError(b, l.Execute(ctx, func(tx *Tx) error {
				_, err := tx.Lookup("Person", "GovId", ion.String(fmt.Sprintf("G%06d", i%n)))
				return err
			}))
		}
	})
	b.Run("partiql", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			require.NoError(b, l.Execute(ctx, func(tx *Tx) error {
				_, err := tx.Query("SELECT * FROM Person AS p WHERE p.GovId = ?", ion.String(fmt.Sprintf("G%06d", i%n)))
				return err
			}))
		}
	})
}

// TestIndexesFromBeforeTextKeysAreReadTwice builds an index as Quill did
// before text keys (a symbol keyed by its exact hash, no TextIndexes in the
// table record) and checks that a PartiQL text lookup still finds a string
// and a symbol of the same text through it.
func TestIndexesFromBeforeTextKeysAreReadTwice(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, nil)
	l := newLedger(t, db, "l")
	run1(t, l, "CREATE TABLE T")
	run1(t, l, "CREATE INDEX ON T (s)")
	run1(t, l, "INSERT INTO T VALUE {'s': 'x', 'k': 1}")
	sym := run1(t, l, "INSERT INTO T VALUE {'s': `x`, 'k': 2}")
	v, err := ion.ParseText(sym[0])
	require.NoError(t, err)
	idv, _ := v.Get("documentId")
	symID := idv.Text()
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error {
		if err := tx.changeCatalog(); err != nil {
			return err
		}
		rec, err := tx.table("T")
		if err != nil {
			return err
		}
		rec.TextIndexes = nil
		tx.putTable(rec)
		tx.del(append(indexPrefix(tx.strand, rec.ID, "s", ion.Hash(ion.String("x"))), symID...))
		tx.put(append(indexPrefix(tx.strand, rec.ID, "s", ion.Hash(ion.SymbolValue(ion.Sym("x")))), symID...), nil)
		tx.put(catalogKey(tx.strand), []byte(tx.id))
		return nil
	}))
	tx, err := l.Begin(ctx)
	require.NoError(t, err)
	res, err := tx.Execute(ctx, "SELECT VALUE k FROM T WHERE s = ?", ion.String("x"))
	require.NoError(t, err)
	require.Len(t, res.Values, 2)
	require.Equal(t, int64(1), res.Stats.IndexLookups, "one lookup by the executor...")
	require.Zero(t, res.Stats.TableScans, "...answered by the index (read twice inside the store)")
	_, err = tx.Commit(ctx)
	require.NoError(t, err)
}

// TestIndexLookupsConflictOnlyWithTheirValue: a lookup by an indexed value
// conflicts with a transaction that adds, removes or changes a document of
// that value, not with writers of other values of the same table.
func TestIndexLookupsConflictOnlyWithTheirValue(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, nil)
	l := newLedger(t, db, "l")
	run1(t, l, "CREATE TABLE Person")
	run1(t, l, "CREATE INDEX ON Person (GovId)")
	run1(t, l, "INSERT INTO Person VALUE {'GovId': 'A', 'n': 0}")
	lookupA := func() *Transaction {
		tx, err := l.Begin(ctx)
		require.NoError(t, err)
		res, err := tx.Execute(ctx, "SELECT * FROM Person AS p WHERE p.GovId = 'A'")
		require.NoError(t, err)
		require.Equal(t, int64(1), res.Stats.IndexLookups)
		return tx
	}
	for _, c := range []struct {
		other    string
		conflict bool
	}{
		{"INSERT INTO Person VALUE {'GovId': 'B'}", false},
		{"UPDATE Person AS p SET p.n = 1 WHERE p.GovId = 'B'", false},
		{"INSERT INTO Person VALUE {'GovId': 'A', 'n': 2}", true},          // a new document of the value
		{"UPDATE Person AS p SET p.n = 3 WHERE p.GovId = 'A'", true},       // a document found changed
		{"UPDATE Person AS p SET p.GovId = 'A' WHERE p.GovId = 'B'", true}, // a document moves into the value
		{"DELETE FROM Person AS p WHERE p.GovId = 'A'", true},
	} {
		tx := lookupA()
		run1(t, l, c.other)
		_, err := tx.Commit(ctx)
		if c.conflict {
			require.ErrorIs(t, err, ErrOCCConflict, c.other)
		} else {
			require.NoError(t, err, c.other)
		}
	}
}

// Documents get version 7 UUIDs stamped with their first revision's
// txTime, so ids sort in insert order (ion.NewTimeOrderedID): through the
// Go API and through PartiQL alike.
func TestDocumentIDsSortByInsertTime(t *testing.T) {
	// A clock a millisecond further on at every call (transactions'
	// deadlines are on it, so it starts now).
	clock := time.Now()
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); clock = clock.Add(time.Millisecond); return clock }
	db := openDB(t, &Options{Journal: journal.Options{Clock: now}})
	l := newLedger(t, db, "ids")
	run1(t, l, "CREATE TABLE Person")
	var ids []string
	for i := range 6 {
		if i%2 == 0 {
			require.NoError(t, l.Execute(context.Background(), func(tx *Tx) error {
				id, err := tx.Insert("Person", []byte(fmt.Sprintf(`{N:%d}`, i)))
				ids = append(ids, id)
				return err
			}))
			continue
		}
		out := run1(t, l, fmt.Sprintf("INSERT INTO Person VALUE {'N': %d}", i))
		require.Len(t, out, 1)
		v, err := ion.ParseText(out[0])
		require.NoError(t, err)
		id, ok := v.Get("documentId")
		require.True(t, ok, out[0])
		ids = append(ids, id.Text())
	}
	require.True(t, slices.IsSorted(ids), "ids in insert order: %v", ids)
	for _, id := range ids {
		var doc Document
		require.NoError(t, l.Execute(context.Background(), func(tx *Tx) error {
			var found bool
			var err error
			doc, found, err = tx.Get("Person", id)
			require.True(t, found, id)
			return err
		}))
		hi, _, err := ion.ParseID(id)
		require.NoError(t, err)
		require.Equal(t, doc.TxTime.UnixMilli(), int64(hi>>16), "the id carries its first revision's txTime")
	}
}
