package export

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/journal"
	"github.com/stretchr/testify/require"
)

func tableItems(n int) ItemSource {
	return func(ctx context.Context, fn func(TableItem) error) error {
		for i := range n {
			it := TableItem{ID: fmt.Sprintf("DOC%019d", i), Version: int64(i % 3),
				Address: journal.Address{Strand: "STRAND0000000000000001", SequenceNo: uint64(i)},
				TxTime:  time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC),
				Data:    ion.Struct(ion.F("VIN", ion.String(fmt.Sprintf("V%05d", i))), ion.F("Price", ion.Decimal(int64(1000+i), -2)))}
			if i%10 == 9 {
				it.Data, it.Deleted = ion.Value{}, true
			}
			if err := fn(it); err != nil {
				return err
			}
		}
		return nil
	}
}

func tableJob(format, typ string) *TableJob {
	return &TableJob{ExportID: "01767225600000-a1b2c3d4", ExportArn: "arn:aws:qldb:us-east-1:0:ledger/l/table/T/export/x",
		TableArn: "arn:aws:qldb:us-east-1:0:ledger/l/table/T", TableID: "T", Bucket: "b", Prefix: "tables",
		Format: format, Type: typ, ExportTime: time.Now(), StartTime: time.Now()}
}

func gunzipLines(t *testing.T, data []byte) []string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	require.NoError(t, err)
	raw, err := io.ReadAll(zr)
	require.NoError(t, err)
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

func TestTableExportLayoutManifestsAndChecksums(t *testing.T) {
	for _, format := range []string{TableION, TableDynamoDBJSON} {
		for _, typ := range []string{FullExport, IncrementalExport} {
			t.Run(format+"/"+typ, func(t *testing.T) {
				dir := t.TempDir()
				job := tableJob(format, typ)
				st, err := RunTable(ctx, tableItems(500), job, TableState{}, DirSink{Dir: dir}, &TableOptions{FileSize: 4000})
				require.NoError(t, err)
				require.True(t, st.Done)
				require.Equal(t, uint64(500), st.Items)
				require.Greater(t, len(st.Files), 3, "many files")
				base := filepath.Join(dir, "tables", "AWSDynamoDB", job.ExportID)
				started, err := os.ReadFile(filepath.Join(base, "_started"))
				require.NoError(t, err)
				require.Empty(t, started)

				manifest, err := os.ReadFile(filepath.Join(base, "manifest-files.json"))
				require.NoError(t, err)
				sum := md5.Sum(manifest)
				checksum, err := os.ReadFile(filepath.Join(base, "manifest-files.checksum"))
				require.NoError(t, err)
				require.Equal(t, hex.EncodeToString(sum[:]), string(checksum))
				var total uint64
				n := 0
				for _, line := range strings.Split(strings.TrimSpace(string(manifest)), "\n") {
					var f struct {
						ItemCount     uint64
						Md5Checksum   string
						Etag          string
						DataFileS3Key string
					}
					require.NoError(t, json.Unmarshal([]byte(line), &f))
					require.Equal(t, job.TableDataKey(n), f.DataFileS3Key)
					data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.DataFileS3Key)))
					require.NoError(t, err)
					got := md5.Sum(data)
					require.Equal(t, base64.StdEncoding.EncodeToString(got[:]), f.Md5Checksum)
					require.Equal(t, hex.EncodeToString(got[:]), f.Etag)
					lines := gunzipLines(t, data)
					require.Len(t, lines, int(f.ItemCount))
					for _, l := range lines {
						if format == TableDynamoDBJSON {
							var item map[string]json.RawMessage
							require.NoError(t, json.Unmarshal([]byte(l), &item), l)
							require.Contains(t, item, "Metadata")
							if typ == FullExport {
								require.Contains(t, item, "Item")
							} else {
								require.Contains(t, item, "Keys")
							}
						} else {
							v, err := ion.ParseText(l)
							require.NoError(t, err, l)
							meta, _ := v.Get("Metadata")
							addr, _ := meta.Get("blockAddress")
							_, ok := addr.Get("sequenceNo")
							require.True(t, ok, "each item names the block that proves it")
						}
					}
					total += f.ItemCount
					n++
				}
				require.Equal(t, uint64(500), total)

				var summary map[string]any
				raw, err := os.ReadFile(filepath.Join(base, "manifest-summary.json"))
				require.NoError(t, err)
				require.NoError(t, json.Unmarshal(raw, &summary))
				require.EqualValues(t, 500, summary["itemCount"])
				require.Equal(t, format, summary["outputFormat"])
				require.Equal(t, typ, summary["exportType"])
				require.Equal(t, "2020-06-30", summary["version"])
				require.Equal(t, "tables/AWSDynamoDB/"+job.ExportID+"/manifest-files.json", summary["manifestFilesS3Key"])
			})
		}
	}
}

func TestResumedTableExportWritesTheSameFiles(t *testing.T) {
	whole, resumed := t.TempDir(), t.TempDir()
	full, err := RunTable(ctx, tableItems(800), tableJob(TableION, FullExport), TableState{}, DirSink{Dir: whole}, &TableOptions{FileSize: 3000})
	require.NoError(t, err)
	stop := errors.New("process died")
	var saved TableState
	_, err = RunTable(ctx, tableItems(800), tableJob(TableION, FullExport), TableState{}, DirSink{Dir: resumed}, &TableOptions{FileSize: 3000,
		Progress: func(st TableState) error {
			saved = st
			saved.Files = append([]TableFile(nil), st.Files...)
			if len(st.Files) == 3 {
				return stop
			}
			return nil
		}})
	require.ErrorIs(t, err, stop)
	require.Len(t, saved.Files, 3)
	st, err := RunTable(ctx, tableItems(800), tableJob(TableION, FullExport), saved, DirSink{Dir: resumed}, &TableOptions{FileSize: 3000})
	require.NoError(t, err)
	require.Equal(t, full.Files, st.Files, "the same files, the same checksums")
	for _, f := range full.Files {
		a, err := os.ReadFile(filepath.Join(whole, filepath.FromSlash(f.Key)))
		require.NoError(t, err)
		b, err := os.ReadFile(filepath.Join(resumed, filepath.FromSlash(f.Key)))
		require.NoError(t, err)
		require.Equal(t, a, b, f.Key)
	}
}
