package quill

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/journal"
	"github.com/stretchr/testify/require"
)

// readTableExport reads every item line of a completed export in a
// directory sink.
func readTableExport(t *testing.T, root string, d *TableExportDescription) []string {
	t.Helper()
	dir := filepath.Join(root, d.Bucket)
	manifest, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(d.ManifestKey)))
	require.NoError(t, err)
	var summary struct {
		ManifestFilesS3Key string
		ItemCount          int
	}
	require.NoError(t, json.Unmarshal(manifest, &summary))
	files, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(summary.ManifestFilesS3Key)))
	require.NoError(t, err)
	var lines []string
	for _, fl := range bytes.Split(bytes.TrimSpace(files), []byte("\n")) {
		if len(fl) == 0 {
			continue
		}
		var f struct{ DataFileS3Key string }
		require.NoError(t, json.Unmarshal(fl, &f))
		gz, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.DataFileS3Key)))
		require.NoError(t, err)
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		require.NoError(t, err)
		raw, err := io.ReadAll(zr)
		require.NoError(t, err)
		sc := bufio.NewScanner(bytes.NewReader(raw))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
	}
	require.Len(t, lines, summary.ItemCount)
	return lines
}

type exportedItem struct {
	id      string
	version int64
	vin     string
	deleted bool
	addr    journal.Address
}

func parseIonItems(t *testing.T, lines []string) []exportedItem {
	t.Helper()
	var out []exportedItem
	for _, l := range lines {
		v, err := ion.ParseText(l)
		require.NoError(t, err, l)
		meta, _ := v.Get("Metadata")
		id, _ := meta.Get("id")
		version, _ := meta.Get("version")
		n, _ := version.Int64()
		addr, _ := meta.Get("blockAddress")
		strand, _ := addr.Get("strandId")
		seq, _ := addr.Get("sequenceNo")
		s, _ := seq.Int64()
		it := exportedItem{id: id.Text(), version: n, addr: journal.Address{Strand: strand.Text(), SequenceNo: uint64(s)}}
		data, ok := v.Get("Item")
		if !ok {
			data, ok = v.Get("NewImage")
		}
		if ok {
			vin, _ := data.Get("VIN")
			it.vin = vin.Text()
		} else {
			it.deleted = true
		}
		out = append(out, it)
	}
	slices.SortFunc(out, func(a, b exportedItem) int {
		if a.id != b.id {
			if a.id < b.id {
				return -1
			}
			return 1
		}
		return int(a.version - b.version)
	})
	return out
}

