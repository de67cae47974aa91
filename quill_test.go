package quill

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/journal"
	"github.com/quilldb/quill/verify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var ctx = context.Background()

func openDB(t testing.TB, opts *Options) *DB {
	t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	if opts.Journal.FS == nil {
		opts.Journal.FS = vfs.NewMem()
	}
	db, err := Open("db", opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func newLedger(t testing.TB, db *DB, name string) *Ledger {
	t.Helper()
	_, err := db.CreateLedger(ctx, &CreateLedgerInput{Name: name, PermissionsMode: PermissionsStandard})
	require.NoError(t, err)
	l, err := db.Ledger(ctx, name)
	require.NoError(t, err)
	return l
}

func noProtection() *bool { f := false; return &f }

func TestLedgerLifecycle(t *testing.T) {
	db := openDB(t, &Options{Region: "eu-west-1", Account: "123456789012"})
	d, err := db.CreateLedger(ctx, &CreateLedgerInput{Name: "vehicle-registration", PermissionsMode: PermissionsAllowAll,
		Tags: map[string]string{"team": "dmv"}})
	require.NoError(t, err)
	require.Equal(t, StateActive, d.State)
	require.True(t, d.DeletionProtection, "deletion protection defaults to true")
	require.Equal(t, "arn:aws:qldb:eu-west-1:123456789012:ledger/vehicle-registration", d.ARN)
	require.Equal(t, AWSOwnedKMSKey, d.KmsKeyARN)

	_, err = db.CreateLedger(ctx, &CreateLedgerInput{Name: "vehicle-registration", PermissionsMode: PermissionsAllowAll})
	var exists *Error
	requireCode(t, err, CodeResourceAlreadyExists, &exists)

	got, err := db.DescribeLedger(ctx, "vehicle-registration")
	require.NoError(t, err)
	require.Equal(t, d, got)

	// Deletion protection refuses, UpdateLedger lifts it.
	var precondition *Error
	requireCode(t, db.DeleteLedger(ctx, "vehicle-registration"), CodeResourcePreconditionNotMet, &precondition)
	kms := "arn:aws:kms:eu-west-1:123456789012:key/abc"
	up, err := db.UpdateLedger(ctx, "vehicle-registration", &UpdateLedgerInput{DeletionProtection: noProtection(), KmsKey: &kms})
	require.NoError(t, err)
	require.False(t, up.DeletionProtection)
	require.Equal(t, kms, up.KmsKeyARN)
	pm, err := db.UpdateLedgerPermissionsMode(ctx, "vehicle-registration", PermissionsStandard)
	require.NoError(t, err)
	require.Equal(t, PermissionsStandard, pm.PermissionsMode)

	l, err := db.Ledger(ctx, "vehicle-registration")
	require.NoError(t, err)
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error { _, err := tx.CreateTable("Vehicle"); return err }))
	require.NoError(t, db.DeleteLedger(ctx, "vehicle-registration"))
	var notFound *Error
	_, err = db.DescribeLedger(ctx, "vehicle-registration")
	requireCode(t, err, CodeResourceNotFound, &notFound)
	requireCode(t, l.Execute(ctx, func(*Tx) error { return nil }), CodeResourceNotFound, &notFound, "the handle of a deleted ledger")
	_, err = db.Ledger(ctx, "vehicle-registration")
	requireCode(t, err, CodeResourceNotFound, &notFound)

	// The name can be used again, for a new, empty ledger.
	l2 := newLedger(t, db, "vehicle-registration")
	require.NotEqual(t, l.StrandID(), l2.StrandID())
	require.NoError(t, l2.Execute(ctx, func(tx *Tx) error {
		tables, err := tx.Tables()
		require.Empty(t, tables)
		return err
	}))
}

func TestLedgerNameAndParameterRules(t *testing.T) {
	db := openDB(t, nil)
	for _, name := range []string{"", "123", "-a", "a-", "a--b", "a_b", "abcdefghijklmnopqrstuvwxyz1234567"} {
		_, err := db.CreateLedger(ctx, &CreateLedgerInput{Name: name, PermissionsMode: PermissionsAllowAll})
		var invalid *Error
		requireCode(t, err, CodeInvalidParameter, &invalid, "name %q", name)
		require.Equal(t, "Name", invalid.Parameter)
	}
	for _, name := range []string{"a", "a-1", "A1b2", "abcdefghijklmnopqrstuvwxyz123456"} {
		_, err := db.CreateLedger(ctx, &CreateLedgerInput{Name: name, PermissionsMode: PermissionsAllowAll})
		require.NoError(t, err, name)
	}
	_, err := db.CreateLedger(ctx, &CreateLedgerInput{Name: "x", PermissionsMode: "OPEN"})
	var invalid *Error
	requireCode(t, err, CodeInvalidParameter, &invalid)
	require.Equal(t, "PermissionsMode", invalid.Parameter)
	// Four ledgers exist; the default quota is five.
	_, err = db.CreateLedger(ctx, &CreateLedgerInput{Name: "fifth", PermissionsMode: PermissionsAllowAll})
	require.NoError(t, err)
	_, err = db.CreateLedger(ctx, &CreateLedgerInput{Name: "sixth", PermissionsMode: PermissionsAllowAll})
	var limit *Error
	requireCode(t, err, CodeLimitExceeded, &limit)
}

