package export

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/journal"
	"github.com/quilldb/quill/verify"
	"github.com/stretchr/testify/require"
)

var ctx = context.Background()

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testStrand commits n blocks, 20 minutes apart, so that they span hours.
func testStrand(t *testing.T, n int) *journal.Strand {
	t.Helper()
	c := &clock{t: time.Date(2026, 3, 4, 5, 0, 0, 0, time.UTC)}
	j, err := journal.Open("db", &journal.Options{FS: vfs.NewMem(), Clock: c.now})
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Close() })
	s, err := j.CreateStrand(ctx)
	require.NoError(t, err)
	for i := range n {
		doc := ion.Struct(ion.F("VIN", ion.String(fmt.Sprintf("VIN%05d", i))), ion.F("Pad", ion.String(strings.Repeat("x", 200))))
		_, err := s.Commit(ctx, &journal.Transaction{
			Info:      ion.Struct(ion.F("statements", ion.List(ion.Struct(ion.F("statement", ion.String("INSERT INTO T ?")))))),
			Revisions: []journal.RevisionInput{{DocumentID: ion.NewID(), Data: doc}}})
		require.NoError(t, err)
		c.add(20 * time.Minute)
	}
	return s
}

func testJob(s *journal.Strand, f Format) *Job {
	return &Job{ExportID: "EXPORT0000000000000001", LedgerName: "l", Strand: s.ID(),
		Start: time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC),
		Bucket: "b", Prefix: "exports", Encryption: "NO_ENCRYPTION", Format: f, FormatGiven: f != IonText,
		Blocks: true, First: 0, Last: s.Size() - 1}
}

