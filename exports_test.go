package quill

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/quilldb/quill/export"
	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/journal"
	"github.com/quilldb/quill/verify"
	"github.com/stretchr/testify/require"
)

// dirSinks is an ExportSinks that writes each bucket to a directory.
func dirSinks(root string) func(context.Context, export.Target) (export.Sink, error) {
	return func(_ context.Context, t export.Target) (export.Sink, error) {
		return export.DirSink{Dir: filepath.Join(root, t.Bucket)}, nil
	}
}

// gatedSink lets the first pass Puts through and holds every later one
// until the gate opens (a target that got stuck).
type gatedSink struct {
	export.Sink
	pass    int
	gate    chan struct{}
	entered chan struct{}
	once    sync.Once
	mu      sync.Mutex
}

func (g *gatedSink) Put(ctx context.Context, key string, body []byte) error {
	g.mu.Lock()
	g.pass--
	through := g.pass >= 0
	g.mu.Unlock()
	if through {
		return g.Sink.Put(ctx, key, body)
	}
	g.once.Do(func() { close(g.entered) })
	select {
	case <-g.gate:
		return g.Sink.Put(ctx, key, body)
	case <-ctx.Done():
		return ctx.Err()
	}
}

func fillLedger(t *testing.T, l *Ledger, n int) {
	t.Helper()
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error { _, err := tx.CreateTable("Vehicle"); return err }))
	for i := range n {
		require.NoError(t, l.Execute(ctx, func(tx *Tx) error {
			_, err := tx.Insert("Vehicle", []byte(fmt.Sprintf(`{VIN:"V%04d",Make:"Audi"}`, i)))
			return err
		}))
	}
}

// tickingClock is a clock that moves a millisecond at each reading, so
// that every block has its own timestamp and a range that ends "now" holds
// every block committed before.
func tickingClock() func() time.Time {
	var mu sync.Mutex
	t := time.Now().Add(-time.Hour)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Millisecond)
		return t
	}
}

func exportInput(db *DB, bucket string) *ExportJournalToS3Input {
	now := db.opts.Journal.Clock()
	return &ExportJournalToS3Input{InclusiveStartTime: now.Add(-time.Hour), ExclusiveEndTime: now,
		Bucket: bucket, Prefix: "exports/", ObjectEncryptionType: "NO_ENCRYPTION",
		RoleArn: "arn:aws:iam::123456789012:role/export", OutputFormat: "ION_BINARY"}
}

func TestJournalExportCompletesAndVerifies(t *testing.T) {
	root := t.TempDir()
	db := openDB(t, &Options{Journal: journal.Options{Clock: tickingClock()}, ExportSinks: dirSinks(root), ExportObjectSize: 2000})
	l := newLedger(t, db, "exp")
	fillLedger(t, l, 30)
	id, err := db.ExportJournalToS3(ctx, "exp", exportInput(db, "bucket"))
	require.NoError(t, err)
	require.NoError(t, ion.ValidateID(id))
	d, err := db.WaitJournalS3Export(ctx, "exp", id)
	require.NoError(t, err)
	require.Equal(t, ExportCompleted, d.Status, d.ErrorCause)
	require.Equal(t, uint64(32), d.TotalBlocks, "the creation block, CREATE TABLE and 30 inserts")
	require.Equal(t, d.TotalBlocks, d.BlocksExported)
	require.Greater(t, len(d.Keys), 2)

	var chain verify.ChainVerifier
	for _, key := range d.Keys {
		data, err := os.ReadFile(filepath.Join(root, "bucket", filepath.FromSlash(key)))
		require.NoError(t, err)
		blocks, err := ion.ParseAll(data)
		require.NoError(t, err)
		for _, b := range blocks {
			require.NoError(t, chain.Add(b))
		}
	}
	digest, err := l.GetDigest(ctx)
	require.NoError(t, err)
	folded, ok := chain.Digest()
	require.True(t, ok)
	require.Equal(t, digest.Digest, folded)
	_, err = os.Stat(filepath.Join(root, "bucket", "exports", id+"."+l.StrandID()+".completed.manifest"))
	require.NoError(t, err)

	page, next, err := db.ListJournalS3Exports(ctx, "exp", 0, "")
	require.NoError(t, err)
	require.Empty(t, next)
	require.Len(t, page, 1)
	require.Equal(t, id, page[0].ExportID)
	all, _, err := db.ListJournalS3Exports(ctx, "", 0, "")
	require.NoError(t, err)
	require.Len(t, all, 1)
}