func TestKMSKeyRules(t *testing.T) {
	db := openDB(t, &Options{MaxLedgers: 20})
	for i, key := range []string{"", AWSOwnedKMSKey, "1234abcd-12ab-34cd-56ef-1234567890ab", "alias/ledger-key",
		"mrk-1234abcd12ab34cd56ef1234567890ab",
		"arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		"arn:aws:kms:eu-west-1:111122223333:alias/ledger-key"} {
		d, err := db.CreateLedger(ctx, &CreateLedgerInput{Name: fmt.Sprintf("good%d", i), PermissionsMode: PermissionsStandard, KmsKey: key})
		require.NoError(t, err, key)
		if key == "" {
			key = AWSOwnedKMSKey
		}
		require.Equal(t, key, d.KmsKeyARN)
	}
	for _, key := range []string{"my key", "alias/", "arn:aws:s3:::bucket", "alias/" + strings.Repeat("k", 1600)} {
		_, err := db.CreateLedger(ctx, &CreateLedgerInput{Name: "bad", PermissionsMode: PermissionsStandard, KmsKey: key})
		var invalid *Error
		requireCode(t, err, CodeInvalidParameter, &invalid, key)
		require.Equal(t, "KmsKey", invalid.Parameter)
		bad := key
		_, err = db.UpdateLedger(ctx, "good0", &UpdateLedgerInput{KmsKey: &bad})
		requireCode(t, err, CodeInvalidParameter, &invalid, key)
	}
	d, err := db.DescribeLedger(ctx, "good0")
	require.NoError(t, err)
	require.Equal(t, AWSOwnedKMSKey, d.KmsKeyARN, "a refused update changes nothing")
}

func TestListLedgersPages(t *testing.T) {
	db := openDB(t, &Options{MaxLedgers: 300})
	for i := range 230 {
		_, err := db.CreateLedger(ctx, &CreateLedgerInput{Name: fmt.Sprintf("ledger-%03d", i), PermissionsMode: PermissionsAllowAll})
		require.NoError(t, err)
	}
	var names []string
	token := ""
	pages := 0
	for {
		page, next, err := db.ListLedgers(ctx, 100, token)
		require.NoError(t, err)
		pages++
		for _, s := range page {
			names = append(names, s.Name)
		}
		if next == "" {
			break
		}
		token = next
	}
	require.Equal(t, 3, pages)
	require.Len(t, names, 230)
	require.Equal(t, "ledger-000", names[0])
	require.Equal(t, "ledger-229", names[229])
	_, _, err := db.ListLedgers(ctx, 101, "")
	var invalid *Error
	requireCode(t, err, CodeInvalidParameter, &invalid)
	require.Equal(t, "MaxResults", invalid.Parameter)
	_, _, err = db.ListLedgers(ctx, 10, "not-a-token")
	requireCode(t, err, CodeInvalidParameter, &invalid)
	require.Equal(t, "NextToken", invalid.Parameter)
}

func TestTags(t *testing.T) {
	db := openDB(t, nil)
	newLedger(t, db, "tagged")
	arn := db.ARN("tagged")
	require.NoError(t, db.TagResource(ctx, arn, map[string]string{"a": "1", "b": ""}))
	require.NoError(t, db.TagResource(ctx, arn, map[string]string{"a": "2"}))
	tags, err := db.ListTagsForResource(ctx, arn)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"a": "2", "b": ""}, tags)
	require.NoError(t, db.UntagResource(ctx, arn, []string{"b", "missing"}))
	tags, err = db.ListTagsForResource(ctx, arn)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"a": "2"}, tags)

	many := map[string]string{}
	for i := range 50 {
		many[fmt.Sprintf("k%d", i)] = "v"
	}
	var invalid *Error
	requireCode(t, db.TagResource(ctx, arn, many), CodeInvalidParameter, &invalid, "51 tags")
	requireCode(t, db.TagResource(ctx, arn, map[string]string{"aws:x": "1"}), CodeInvalidParameter, &invalid)
	var notFound *Error
	requireCode(t, db.TagResource(ctx, db.ARN("other"), map[string]string{"a": "1"}), CodeResourceNotFound, &notFound)
	requireCode(t, db.TagResource(ctx, "arn:aws:qldb:us-east-1:999999999999:ledger/tagged", map[string]string{"a": "1"}), CodeResourceNotFound, &notFound)
	requireCode(t, db.TagResource(ctx, "not an arn at all, clearly", map[string]string{"a": "1"}), CodeInvalidParameter, &invalid)
}

type vehicleDoc struct {
	VIN    string  `ion:"VIN"`
	City   string  `ion:"City"`
	Owners []owner `ion:"Owners"`
	Year   int     `ion:"Year"`
}

type owner struct {
	PersonID string `ion:"PersonId"`
}