func TestTableExportAsOfATimeAndBetweenTwo(t *testing.T) {
	root := t.TempDir()
	clock := tickingClock()
	db := openDB(t, &Options{Journal: journal.Options{Clock: clock}, ExportSinks: dirSinks(root)})
	l := newLedger(t, db, "tables")
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error { _, err := tx.CreateTable("Vehicle"); return err }))
	ids := map[string]string{}
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error {
		for _, vin := range []string{"A", "B", "C"} {
			id, err := tx.Insert("Vehicle", []byte(fmt.Sprintf(`{VIN:"%s0"}`, vin)))
			if err != nil {
				return err
			}
			ids[vin] = id
		}
		return nil
	}))
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error { return tx.Update("Vehicle", ids["A"], []byte(`{VIN:"A1"}`)) }))
	between := clock()
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error { return tx.Delete("Vehicle", ids["B"]) }))
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error {
		id, err := tx.Insert("Vehicle", []byte(`{VIN:"D0"}`))
		ids["D"] = id
		return err
	}))
	end := clock()

	run := func(in *ExportTableInput) (*TableExportDescription, []exportedItem) {
		t.Helper()
		in.Table, in.Bucket, in.Prefix = "Vehicle", "tables-bucket", "exp"
		d, err := db.ExportTable(ctx, "tables", in)
		require.NoError(t, err)
		d, err = db.WaitTableExport(ctx, d.ExportArn)
		require.NoError(t, err)
		require.Equal(t, TableExportCompleted, d.Status, d.FailureMessage)
		return d, parseIonItems(t, readTableExport(t, root, d))
	}
	byVIN := func(items []exportedItem) []string {
		var out []string
		for _, it := range items {
			out = append(out, it.vin)
		}
		slices.Sort(out)
		return out
	}

	_, asOf := run(&ExportTableInput{ExportTime: between})
	require.Equal(t, []string{"A1", "B0", "C0"}, byVIN(asOf), "the table between the update and the delete")
	// Every exported revision is the one History has, and proves against
	// the digest.
	digest, err := l.GetDigest(ctx)
	require.NoError(t, err)
	for _, it := range asOf {
		rev, proof, err := l.GetRevision(ctx, it.addr, it.id, &digest.Tip)
		require.NoError(t, err)
		require.Equal(t, it.version, rev.Metadata.Version)
		require.NoError(t, VerifyRevision(rev, proof, digest.Digest))
	}
	_, now := run(&ExportTableInput{})
	require.Equal(t, []string{"A1", "C0", "D0"}, byVIN(now))

	_, changes := run(&ExportTableInput{Incremental: true, From: between, To: end})
	require.Len(t, changes, 2, "the delete of B and the insert of D")
	deleted := 0
	for _, c := range changes {
		if c.deleted {
			deleted++
			require.Equal(t, ids["B"], c.id)
			require.Equal(t, int64(1), c.version)
		}
	}
	require.Equal(t, 1, deleted)

	// DYNAMODB_JSON, as DynamoDB's readers expect it (through the
	// ledger's handle this time).
	d, err := l.ExportTable(ctx, &ExportTableInput{Table: "Vehicle", Bucket: "tables-bucket", Format: "DYNAMODB_JSON"})
	require.NoError(t, err)
	d, err = db.WaitTableExport(ctx, d.ExportArn)
	require.NoError(t, err)
	for _, line := range readTableExport(t, root, d) {
		var item struct {
			Item struct {
				VIN struct{ S string }
			}
			Metadata struct{ ID string }
		}
		require.NoError(t, json.Unmarshal([]byte(line), &item), line)
		require.NotEmpty(t, item.Item.VIN.S)
		require.Len(t, item.Metadata.ID, 22)
	}
	list, _, err := db.ListTableExports(ctx, db.TableArn("tables", d.TableID), 0, "")
	require.NoError(t, err)
	require.Len(t, list, 4)
}

func TestTableExportClientTokenAndRules(t *testing.T) {
	db := openDB(t, &Options{ExportSinks: dirSinks(t.TempDir())})
	l := newLedger(t, db, "tokens")
	fillLedger(t, l, 2)
	in := &ExportTableInput{Table: "Vehicle", Bucket: "bucket", ClientToken: "tok-1"}
	first, err := db.ExportTable(ctx, "tokens", in)
	require.NoError(t, err)
	time.Sleep(2 * time.Millisecond) // "now" moves on: an omitted ExportTime is still the same parameter
	again, err := db.ExportTable(ctx, "tokens", in)
	require.NoError(t, err)
	require.Equal(t, first.ExportArn, again.ExportArn, "the same token and parameters: the same export")
	other := *in
	other.Format = "DYNAMODB_JSON"
	_, err = db.ExportTable(ctx, "tokens", &other)
	var conflict *Error
	requireCode(t, err, CodeExportConflict, &conflict)

	cases := map[string]*ExportTableInput{
		"S3Bucket":       {Table: "Vehicle", Bucket: "b"},
		"ExportFormat":   {Table: "Vehicle", Bucket: "bucket", Format: "CSV"},
		"ExportTime":     {Table: "Vehicle", Bucket: "bucket", ExportTime: time.Now().Add(time.Hour)},
		"ExportToTime":   {Table: "Vehicle", Bucket: "bucket", Incremental: true, From: time.Now(), To: time.Now().Add(-time.Hour)},
		"S3SseAlgorithm": {Table: "Vehicle", Bucket: "bucket", SSEAlgorithm: "DES"},
	}
	for param, bad := range cases {
		_, err := db.ExportTable(ctx, "tokens", bad)
		var invalid *Error
		requireCode(t, err, CodeInvalidParameter, &invalid, param)
		require.Equal(t, param, invalid.Parameter)
	}
	_, err = db.ExportTable(ctx, "tokens", &ExportTableInput{Table: "Nope", Bucket: "bucket"})
	require.ErrorIs(t, err, ErrResourceNotFound)
	_, err = db.DescribeTableExport(ctx, first.TableArn+"/export/01234567890123-a1b2c3d4")
	require.ErrorIs(t, err, &Error{Code: CodeExportNotFound})
	ledger, table, err := ParseTableArn(first.TableArn)
	require.NoError(t, err)
	require.Equal(t, "tokens", ledger)
	require.Equal(t, first.TableID, table)
}