func TestJournalExportLayoutAndContentInEveryFormat(t *testing.T) {
	s := testStrand(t, 12) // 05:00 .. 08:40: four hours
	for _, f := range []Format{IonText, IonBinary, JSON} {
		t.Run(string(f), func(t *testing.T) {
			dir := t.TempDir()
			job := testJob(s, f)
			st, err := RunJournal(ctx, s, job, State{}, DirSink{Dir: dir}, &Options{ObjectSize: 1500})
			require.NoError(t, err)
			require.True(t, st.Done)
			require.Equal(t, uint64(12), st.Blocks)

			started, err := os.ReadFile(filepath.Join(dir, "exports", job.ExportID+".started.manifest"))
			require.NoError(t, err)
			manifest, err := os.ReadFile(filepath.Join(dir, "exports", job.ExportID+"."+s.ID()+".completed.manifest"))
			require.NoError(t, err)
			var keys []string
			var chain verify.ChainVerifier
			if f == JSON {
				var m struct{ Keys []string }
				require.NoError(t, json.Unmarshal(manifest, &m))
				keys = m.Keys
				var sm map[string]any
				require.NoError(t, json.Unmarshal(started, &sm))
				require.Equal(t, "JSON", sm["outputFormat"])
			} else {
				mv, err := ion.Parse(manifest)
				require.NoError(t, err)
				kv, _ := mv.Get("keys")
				for _, k := range kv.Elems() {
					keys = append(keys, k.Text())
				}
				sv, err := ion.Parse(started)
				require.NoError(t, err)
				ledger, _ := sv.Get("ledgerName")
				require.Equal(t, "l", ledger.Text())
				_, hasFormat := sv.Get("outputFormat")
				require.Equal(t, f != IonText, hasFormat, "outputFormat only when the request named one")
			}
			require.Greater(t, len(keys), 4, "cut by hour and by size")
			next := uint64(0)
			for _, key := range keys {
				require.Regexp(t, `^exports/2026/03/04/0[5-8]/`+s.ID()+`\.\d+-\d+\`+f.extension()+`$`, key)
				data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(key)))
				require.NoError(t, err)
				require.LessOrEqual(t, len(data), 1500+700, "an object stops near the size bound")
				var first, last uint64
				_, err = fmt.Sscanf(key[strings.LastIndex(key, s.ID())+len(s.ID()):], ".%d-%d", &first, &last)
				require.NoError(t, err)
				require.Equal(t, next, first, "contiguous ranges")
				if f == JSON {
					lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
					require.Len(t, lines, int(last-first+1))
					for i, line := range lines {
						var b map[string]any
						require.NoError(t, json.Unmarshal(line, &b), key)
						addr := b["blockAddress"].(map[string]any)
						require.EqualValues(t, first+uint64(i), addr["sequenceNo"])
					}
				} else {
					blocks, err := ion.ParseAll(data)
					require.NoError(t, err)
					require.Len(t, blocks, int(last-first+1))
					for _, b := range blocks {
						require.NoError(t, chain.Add(b))
					}
				}
				next = last + 1
			}
			require.Equal(t, uint64(12), next, "every block once")
			if f != JSON {
				d, err := s.Digest(ctx)
				require.NoError(t, err)
				got, ok := chain.Digest()
				require.True(t, ok)
				require.Equal(t, d.Hash, got, "the export folds to the journal's digest")
			}
		})
	}
}

func TestResumedExportWritesTheSameObjects(t *testing.T) {
	s := testStrand(t, 12)
	whole := t.TempDir()
	_, err := RunJournal(ctx, s, testJob(s, IonBinary), State{}, DirSink{Dir: whole}, &Options{ObjectSize: 1500})
	require.NoError(t, err)

	resumed := t.TempDir()
	var saved State
	stop := errors.New("process died")
	calls := 0
	_, err = RunJournal(ctx, s, testJob(s, IonBinary), State{}, DirSink{Dir: resumed}, &Options{ObjectSize: 1500,
		Progress: func(st State) error {
			saved = st
			saved.Keys = append([]string(nil), st.Keys...)
			if calls++; calls == 3 {
				return stop
			}
			return nil
		}})
	require.ErrorIs(t, err, stop)
	require.Len(t, saved.Keys, 2)
	st, err := RunJournal(ctx, s, testJob(s, IonBinary), saved, DirSink{Dir: resumed}, &Options{ObjectSize: 1500})
	require.NoError(t, err)
	require.True(t, st.Done)
	require.Equal(t, readTree(t, whole), readTree(t, resumed))
}

func TestEmptyRangeWritesBothManifests(t *testing.T) {
	s := testStrand(t, 1)
	dir := t.TempDir()
	job := testJob(s, IonText)
	job.Blocks = false
	_, err := RunJournal(ctx, s, job, State{}, DirSink{Dir: dir}, nil)
	require.NoError(t, err)
	m, err := os.ReadFile(filepath.Join(dir, "exports", job.ExportID+"."+s.ID()+".completed.manifest"))
	require.NoError(t, err)
	require.Equal(t, "{keys:[]}\n", string(m))
}

func TestDirSink(t *testing.T) {
	dir := t.TempDir()
	d := DirSink{Dir: dir}
	require.NoError(t, d.Put(ctx, "a/b/c.ion", []byte("x")))
	require.NoError(t, d.Put(ctx, "a/b/c.ion", []byte("yy")), "replaces")
	got, err := d.Get(ctx, "a/b/c.ion")
	require.NoError(t, err)
	require.Equal(t, "yy", string(got))
	require.Equal(t, map[string]string{"a/b/c.ion": "yy"}, readTree(t, dir), "no temporary files left")
	for _, bad := range []string{"", "../x", "/etc/passwd", "a/../../x"} {
		require.Error(t, d.Put(ctx, bad, nil), bad)
	}
	require.ErrorIs(t, DirSink{}.Put(ctx, "k", nil), ErrTargetRefused)
	blocked := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(blocked, nil, 0o600))
	require.Error(t, DirSink{Dir: blocked}.Put(ctx, "k", nil), "a file where the directory should be")
}

func TestKeysAndPrefixes(t *testing.T) {
	ts := time.Date(2019, 9, 16, 19, 59, 59, 0, time.UTC)
	require.Equal(t, "2019/09/16/19/JdxjkR9bSYB5jMHWcI464T.1-4.ion", DataKey("", ts, "JdxjkR9bSYB5jMHWcI464T", 1, 4, IonText))
	require.Equal(t, "p/2019/09/16/19/S.1-4.json", DataKey("p", ts, "S", 1, 4, JSON))
	require.Equal(t, "journalExport/E.started.manifest", StartedManifestKey("journalExport", "E"))
	require.Equal(t, "x/y/E.S.completed.manifest", CompletedManifestKey("x/y/", "E", "S"))
	f, err := ParseFormat("")
	require.NoError(t, err)
	require.Equal(t, IonText, f)
	_, err = ParseFormat("CSV")
	require.ErrorContains(t, err, "OutputFormat")
}

func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	}))
	return out
}