func TestDocumentsTablesAndIndexes(t *testing.T) {
	db := openDB(t, nil)
	l := newLedger(t, db, "dmv")
	var id1, id2 string
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error {
		if _, err := tx.CreateTable("Vehicle"); err != nil {
			return err
		}
		if err := tx.CreateIndex("Vehicle", "VIN"); err != nil {
			return err
		}
		var err error
		id1, err = tx.Insert("Vehicle", vehicleDoc{VIN: "1N4AL11D75C109151", City: "Everett", Year: 2011,
			Owners: []owner{{PersonID: "CMVdR77XP8zAglmmFDGTvt"}}})
		if err != nil {
			return err
		}
		id2, err = tx.Insert("Vehicle", []byte(`{VIN:"KM8SRDHF6EU074761",City:"Kent",Year:2015}`))
		return err
	}))
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error {
		d, ok, err := tx.Get("Vehicle", id1)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, int64(0), d.Version)
		var v vehicleDoc
		require.NoError(t, d.Decode(&v))
		require.Equal(t, "Everett", v.City)
		require.Equal(t, "CMVdR77XP8zAglmmFDGTvt", v.Owners[0].PersonID)

		found, err := tx.Lookup("Vehicle", "VIN", "KM8SRDHF6EU074761")
		require.NoError(t, err)
		require.Len(t, found, 1)
		require.Equal(t, id2, found[0].ID)
		byCity, err := tx.Lookup("Vehicle", "City", "Everett") // no index: a scan
		require.NoError(t, err)
		require.Len(t, byCity, 1)
		all, err := tx.Scan("Vehicle")
		require.NoError(t, err)
		require.Len(t, all, 2)
		return tx.Update("Vehicle", id1, ion.Struct(ion.F("VIN", ion.String("1N4AL11D75C109151")), ion.F("City", ion.String("Seattle"))))
	}))
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error {
		d, _, err := tx.Get("Vehicle", id1)
		require.NoError(t, err)
		require.Equal(t, int64(1), d.Version)
		city, _ := d.Data.Get("City")
		require.Equal(t, "Seattle", city.Text())
		// The index follows updates and deletes.
		require.NoError(t, tx.Delete("Vehicle", id2))
		found, err := tx.Lookup("Vehicle", "VIN", "KM8SRDHF6EU074761")
		require.NoError(t, err)
		require.Empty(t, found, "a deleted document is gone within its own transaction")
		return nil
	}))
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error {
		found, err := tx.Lookup("Vehicle", "VIN", "KM8SRDHF6EU074761")
		require.Empty(t, found)
		_, ok, _ := tx.Get("Vehicle", id2)
		require.False(t, ok)
		return err
	}))

	// Drop and undrop.
	var tableID string
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error {
		tables, err := tx.Tables()
		tableID = tables[0].ID
		require.Equal(t, []string{"VIN"}, tables[0].Indexes)
		if err != nil {
			return err
		}
		return tx.DropTable("Vehicle")
	}))
	var notFound *Error
	err := l.Execute(ctx, func(tx *Tx) error { _, err := tx.Scan("Vehicle"); return err })
	requireCode(t, err, CodeResourceNotFound, &notFound)
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error { return tx.UndropTable(tableID) }))
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error {
		all, err := tx.Scan("Vehicle")
		require.Len(t, all, 1)
		return err
	}))

	rep, err := l.Check(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(6), rep.Blocks, "creation, 5 writing transactions; read-only ones write no block")
}

func TestFailedTransactionsWriteNothing(t *testing.T) {
	db := openDB(t, &Options{MaxDocumentsPerTransaction: 3, MaxDocumentSize: 200})
	l := newLedger(t, db, "limits")
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error { _, err := tx.CreateTable("T"); return err }))
	size := l.strand.Size()
	boom := errors.New("boom")
	cases := map[string]func(tx *Tx) error{
		"fn fails": func(tx *Tx) error {
			if _, err := tx.Insert("T", []byte(`{a:1}`)); err != nil {
				return err
			}
			return boom
		},
		"too many documents": func(tx *Tx) error {
			for range 4 {
				if _, err := tx.Insert("T", []byte(`{a:1}`)); err != nil {
					return err
				}
			}
			return nil
		},
		"document too large": func(tx *Tx) error {
			_, err := tx.Insert("T", ion.Struct(ion.F("a", ion.String(string(make([]byte, 300))))))
			return err
		},
		"not a struct":  func(tx *Tx) error { _, err := tx.Insert("T", []byte(`[1]`)); return err },
		"no such table": func(tx *Tx) error { _, err := tx.Insert("Nope", []byte(`{a:1}`)); return err },
		"reserved name": func(tx *Tx) error { _, err := tx.CreateTable("select"); return err },
		"bad id":        func(tx *Tx) error { return tx.Delete("T", "short") },
		"missing doc":   func(tx *Tx) error { return tx.Delete("T", ion.NewID()) },
	}
	for name, fn := range cases {
		t.Run(name, func(t *testing.T) {
			require.Error(t, l.Execute(ctx, fn))
			require.Equal(t, size, l.strand.Size(), "no block written")
		})
	}
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error {
		all, err := tx.Scan("T")
		require.Empty(t, all)
		return err
	}))
	var invalid *Error
	requireCode(t, l.Execute(ctx, cases["document too large"]), CodeInvalidParameter, &invalid)
	require.Equal(t, "Document", invalid.Parameter)
	var limit *Error
	requireCode(t, l.Execute(ctx, cases["too many documents"]), CodeLimitExceeded, &limit)
}

