package export

import (
	"bytes"
	"context"
	"crypto/md5" //nolint:gosec // DynamoDB's manifests carry MD5 checksums; not used for security
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/journal"
)

// Table exports write a table's documents as DynamoDB's
// ExportTableToPointInTime does:
//
//	PREFIX AWSDynamoDB/ID/_started                 empty, first
//	PREFIX AWSDynamoDB/ID/data/000000.json.gz      gzip, many written at once
//	PREFIX AWSDynamoDB/ID/manifest-files.json      JSON Lines, one per data file
//	PREFIX AWSDynamoDB/ID/manifest-files.checksum  MD5 of it, hex
//	PREFIX AWSDynamoDB/ID/manifest-summary.json    the export, last
//	PREFIX AWSDynamoDB/ID/manifest-summary.checksum
//
// Data files are numbered, and cut by the items alone, so that a resumed
// export writes the same files.

// Table export formats and types.
const (
	TableION          = "ION"
	TableDynamoDBJSON = "DYNAMODB_JSON"
	FullExport        = "FULL_EXPORT"
	IncrementalExport = "INCREMENTAL_EXPORT"
)

// TableItem is one document revision of a table export.
type TableItem struct {
	ID      string
	Version int64
	Address journal.Address
	TxTime  time.Time
	// Data is the document; the zero Value for a delete (incremental
	// exports only).
	Data    ion.Value
	Deleted bool
}

// TableJob is one table export.
type TableJob struct {
	ExportID  string
	ExportArn string
	TableArn  string
	TableID   string
	Bucket    string
	Prefix    string
	SSE       string // s3SseAlgorithm: AES256, KMS or "" for none
	Format    string // ION or DYNAMODB_JSON
	Type      string // FULL_EXPORT or INCREMENTAL_EXPORT
	// ExportTime is the time a full export shows the table at; From and
	// To bound an incremental export's revisions.
	ExportTime, From, To time.Time
	StartTime            time.Time
}

// TableFile is one data file written.
type TableFile struct {
	Key       string `json:"dataFileS3Key"`
	ItemCount uint64 `json:"itemCount"`
	MD5       string `json:"md5Checksum"` // base64 of the gzip file's MD5
	ETag      string `json:"etag"`        // hex MD5, as S3 gives for a single PUT
	Size      int64  `json:"-"`
}

// TableState is a table export's progress.
type TableState struct {
	Started bool        // the _started marker is written
	Files   []TableFile // data files written, in order, each after all before it
	Items   uint64      // items in Files
	Bytes   int64       // bytes of Files
	Done    bool        // the manifests are written
}

// TableOptions tune RunTable.
type TableOptions struct {
	// FileSize is the uncompressed size at which a data file is closed.
	// Default: 16 MiB.
	FileSize int
	// Workers is how many data files are compressed and written at once.
	// Default: GOMAXPROCS.
	Workers int
	// Progress is called with the state after each data file that
	// completes the files before it; an error stops the export.
	Progress func(TableState) error
}

// ItemSource calls fn with the export's items, always in the same order.
type ItemSource func(ctx context.Context, fn func(TableItem) error) error

func (j *TableJob) base() string {
	return NormalizePrefix(j.Prefix) + "AWSDynamoDB/" + j.ExportID + "/"
}

// TableDataKey is the key of data file n of an export.
func (j *TableJob) TableDataKey(n int) string {
	ext := ".ion.gz"
	if j.Format == TableDynamoDBJSON {
		ext = ".json.gz"
	}
	return fmt.Sprintf("%sdata/%06d%s", j.base(), n, ext)
}

// ManifestSummaryKey is the key of the export's manifest-summary.json.
func (j *TableJob) ManifestSummaryKey() string { return j.base() + "manifest-summary.json" }