func TestJournalExportRequestRules(t *testing.T) {
	db := openDB(t, &Options{ExportSinks: dirSinks(t.TempDir())})
	newLedger(t, db, "rules")
	now := time.Now()
	cases := []struct {
		name, param string
		change      func(*ExportJournalToS3Input)
	}{
		{"no start", "InclusiveStartTime", func(in *ExportJournalToS3Input) { in.InclusiveStartTime = time.Time{} }},
		{"end in the future", "ExclusiveEndTime", func(in *ExportJournalToS3Input) { in.ExclusiveEndTime = now.Add(time.Hour) }},
		{"end before start", "ExclusiveEndTime", func(in *ExportJournalToS3Input) {
			in.InclusiveStartTime = now.Add(-time.Second)
			in.ExclusiveEndTime = now.Add(-time.Minute)
		}},
		{"short bucket", "Bucket", func(in *ExportJournalToS3Input) { in.Bucket = "ab" }},
		{"bucket with a slash", "Bucket", func(in *ExportJournalToS3Input) { in.Bucket = "a/b" }},
		{"long prefix", "Prefix", func(in *ExportJournalToS3Input) { in.Prefix = string(make([]byte, 129)) }},
		{"no role", "RoleArn", func(in *ExportJournalToS3Input) { in.RoleArn = "" }},
		{"not a role ARN", "RoleArn", func(in *ExportJournalToS3Input) { in.RoleArn = "arn:aws:s3:::my-bucket-for-exports" }},
		{"no encryption type", "ObjectEncryptionType", func(in *ExportJournalToS3Input) { in.ObjectEncryptionType = "" }},
		{"unknown encryption", "ObjectEncryptionType", func(in *ExportJournalToS3Input) { in.ObjectEncryptionType = "AES" }},
		{"SSE_KMS without a key", "KmsKeyArn", func(in *ExportJournalToS3Input) { in.ObjectEncryptionType = "SSE_KMS" }},
		{"unknown format", "OutputFormat", func(in *ExportJournalToS3Input) { in.OutputFormat = "CSV" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := exportInput(db, "bucket")
			c.change(in)
			_, err := db.ExportJournalToS3(ctx, "rules", in)
			var invalid *Error
			requireCode(t, err, CodeInvalidParameter, &invalid)
			require.Equal(t, c.param, invalid.Parameter)
		})
	}
	_, err := db.ExportJournalToS3(ctx, "missing", exportInput(db, "bucket"))
	require.ErrorIs(t, err, ErrResourceNotFound)
	noSinks := openDB(t, nil)
	newLedger(t, noSinks, "rules")
	_, err = noSinks.ExportJournalToS3(ctx, "rules", exportInput(noSinks, "bucket"))
	require.ErrorIs(t, err, ErrResourcePreconditionNotMet)
}

func TestAtMostTwoExportsRunPerLedgerAndCloseResumesThem(t *testing.T) {
	fs := vfs.NewMem()
	root := t.TempDir()
	gate := &gatedSink{pass: 3, gate: make(chan struct{}), entered: make(chan struct{})} // the started manifest and two objects
	opts := &Options{Journal: journal.Options{FS: fs, Clock: tickingClock()}, ExportObjectSize: 1500,
		ExportSinks: func(_ context.Context, t export.Target) (export.Sink, error) {
			gate.Sink = export.DirSink{Dir: filepath.Join(root, t.Bucket)}
			return gate, nil
		}}
	db, err := Open("db", opts)
	require.NoError(t, err)
	l := newLedger(t, db, "busy")
	fillLedger(t, l, 20)
	first, err := db.ExportJournalToS3(ctx, "busy", exportInput(db, "bk1"))
	require.NoError(t, err)
	<-gate.entered
	_, err = db.ExportJournalToS3(ctx, "busy", exportInput(db, "bk2"))
	require.NoError(t, err)
	_, err = db.ExportJournalToS3(ctx, "busy", exportInput(db, "bk3"))
	requireCode(t, err, CodeLimitExceeded, new(*Error))
	d, err := db.DescribeJournalS3Export(ctx, "busy", first)
	require.NoError(t, err)
	require.Equal(t, ExportInProgress, d.Status)
	require.Len(t, d.Keys, 2, "two objects written before the target got stuck")
	require.NoError(t, db.Close(), "Close stops exports stuck on their target")

	// Reopened, the jobs resume and finish; the objects are those of an
	// export that was never interrupted.
	opts.ExportSinks = dirSinks(root)
	db, err = Open("db", opts)
	require.NoError(t, err)
	defer db.Close()
	d, err = db.WaitJournalS3Export(ctx, "busy", first)
	require.NoError(t, err)
	require.Equal(t, ExportCompleted, d.Status, d.ErrorCause)

	again, err := db.ExportJournalToS3(ctx, "busy", &ExportJournalToS3Input{InclusiveStartTime: d.InclusiveStartTime,
		ExclusiveEndTime: d.ExclusiveEndTime, Bucket: "bk4", Prefix: "exports/", ObjectEncryptionType: "NO_ENCRYPTION",
		RoleArn: d.RoleArn, OutputFormat: "ION_BINARY"})
	require.NoError(t, err)
	d2, err := db.WaitJournalS3Export(ctx, "busy", again)
	require.NoError(t, err)
	require.Equal(t, d.Keys, d2.Keys, "the same objects, cut the same way")
	for _, key := range d.Keys {
		a, err := os.ReadFile(filepath.Join(root, "bk1", filepath.FromSlash(key)))
		require.NoError(t, err)
		b, err := os.ReadFile(filepath.Join(root, "bk4", filepath.FromSlash(key)))
		require.NoError(t, err)
		require.Equal(t, a, b, key)
	}
}