func TestTableLimits(t *testing.T) {
	db := openDB(t, &Options{MaxActiveTables: 2, MaxTables: 3})
	l := newLedger(t, db, "tables")
	create := func(name string) error {
		return l.Execute(ctx, func(tx *Tx) error { _, err := tx.CreateTable(name); return err })
	}
	require.NoError(t, create("A"))
	require.NoError(t, create("B"))
	var limit *Error
	requireCode(t, create("C"), CodeLimitExceeded, &limit, "two active tables")
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error { return tx.DropTable("A") }))
	require.NoError(t, create("C"))
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error { return tx.DropTable("C") }))
	requireCode(t, create("D"), CodeLimitExceeded, &limit, "three tables in all")
	var exists *Error
	requireCode(t, create("B"), CodeResourceAlreadyExists, &exists)
}

// TestOCCConflictsAndRetries: a transaction whose read changes before it
// commits is retried; a read-only one conflicts too.
func TestOCCConflictsAndRetries(t *testing.T) {
	db := openDB(t, &Options{RetryBaseDelay: time.Millisecond})
	l := newLedger(t, db, "occ")
	var id string
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error {
		if _, err := tx.CreateTable("Account"); err != nil {
			return err
		}
		var err error
		id, err = tx.Insert("Account", []byte(`{balance:100}`))
		return err
	}))
	attempts := 0
	err := l.Execute(ctx, func(tx *Tx) error {
		attempts++
		d, _, err := tx.Get("Account", id)
		if err != nil {
			return err
		}
		if attempts == 1 {
			// Another transaction changes the document in between.
			require.NoError(t, l.Execute(ctx, func(other *Tx) error {
				return other.Update("Account", id, []byte(`{balance:50}`))
			}))
		}
		bal, _ := d.Data.Get("balance")
		b, _ := bal.Int64()
		return tx.Update("Account", id, ion.Struct(ion.F("balance", ion.Int(b+1))))
	})
	require.NoError(t, err)
	require.Equal(t, 2, attempts)
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error {
		d, _, err := tx.Get("Account", id)
		bal, _ := d.Data.Get("balance")
		require.Equal(t, "51", bal.String(), "the retry saw the other transaction's write")
		return err
	}))

	// Read-only: conflicts are reported when retries run out.
	db.opts.MaxRetries = 0
	err = l.Execute(ctx, func(tx *Tx) error {
		if _, err := tx.Scan("Account"); err != nil {
			return err
		}
		return l.Execute(ctx, func(other *Tx) error { _, err := other.Insert("Account", []byte(`{balance:1}`)); return err })
	})
	require.ErrorIs(t, err, ErrOCCConflict)
}

// TestScansConflictWithWritersOfTheirTable: a transaction that scanned a
// table fails to commit if another transaction wrote to the table after the
// scan, whether it writes itself or not, and whether it had written to the
// table before its scan or not; its own writes do not make it conflict.
func TestScansConflictWithWritersOfTheirTable(t *testing.T) {
	db := openDB(t, &Options{MaxRetries: 0})
	l := newLedger(t, db, "scans")
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error {
		for _, name := range []string{"A", "B"} {
			if _, err := tx.CreateTable(name); err != nil {
				return err
			}
		}
		return nil
	}))
	insertA := func() error {
		return l.Execute(ctx, func(other *Tx) error { _, err := other.Insert("A", []byte(`{n:1}`)); return err })
	}
	for name, body := range map[string]func(tx *Tx) error{
		"scan, then write elsewhere": func(tx *Tx) error {
			if _, err := tx.Scan("A"); err != nil {
				return err
			}
			require.NoError(t, insertA())
			_, err := tx.Insert("B", []byte(`{n:2}`))
			return err
		},
		"write to the table, then scan it": func(tx *Tx) error {
			if _, err := tx.Insert("A", []byte(`{n:3}`)); err != nil {
				return err
			}
			if _, err := tx.Scan("A"); err != nil {
				return err
			}
			return insertA()
		},
	} {
		require.ErrorIs(t, l.Execute(ctx, body), ErrOCCConflict, name)
	}
	before := 0
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error {
		docs, err := tx.Scan("A")
		before = len(docs)
		return err
	}))
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error {
		if _, err := tx.Scan("A"); err != nil {
			return err
		}
		_, err := tx.Insert("A", []byte(`{n:4}`))
		return err
	}), "a transaction's own writes do not conflict with its scan")
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error {
		docs, err := tx.Scan("A")
		require.Len(t, docs, before+1)
		return err
	}))
}