// RunTable writes the export from state (the zero TableState for a new
// one) and returns the final state.
func RunTable(ctx context.Context, items ItemSource, job *TableJob, state TableState, sink Sink, opts *TableOptions) (TableState, error) {
	var o TableOptions
	if opts != nil {
		o = *opts
	}
	if o.FileSize <= 0 {
		o.FileSize = 16 << 20
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if state.Done {
		return state, nil
	}
	report := func() error {
		if o.Progress == nil {
			return nil
		}
		return o.Progress(state)
	}
	if !state.Started {
		if err := sink.Put(ctx, job.base()+"_started", nil); err != nil {
			return state, fmt.Errorf("table export %s: _started: %w", job.ExportID, err)
		}
		state.Started = true
		if err := report(); err != nil {
			return state, err
		}
	}
	w := newFileWriter(ctx, job, sink, &state, o, report)
	skip := state.Items // the items of the files already written
	var n uint64
	var buf []byte
	var count uint64
	err := items(ctx, func(it TableItem) error {
		n++
		if n <= skip {
			return nil
		}
		buf = appendItemLine(buf, job, it)
		count++
		if len(buf) >= o.FileSize {
			if err := w.submit(buf, count); err != nil {
				return err
			}
			buf, count = nil, 0
		}
		return nil
	})
	if err == nil && count > 0 {
		err = w.submit(buf, count)
	}
	if werr := w.wait(); err == nil {
		err = werr
	}
	if err != nil {
		return state, err
	}
	if err := writeTableManifests(ctx, job, &state, sink); err != nil {
		return state, err
	}
	state.Done = true
	return state, report()
}

// fileWriter compresses and writes data files on workers, and records them
// in the state in file order.
type fileWriter struct {
	ctx    context.Context
	cancel context.CancelFunc
	job    *TableJob
	sink   Sink
	state  *TableState
	report func() error
	jobs   chan fileJob
	wg     sync.WaitGroup

	mu   sync.Mutex
	next int // the number of the next file submitted
	done map[int]TableFile
	err  error
}

type fileJob struct {
	n     int
	data  []byte
	items uint64
}

func newFileWriter(ctx context.Context, job *TableJob, sink Sink, state *TableState, o TableOptions, report func() error) *fileWriter {
	ctx, cancel := context.WithCancel(ctx)
	w := &fileWriter{ctx: ctx, cancel: cancel, job: job, sink: sink, state: state, report: report,
		jobs: make(chan fileJob), next: len(state.Files), done: map[int]TableFile{}}
	for range o.Workers {
		w.wg.Go(w.work)
	}
	return w
}

func (w *fileWriter) submit(data []byte, items uint64) error {
	w.mu.Lock()
	n := w.next
	w.next++
	err := w.err
	w.mu.Unlock()
	if err != nil {
		return err
	}
	select {
	case w.jobs <- fileJob{n: n, data: data, items: items}:
		return nil
	case <-w.ctx.Done():
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.err != nil {
			return w.err
		}
		return w.ctx.Err()
	}
}

func (w *fileWriter) work() {
	for j := range w.jobs {
		f, err := w.write(j)
		w.mu.Lock()
		if err != nil {
			if w.err == nil {
				w.err = err
				w.cancel()
			}
			w.mu.Unlock()
			continue
		}
		w.done[j.n] = f
		// Record the files that now follow on from the last recorded one,
		// until a report fails.
		for w.err == nil {
			f, ok := w.done[len(w.state.Files)]
			if !ok {
				break
			}
			delete(w.done, len(w.state.Files))
			w.state.Files = append(w.state.Files, f)
			w.state.Items += f.ItemCount
			w.state.Bytes += f.Size
			if err := w.report(); err != nil {
				w.err = err
				w.cancel()
			}
		}
		w.mu.Unlock()
	}
}

func (w *fileWriter) write(j fileJob) (TableFile, error) {
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.DefaultCompression)
	if err != nil {
		return TableFile{}, err
	}
	if _, err := zw.Write(j.data); err != nil {
		return TableFile{}, err
	}
	if err := zw.Close(); err != nil {
		return TableFile{}, err
	}
	key := w.job.TableDataKey(j.n)
	if err := w.sink.Put(w.ctx, key, gz.Bytes()); err != nil {
		return TableFile{}, fmt.Errorf("table export %s: %s: %w", w.job.ExportID, key, err)
	}
	sum := md5.Sum(gz.Bytes()) //nolint:gosec // the manifest's checksum
	return TableFile{Key: key, ItemCount: j.items, MD5: base64.StdEncoding.EncodeToString(sum[:]),
		ETag: hex.EncodeToString(sum[:]), Size: int64(gz.Len())}, nil
}