func TestRefusedTargetCancelsWithItsCause(t *testing.T) {
	db := openDB(t, &Options{ExportSinks: func(context.Context, export.Target) (export.Sink, error) {
		return export.DirSink{}, nil // no directory: every put is refused
	}})
	l := newLedger(t, db, "refused")
	fillLedger(t, l, 1)
	id, err := db.ExportJournalToS3(ctx, "refused", exportInput(db, "bucket"))
	require.NoError(t, err)
	d, err := db.WaitJournalS3Export(ctx, "refused", id)
	require.NoError(t, err)
	require.Equal(t, ExportCancelled, d.Status)
	require.Contains(t, d.ErrorCause, "refused")
}

func TestFinishedExportsExpireAfterSevenDaysAndGoWithTheirLedger(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	db := openDB(t, &Options{Journal: journal.Options{Clock: clock}, ExportSinks: dirSinks(t.TempDir())})
	l := newLedger(t, db, "old")
	fillLedger(t, l, 1)
	in := exportInput(db, "bucket")
	in.InclusiveStartTime, in.ExclusiveEndTime = now.Add(-time.Hour), now
	id, err := db.ExportJournalToS3(ctx, "old", in)
	require.NoError(t, err)
	_, err = db.WaitJournalS3Export(ctx, "old", id)
	require.NoError(t, err)
	mu.Lock()
	now = now.Add(6 * 24 * time.Hour)
	mu.Unlock()
	_, err = db.DescribeJournalS3Export(ctx, "old", id)
	require.NoError(t, err, "listed for seven days")
	mu.Lock()
	now = now.Add(25 * time.Hour)
	mu.Unlock()
	_, err = db.DescribeJournalS3Export(ctx, "old", id)
	require.ErrorIs(t, err, ErrResourceNotFound)

	in.InclusiveStartTime, in.ExclusiveEndTime = now.Add(-time.Hour), now
	id, err = db.ExportJournalToS3(ctx, "old", in)
	require.NoError(t, err)
	_, err = db.WaitJournalS3Export(ctx, "old", id)
	require.NoError(t, err)
	_, err = db.UpdateLedger(ctx, "old", &UpdateLedgerInput{DeletionProtection: noProtection()})
	require.NoError(t, err)
	require.NoError(t, db.DeleteLedger(ctx, "old"))
	all, _, err := db.ListJournalS3Exports(ctx, "", 0, "")
	require.NoError(t, err)
	require.Empty(t, all)
}

func TestCancelJournalS3Export(t *testing.T) {
	root := t.TempDir()
	gate := &gatedSink{pass: 1, gate: make(chan struct{}), entered: make(chan struct{})}
	db := openDB(t, &Options{Journal: journal.Options{Clock: tickingClock()},
		ExportSinks: func(_ context.Context, t export.Target) (export.Sink, error) {
			gate.Sink = export.DirSink{Dir: filepath.Join(root, t.Bucket)}
			return gate, nil
		}})
	l := newLedger(t, db, "stop")
	fillLedger(t, l, 3)
	id, err := db.ExportJournalToS3(ctx, "stop", exportInput(db, "bucket"))
	require.NoError(t, err)
	<-gate.entered
	d, err := db.CancelJournalS3Export(ctx, "stop", id)
	require.NoError(t, err)
	require.Equal(t, ExportCancelled, d.Status)
	require.Contains(t, d.ErrorCause, "CancelJournalS3Export")
	d, err = db.DescribeJournalS3Export(ctx, "stop", id)
	require.NoError(t, err)
	require.Equal(t, ExportCancelled, d.Status, "stored")
	// The slot is free again.
	_, err = db.ExportJournalToS3(ctx, "stop", exportInput(db, "bucket"))
	require.NoError(t, err)
}