// TestBankTransfers moves money between accounts from many goroutines;
// OCC must keep the total, and the journal must verify afterwards.
func TestBankTransfers(t *testing.T) {
	db := openDB(t, &Options{MaxRetries: 50, RetryBaseDelay: 100 * time.Microsecond})
	l := newLedger(t, db, "bank")
	const accounts, start = 8, 1000
	ids := make([]string, accounts)
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error {
		if _, err := tx.CreateTable("Account"); err != nil {
			return err
		}
		for i := range ids {
			var err error
			if ids[i], err = tx.Insert("Account", ion.Struct(ion.F("balance", ion.Int(start)))); err != nil {
				return err
			}
		}
		return nil
	}))
	balance := func(tx *Tx, id string) (int64, error) {
		d, ok, err := tx.Get("Account", id)
		if err != nil || !ok {
			return 0, fmt.Errorf("account %s: found %v: %w", id, ok, err)
		}
		b, _ := d.Data.Get("balance")
		v, _ := b.Int64()
		return v, nil
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				from, to := ids[(w+i)%accounts], ids[(w*3+i+1)%accounts]
				if from == to {
					continue
				}
				amount := int64(1 + (w+i)%7)
				err := l.Execute(ctx, func(tx *Tx) error {
					a, err := balance(tx, from)
					if err != nil {
						return err
					}
					b, err := balance(tx, to)
					if err != nil {
						return err
					}
					if err := tx.Update("Account", from, ion.Struct(ion.F("balance", ion.Int(a-amount)))); err != nil {
						return err
					}
					return tx.Update("Account", to, ion.Struct(ion.F("balance", ion.Int(b+amount))))
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error {
		total := int64(0)
		for _, id := range ids {
			b, err := balance(tx, id)
			if err != nil {
				return err
			}
			total += b
		}
		require.Equal(t, int64(accounts*start), total)
		return nil
	}))
	_, err := l.Check(ctx)
	require.NoError(t, err)
}

// TestTableHistoryHasEveryRevisionOnce: a live document's latest revision
// is in its committed view and the older ones in the history keys; a
// table's history merges them, in document and version order, with no
// revision missing or repeated, also while documents change during the
// read (and views and history keys of groups still syncing are in the
// store: their blocks cannot be read yet).
func TestTableHistoryHasEveryRevisionOnce(t *testing.T) {
	db := openDB(t, nil)
	l := newLedger(t, db, "hist")
	versions := map[string]int64{} // the latest version of each document
	deleted := map[string]bool{}
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error {
		if _, err := tx.CreateTable("T"); err != nil {
			return err
		}
		for i := range 30 {
			id, err := tx.Insert("T", ion.Struct(ion.F("i", ion.Int(int64(i)))))
			if err != nil {
				return err
			}
			versions[id] = 0
		}
		return nil
	}))
	i := 0
	for id := range versions {
		i++
		for range i % 3 { // a third inserted only, the others updated once or twice
			require.NoError(t, l.Execute(ctx, func(tx *Tx) error { return tx.Update("T", id, []byte(`{u:1}`)) }))
			versions[id]++
		}
		if i%5 == 0 {
			require.NoError(t, l.Execute(ctx, func(tx *Tx) error { return tx.Delete("T", id) }))
			versions[id]++
			deleted[id] = true
		}
	}
	check := func(hist []Document, atLeast map[string]int64) {
		t.Helper()
		next := map[string]int64{}
		for j, d := range hist {
			if j > 0 {
				prev := hist[j-1]
				require.True(t, prev.ID < d.ID || (prev.ID == d.ID && prev.Version < d.Version), "order at %d", j)
			}
			require.Equal(t, next[d.ID], d.Version, "document %s: versions from 0, none missing or repeated", d.ID)
			next[d.ID]++
		}
		for id, v := range atLeast {
			require.GreaterOrEqual(t, next[id], v+1, "document %s", id)
		}
	}
	hist, err := l.History(ctx, "T", "", time.Time{}, time.Time{})
	require.NoError(t, err)
	check(hist, versions)
	for _, d := range hist {
		require.Equal(t, deleted[d.ID] && d.Version == versions[d.ID], d.Deleted, "document %s version %d", d.ID, d.Version)
	}

	// Documents change while their history is read.
	var live []string
	for id := range versions {
		if !deleted[id] {
			live = append(live, id)
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for n := range 300 {
			id := live[n%len(live)]
			assert.NoError(t, l.Execute(ctx, func(tx *Tx) error { return tx.Update("T", id, []byte(`{u:2}`)) }))
		}
	}()
	defer func() { <-done }() // a failed read ends the test: the updates end first
	for reads := 0; ; reads++ {
		hist, err := l.History(ctx, "T", "", time.Time{}, time.Time{})
		require.NoError(t, err)
		check(hist, versions)
		select {
		case <-done:
			t.Logf("%d reads during the updates", reads+1)
			return
		default:
		}
	}
}