func (w *fileWriter) wait() error {
	close(w.jobs)
	w.wg.Wait()
	w.cancel()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// appendItemLine writes one item as a line of the export's format. Full
// exports write {Item, Metadata}; incremental ones DynamoDB's change shape
// {Metadata, Keys, NewImage} (no NewImage for a delete). Metadata carries
// what a reader needs to ask for a proof of the revision: its document id,
// version and block address.
func appendItemLine(b []byte, job *TableJob, it TableItem) []byte {
	micros := it.TxTime.UnixMicro()
	if job.Format == TableDynamoDBJSON {
		meta := fmt.Sprintf(`{"WriteTimestampMicros":%d,"id":%q,"version":%d,"blockAddress":{"strandId":%q,"sequenceNo":%d},"txTime":%q}`,
			micros, it.ID, it.Version, it.Address.Strand, it.Address.SequenceNo, it.TxTime.UTC().Format("2006-01-02T15:04:05.000Z"))
		if job.Type == IncrementalExport {
			b = fmt.Appendf(b, `{"Metadata":%s,"Keys":{"id":{"S":%q}}`, meta, it.ID)
			if !it.Deleted {
				b = append(b, `,"NewImage":`...)
				b = ion.AppendDynamoDBItem(b, it.Data)
			}
			return append(b, "}\n"...)
		}
		b = append(b, `{"Item":`...)
		b = ion.AppendDynamoDBItem(b, it.Data)
		return append(append(append(b, `,"Metadata":`...), meta...), "}\n"...)
	}
	meta := ion.Struct(ion.F("WriteTimestampMicros", ion.Int(micros)), ion.F("id", ion.String(it.ID)),
		ion.F("version", ion.Int(it.Version)),
		ion.F("blockAddress", ion.Struct(ion.F("strandId", ion.String(it.Address.Strand)), ion.F("sequenceNo", ion.Uint(it.Address.SequenceNo)))),
		ion.F("txTime", ion.SystemTime(it.TxTime)))
	var v ion.Value
	if job.Type == IncrementalExport {
		fields := []ion.Field{ion.F("Metadata", meta), ion.F("Keys", ion.Struct(ion.F("id", ion.String(it.ID))))}
		if !it.Deleted {
			fields = append(fields, ion.F("NewImage", it.Data))
		}
		v = ion.Struct(fields...)
	} else {
		v = ion.Struct(ion.F("Item", it.Data), ion.F("Metadata", meta))
	}
	return append(ion.AppendText(b, v), '\n')
}

// writeTableManifests writes manifest-files.json, manifest-summary.json and
// their checksums.
func writeTableManifests(ctx context.Context, job *TableJob, state *TableState, sink Sink) error {
	var files bytes.Buffer
	enc := json.NewEncoder(&files)
	for _, f := range state.Files {
		if err := enc.Encode(f); err != nil {
			return err
		}
	}
	put := func(name string, body []byte) error {
		if err := sink.Put(ctx, job.base()+name, body); err != nil {
			return fmt.Errorf("table export %s: %s: %w", job.ExportID, name, err)
		}
		sum := md5.Sum(body) //nolint:gosec // the manifests' checksum
		checksum := name[:len(name)-len(".json")] + ".checksum"
		return sink.Put(ctx, job.base()+checksum, []byte(hex.EncodeToString(sum[:])))
	}
	if err := put("manifest-files.json", files.Bytes()); err != nil {
		return err
	}
	ts := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return t.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	var sse any
	if job.SSE != "" {
		sse = job.SSE
	}
	summary := map[string]any{
		"version": "2020-06-30", "exportArn": job.ExportArn, "startTime": ts(job.StartTime), "endTime": ts(time.Now()),
		"tableArn": job.TableArn, "tableId": job.TableID, "exportTime": ts(job.ExportTime), "s3Bucket": job.Bucket,
		"s3Prefix": job.Prefix, "s3SseAlgorithm": sse, "s3SseKmsKeyId": nil,
		"manifestFilesS3Key": job.base() + "manifest-files.json", "billedSizeBytes": state.Bytes,
		"itemCount": state.Items, "outputFormat": job.Format, "exportType": job.Type,
	}
	if job.Type == IncrementalExport {
		summary["exportTime"] = nil
		summary["exportFromTime"], summary["exportToTime"] = ts(job.From), ts(job.To)
	}
	body, err := json.Marshal(summary)
	if err != nil {
		return err
	}
	return put("manifest-summary.json", body)
}