func TestHistoryAndVerification(t *testing.T) {
	clock := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); clock = clock.Add(time.Second); return clock }
	db := openDB(t, &Options{Journal: journal.Options{Clock: now}})
	l := newLedger(t, db, "history")
	var id string
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error {
		if _, err := tx.CreateTable("Person"); err != nil {
			return err
		}
		var err error
		id, err = tx.Insert("Person", []byte(`{FirstName:"Raul",LastName:"Lewis"}`))
		return err
	}))
	for _, name := range []string{"Brent", "Alexis"} {
		require.NoError(t, l.Execute(ctx, func(tx *Tx) error {
			return tx.Update("Person", id, []byte(`{FirstName:"`+name+`",LastName:"Lewis"}`))
		}))
	}
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error { return tx.Delete("Person", id) }))

	hist, err := l.History(ctx, "Person", id, time.Time{}, time.Time{})
	require.NoError(t, err)
	require.Len(t, hist, 4)
	for i, d := range hist {
		require.Equal(t, int64(i), d.Version)
	}
	require.True(t, hist[3].Deleted)
	first, _ := hist[2].Data.Get("FirstName")
	require.Equal(t, "Alexis", first.Text())
	window, err := l.History(ctx, "Person", "", hist[1].TxTime, hist[3].TxTime)
	require.NoError(t, err)
	require.Len(t, window, 2, "versions 1 and 2")

	// Every revision verifies against the digest, typed and through its
	// Ion text as a client gets it.
	digest, err := l.GetDigest(ctx)
	require.NoError(t, err)
	for _, d := range hist {
		rev, proof, err := l.GetRevision(ctx, d.Address, d.ID, &digest.Tip)
		require.NoError(t, err)
		require.Equal(t, d.Hash, rev.Hash)
		require.NoError(t, VerifyRevision(rev, proof, digest.Digest))
		parsed, err := ion.ParseText(rev.IonText())
		require.NoError(t, err)
		parsedProof, err := verify.ParseProof([]byte(journal.ProofText(proof)))
		require.NoError(t, err)
		require.NoError(t, verify.RevisionAgainstDigest(parsed, parsedProof, digest.Digest[:]))
		block, bproof, err := l.GetBlock(ctx, d.Address, &digest.Tip)
		require.NoError(t, err)
		require.NoError(t, VerifyBlock(block, bproof, digest.Digest))
		tampered := digest.Digest
		tampered[0] ^= 1
		require.Error(t, VerifyRevision(rev, proof, tampered))
		require.Error(t, VerifyBlock(block, bproof, tampered))
	}
	// The block records the statements.
	block, _, err := l.GetBlock(ctx, hist[1].Address, nil)
	require.NoError(t, err)
	require.Contains(t, block.IonText(), `statement:"UPDATE Person AS d BY d_id SET d = ? WHERE d_id = ?"`)
	bv := block.Ion()
	info, _ := bv.Get("transactionInfo")
	docs, _ := info.Get("documents")
	entry, ok := docs.Get(id)
	require.True(t, ok, "transactionInfo.documents names the document")
	tableName, _ := entry.Get("tableName")
	require.Equal(t, "Person", tableName.Text())

	var invalid *Error
	past := journal.Address{Strand: l.StrandID(), SequenceNo: 999}
	_, _, err = l.GetBlock(ctx, past, nil)
	requireCode(t, err, CodeInvalidParameter, &invalid)
	require.Equal(t, "BlockAddress", invalid.Parameter)
	// Past the tip without a digest tip is still the block address's fault
	// (it used to name DocumentId).
	_, _, err = l.GetRevision(ctx, past, id, nil)
	requireCode(t, err, CodeInvalidParameter, &invalid)
	require.Equal(t, "BlockAddress", invalid.Parameter)
	_, _, err = l.GetRevision(ctx, hist[0].Address, ion.NewID(), nil)
	requireCode(t, err, CodeInvalidParameter, &invalid)
	require.Equal(t, "DocumentId", invalid.Parameter)
	_, _, err = l.GetRevision(ctx, hist[0].Address, id, &journal.Address{Strand: l.StrandID(), SequenceNo: 0})
	requireCode(t, err, CodeInvalidParameter, &invalid)
	require.Equal(t, "BlockAddress", invalid.Parameter, "the block is after the digest tip")
	_, _, err = l.GetRevision(ctx, hist[0].Address, id, &past)
	requireCode(t, err, CodeInvalidParameter, &invalid)
	require.Equal(t, "DigestTipAddress", invalid.Parameter)
	_, _, err = l.GetBlock(ctx, journal.Address{Strand: ion.NewID(), SequenceNo: 1}, nil)
	requireCode(t, err, CodeInvalidParameter, &invalid)
	require.Equal(t, "BlockAddress", invalid.Parameter)
	require.ErrorIs(t, err, ErrInvalidParameter)
	require.NotErrorIs(t, err, ErrResourceNotFound)
}

func TestReopenKeepsLedgers(t *testing.T) {
	fs := vfs.NewMem()
	db, err := Open("db", &Options{Journal: journal.Options{FS: fs}})
	require.NoError(t, err)
	l := newLedger(t, db, "persist")
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error {
		if _, err := tx.CreateTable("T"); err != nil {
			return err
		}
		_, err := tx.Insert("T", []byte(`{a:1}`))
		return err
	}))
	d1, err := l.GetDigest(ctx)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	require.NoError(t, db.Close())

	db2 := openDB(t, &Options{Journal: journal.Options{FS: fs}})
	l2, err := db2.Ledger(ctx, "persist")
	require.NoError(t, err)
	d2, err := l2.GetDigest(ctx)
	require.NoError(t, err)
	require.Equal(t, d1, d2)
	require.NoError(t, l2.Execute(ctx, func(tx *Tx) error {
		all, err := tx.Scan("T")
		require.Len(t, all, 1)
		return err
	}))
}

func TestSecondProcessGetsAClearError(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, nil)
	require.NoError(t, err)
	defer db.Close()
	_, err = Open(dir, nil)
	require.ErrorContains(t, err, "another process")
}

func TestTransactionTimeoutAndStatementLimit(t *testing.T) {
	db := openDB(t, &Options{TransactionTimeout: 20 * time.Millisecond, MaxStatementLength: 30})
	l := newLedger(t, db, "timeouts")
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error { _, err := tx.CreateTable("T"); return err }))
	size := l.strand.Size()
	err := l.Execute(ctx, func(tx *Tx) error {
		if _, err := tx.Insert("T", []byte(`{a:1}`)); err != nil {
			return err
		}
		time.Sleep(40 * time.Millisecond) // longer than the transaction may take
		return nil
	})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Equal(t, size, l.strand.Size(), "the timed-out transaction wrote nothing")

	long := "Table_" + strings.Repeat("x", 30)
	err = l.Execute(ctx, func(tx *Tx) error { _, err := tx.CreateTable(long); return err })
	var invalid *Error
	requireCode(t, err, CodeInvalidParameter, &invalid)
	require.Equal(t, "Statement", invalid.Parameter)

	// A statement's text goes into the block: it must be UTF-8.
	err = l.Execute(ctx, func(tx *Tx) error { _, err := tx.Query("SELECT * FROM T WHERE a = '\xff'"); return err })
	requireCode(t, err, CodeInvalidParameter, &invalid)
	require.Equal(t, "Statement", invalid.Parameter)
	require.Contains(t, invalid.Message, "UTF-8")
	require.Equal(t, size, l.strand.Size(), "the rejected transactions wrote nothing")
}

func TestExecuteReceipt(t *testing.T) {
	db := openDB(t, nil)
	l := newLedger(t, db, "receipts")
	var id string
	rec, err := l.ExecuteReceipt(ctx, func(tx *Tx) error {
		if _, err := tx.CreateTable("T"); err != nil {
			return err
		}
		var err error
		id, err = tx.Insert("T", []byte(`{a:1}`))
		return err
	})
	require.NoError(t, err)
	require.True(t, rec.Written)
	require.Equal(t, 1, rec.Attempts)
	require.Equal(t, l.StrandID(), rec.Block.Strand)
	_, proof, err := l.GetRevision(ctx, rec.Block, id, nil)
	require.NoError(t, err)
	require.Empty(t, proof)
	ro, err := l.ExecuteReceipt(ctx, func(tx *Tx) error { _, _, err := tx.Get("T", id); return err })
	require.NoError(t, err)
	require.False(t, ro.Written)
}

// TestCatalogChanges: a transaction may create a table and use it at once;
// a catalog change takes effect even when fn ignores its error; and no
// insert commits into a table after the block that dropped it, however
// the two race.
func TestCatalogChanges(t *testing.T) {
	db := openDB(t, nil)
	l := newLedger(t, db, "catalog")
	runs := 0
	rec, err := l.ExecuteReceipt(ctx, func(tx *Tx) error {
		runs++
		if _, err := tx.CreateTable("Vehicle"); err != nil {
			return err
		}
		_, err := tx.Insert("Vehicle", []byte(`{VIN:"1N4AL11D75C109151"}`))
		return err
	})
	require.NoError(t, err)
	require.Equal(t, 2, runs, "run again under the exclusive catalog lock")
	require.Equal(t, 1, rec.Attempts, "that is not an OCC retry")

	require.NoError(t, l.Execute(ctx, func(tx *Tx) error {
		_, _ = tx.CreateTable("Person") // error ignored on the first run
		return nil
	}))
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error {
		_, err := tx.Insert("Person", []byte(`{Name:"Ann"}`))
		return err
	}), "the table exists")

	var (
		mu       sync.Mutex
		inserted []uint64
		wg       sync.WaitGroup
		stop     = make(chan struct{})
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				rec, err := l.ExecuteReceipt(ctx, func(tx *Tx) error {
					_, err := tx.Insert("Vehicle", []byte(`{VIN:"3HGGK5G53FM761765"}`))
					return err
				})
				var nf *Error
				if errors.As(err, &nf) {
					return
				}
				if !assert.NoError(t, err) {
					return
				}
				mu.Lock()
				inserted = append(inserted, rec.Block.SequenceNo)
				mu.Unlock()
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	drop, err := l.ExecuteReceipt(ctx, func(tx *Tx) error { return tx.DropTable("Vehicle") })
	require.NoError(t, err)
	time.Sleep(20 * time.Millisecond)
	close(stop)
	wg.Wait()
	require.NotEmpty(t, inserted)
	for _, seq := range inserted {
		require.Less(t, seq, drop.Block.SequenceNo, "an insert committed after the drop")
	}
	err = l.Execute(ctx, func(tx *Tx) error { _, err := tx.Insert("Vehicle", []byte(`{}`)); return err })
	var nf *Error
	requireCode(t, err, CodeResourceNotFound, &nf)
	tables := []TableInfo{}
	require.NoError(t, l.Execute(ctx, func(tx *Tx) (err error) { tables, err = tx.Tables(); return err }))
	require.Len(t, tables, 2)
	require.Equal(t, TableInactive, tables[1].Status, "Vehicle is dropped")
	_, err = l.Check(ctx)
	require.NoError(t, err)
}

// TestInsertKeepsItsOwnCopyOfIonBinary: a caller may reuse its buffer once
// Insert returns; the document committed is the one given.
func TestInsertKeepsItsOwnCopyOfIonBinary(t *testing.T) {
	db := openDB(t, nil)
	l := newLedger(t, db, "buffers")
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error { _, err := tx.CreateTable("T"); return err }))
	first := ion.Struct(ion.F("n", ion.Int(1)), ion.F("s", ion.String("first")))
	var id string
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error {
		buf := ion.AppendBinary(nil, first)
		var err error
		if id, err = tx.Insert("T", buf); err != nil {
			return err
		}
		copy(buf[len(buf)-5:], "XXXXX") // reused for something else
		return nil
	}))
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error {
		d, ok, err := tx.Get("T", id)
		require.True(t, ok)
		require.True(t, ion.Equal(first, d.Data), "got %s", d.Data)
		return err
	}))
	docs, err := l.History(ctx, "T", id, time.Time{}, time.Time{})
	require.NoError(t, err)
	require.Len(t, docs, 1)
	require.True(t, ion.Equal(first, docs[0].Data))
}

// requireCode requires err to be an *Error of code and sets *target to it.
func requireCode(t testing.TB, err error, code ErrorCode, target **Error, msgAndArgs ...any) {
	t.Helper()
	require.ErrorAs(t, err, target, msgAndArgs...)
	require.Equal(t, code, (*target).Code, msgAndArgs...)
}

// TestCommittedViewRefersToItsBlock: a committed view keeps a reference to
// the document's bytes in its block instead of a second copy; reads follow
// it, views written before references existed (the data inline) still
// read, and a document in a compressed block is kept inline.
func TestCommittedViewRefersToItsBlock(t *testing.T) {
	db := openDB(t, nil)
	l := newLedger(t, db, "views")
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error { _, err := tx.CreateTable("T"); return err }))
	notes := strings.Repeat("a registration note ", 20)
	docs := []ion.Value{
		ion.Struct(ion.F("VIN", ion.String("A")), ion.F("Notes", ion.String(notes))),
		ion.Struct(ion.F("VIN", ion.String("B")), ion.F("Mileage", ion.Int(12))),
	}
	var ids []string
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error {
		ids = ids[:0]
		for _, d := range docs {
			id, err := tx.Insert("T", ion.AppendBinary(nil, d))
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	}))
	updated := ion.Struct(ion.F("VIN", ion.String("B")), ion.F("Mileage", ion.Int(13)))
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error { return tx.Update("T", ids[1], updated) }))
	want := []ion.Value{docs[0], updated}

	tableID := tableIDOf(t, l, "T")
	for i, id := range ids {
		raw, ok, err := db.j.Get(docKey(l.strand.ID(), tableID, id))
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, byte(viewRefMarker), raw[viewHeader], "view %d refers to its block", i)
		require.Less(t, len(raw), viewHeader+12, "view %d holds no copy of the data", i)
		require.NoError(t, l.Execute(ctx, func(tx *Tx) error {
			d, ok, err := tx.Get("T", id)
			require.True(t, ok)
			require.True(t, ion.Equal(want[i], d.Data), "document %d: got %s", i, d.Data)
			return err
		}))
	}

	// A view as written before references: the data inline.
	var d Document
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error {
		got, _, err := tx.Get("T", ids[0])
		d = got
		return err
	}))
	inline := encodeView(&d, ion.AppendBinary(nil, docs[0]), journal.DataRef{})
	require.NoError(t, db.j.Write(ctx, []journal.Write{{Key: docKey(l.strand.ID(), tableID, ids[0]), Value: inline}}))
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error {
		got, ok, err := tx.Get("T", ids[0])
		require.True(t, ok)
		require.True(t, ion.Equal(docs[0], got.Data))
		require.Equal(t, d.Hash, got.Hash)
		return err
	}))
}

func TestDocumentsInCompressedBlocksAreKeptInline(t *testing.T) {
	opts := &Options{}
	opts.Journal.CompressionMinSize = 1
	db := openDB(t, opts)
	l := newLedger(t, db, "compressed")
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error { _, err := tx.CreateTable("T"); return err }))
	doc := ion.Struct(ion.F("Notes", ion.String(strings.Repeat("compressible ", 100))))
	var id string
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error {
		var err error
		id, err = tx.Insert("T", doc)
		return err
	}))
	raw, ok, err := db.j.Get(docKey(l.strand.ID(), tableIDOf(t, l, "T"), id))
	require.NoError(t, err)
	require.True(t, ok)
	require.Greater(t, len(raw), viewHeader+1000, "the data is in the view")
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error {
		got, ok, err := tx.Get("T", id)
		require.True(t, ok)
		require.True(t, ion.Equal(doc, got.Data))
		return err
	}))
}

func tableIDOf(t *testing.T, l *Ledger, name string) string {
	t.Helper()
	id, err := l.tableIDByName(ctx, name)
	require.NoError(t, err)
	return id
}
