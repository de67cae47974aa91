package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/quilldb/quill"
	"github.com/quilldb/quill/export"
	s3sink "github.com/quilldb/quill/export/s3"
	"github.com/quilldb/quill/internal/wait"
)

// Export is the journal export workload: for each size, the export's rate
// in blocks/s and MB/s per format to a local directory (and to a bucket
// with -bucket), the heap it adds, its rate against Check on the same
// journal, and the commit rate at 16 clients beside an export against
// without one.
const Export = "export"

// exporter is what an engine's Store offers for the export workload.
type exporter interface {
	// ExportJournal exports the whole journal in format to sink and returns
	// the blocks and bytes written.
	ExportJournal(ctx context.Context, format string, sink export.Sink) (blocks uint64, bytes int64, err error)
}

func runExport(ctx context.Context, c *Config, e Engine, p *progress) ([]Result, error) {
	return perSize(ctx, c, e, p, Export, exportPoints)
}

// perSize runs points on a fresh store for each of the sizes; points
// reports several results per size, the first of which the progress shows.
func perSize(ctx context.Context, c *Config, e Engine, p *progress, workload string,
	points func(ctx context.Context, c *Config, e Engine, s Store, size int, pool *docPool) ([]Result, error)) ([]Result, error) {
	pool := newDocPool(4096)
	var out []Result
	for _, size := range c.Sizes {
		p.start(e.Name(), workload, 0, size)
		s, cleanup, err := openFresh(ctx, c, e)
		if err != nil {
			return nil, err
		}
		res, err := points(ctx, c, e, s, size, pool)
		cleanup()
		if err != nil {
			return nil, err
		}
		p.finish(res[0])
		out = append(out, res...)
	}
	return out, nil
}

func exportPoints(ctx context.Context, c *Config, e Engine, s Store, size int, pool *docPool) ([]Result, error) {
	ex, ok := s.(exporter)
	if !ok {
		return nil, ErrUnsupported
	}
	if _, err := s.Seed(ctx, size, pool.get); err != nil {
		return nil, err
	}
	t0 := time.Now()
	if _, err := s.Check(ctx); err != nil {
		return nil, err
	}
	checkRate := float64(size) / time.Since(t0).Seconds()

	type target struct {
		name string
		sink func(format string) (export.Sink, func(), error)
	}
	targets := []target{{"dir", func(string) (export.Sink, func(), error) {
		dir, err := os.MkdirTemp(c.Dir, "quill-bench-export-")
		return export.DirSink{Dir: dir}, func() { _ = os.RemoveAll(dir) }, err
	}}}
	if c.ExportBucket != "" {
		targets = append(targets, target{"s3", func(string) (export.Sink, func(), error) {
			sink, err := s3sink.New(ctx, s3sink.Config{Bucket: c.ExportBucket})
			return sink, func() {}, err
		}})
	}
	var out []Result
	for _, t := range targets {
		for _, format := range []string{"ION_TEXT", "ION_BINARY", "JSON"} {
			sink, done, err := t.sink(format)
			if err != nil {
				return nil, err
			}
			heap := startHeapSampler()
			t0 := time.Now()
			blocks, bytes, err := ex.ExportJournal(ctx, format, sink)
			elapsed := time.Since(t0)
			added := heap.stop()
			done()
			if err != nil {
				return nil, fmt.Errorf("export %s to %s: %w", format, t.name, err)
			}
			r := point(e.Name(), Export, 0, size, int64(blocks), elapsed, nil)
			r.Extra["format="+format+",target="+t.name] = 1
			r.Extra["MB/s"] = float64(bytes) / elapsed.Seconds() / 1e6
			r.Extra["vs-check"] = r.OpsPerSec / checkRate
			r.Extra["live-heap-added-MiB"] = float64(added) / (1 << 20)
			out = append(out, r)
		}
	}

	// Commits at 16 clients alone, then beside a running ION_BINARY export.
	commit := func() (Result, error) {
		ops, elapsed, lat, err := measure(ctx, 16, c.Duration, func(_, i int) error {
			_, err := s.Commit(ctx, [][]byte{pool.get(i)}, nil)
			return err
		})
		return point(e.Name(), Export, 16, size, ops, elapsed, lat), err
	}
	alone, err := commit()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(c.Dir, "quill-bench-export-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	// Beside an export as fast as it goes, then beside one held to 2,000
	// blocks/s by its target (a sink that takes as long per object as that
	// rate allows).
	bytesPerBlock := float64(out[1].Extra["MB/s"]*1e6) / out[1].OpsPerSec // ION_BINARY to a directory
	for _, pace := range []float64{0, 2000} {
		var sink export.Sink = export.DirSink{Dir: dir}
		if pace > 0 {
			sink = pacedSink{Sink: sink, perByte: time.Duration(float64(time.Second) / (pace * bytesPerBlock))}
		}
		ectx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Go(func() {
			for ectx.Err() == nil {
				_, _, _ = ex.ExportJournal(ectx, "ION_BINARY", sink)
			}
		})
		r, err := commit()
		cancel()
		wg.Wait()
		if err != nil {
			return nil, err
		}
		r.Extra["commits-beside-export-paced-at"] = pace
		r.Extra["alone-tx/s"] = alone.OpsPerSec
		r.Extra["kept"] = r.OpsPerSec / alone.OpsPerSec
		out = append(out, r)
	}
	return out, nil
}

// pacedSink takes perByte for each byte it stores: a slow target.
type pacedSink struct {
	export.Sink
	perByte time.Duration
}

func (p pacedSink) Put(ctx context.Context, key string, body []byte) error {
	t0 := time.Now()
	if err := p.Sink.Put(ctx, key, body); err != nil {
		return err
	}
	return wait.Sleep(ctx, time.Duration(len(body))*p.perByte-time.Since(t0))
}

// heapSampler records the peak live heap (as of each garbage collection,
// runtime/metrics' /gc/heap/live:bytes) above the live heap when it
// started: what the work holds, not the garbage it has yet to collect.
type heapSampler struct {
	base, peak uint64
	done       chan struct{}
	wg         sync.WaitGroup
}

func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func startHeapSampler() *heapSampler {
	runtime.GC()
	h := &heapSampler{done: make(chan struct{}), base: liveHeap()}
	h.peak = h.base
	h.wg.Go(func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				h.peak = max(h.peak, liveHeap())
			case <-h.done:
				return
			}
		}
	})
	return h
}

func (h *heapSampler) stop() uint64 {
	close(h.done)
	h.wg.Wait()
	return max(h.peak, liveHeap()) - h.base
}

// ExportJournal runs one journal export of the whole ledger through the
// embedding API (ExportJournalToS3 and WaitJournalS3Export).
func (s *quillStore) ExportJournal(ctx context.Context, format string, sink export.Sink) (uint64, int64, error) {
	s.exportSink.Store(&sink)
	time.Sleep(2 * time.Millisecond) // the range's end is exclusive, to the millisecond
	id, err := s.db.ExportJournalToS3(ctx, "bench", &quill.ExportJournalToS3Input{
		InclusiveStartTime: time.Unix(0, 0), ExclusiveEndTime: time.Now(), Bucket: "bench-export",
		ObjectEncryptionType: "NO_ENCRYPTION", RoleArn: "arn:aws:iam::000000000000:role/bench", OutputFormat: format})
	if err != nil {
		return 0, 0, err
	}
	d, err := s.db.WaitJournalS3Export(ctx, "bench", id)
	if ctx.Err() != nil {
		// Export jobs outlive their caller's context: stop this one, so
		// that it does not run into the next measurement.
		_, cerr := s.db.CancelJournalS3Export(context.WithoutCancel(ctx), "bench", id)
		return 0, 0, errors.Join(ctx.Err(), cerr)
	}
	if err != nil {
		return 0, 0, err
	}
	if d.Status != quill.ExportCompleted {
		return 0, 0, fmt.Errorf("export %s: %s", d.Status, d.ErrorCause)
	}
	return d.BlocksExported, d.BytesWritten, nil
}

// ExportTable is the table export workload: for each size, a full export
// of a table of that many documents, each format, to a local directory:
// items/s, MB/s of compressed files and the live heap it adds.
const ExportTable = "export-table"

// tableExporter is what an engine's Store offers for ExportTable.
type tableExporter interface {
	ExportTable(ctx context.Context, format string, sink export.Sink) (items uint64, bytes int64, err error)
}

func runExportTable(ctx context.Context, c *Config, e Engine, p *progress) ([]Result, error) {
	return perSize(ctx, c, e, p, ExportTable, exportTablePoints)
}

func exportTablePoints(ctx context.Context, c *Config, e Engine, s Store, size int, pool *docPool) ([]Result, error) {
	ex, ok := s.(tableExporter)
	if !ok {
		return nil, ErrUnsupported
	}
	if _, err := s.Seed(ctx, size, pool.get); err != nil {
		return nil, err
	}
	var out []Result
	for _, format := range []string{"ION", "DYNAMODB_JSON"} {
		dir, err := os.MkdirTemp(c.Dir, "quill-bench-export-table-")
		if err != nil {
			return nil, err
		}
		heap := startHeapSampler()
		t0 := time.Now()
		items, bytes, err := ex.ExportTable(ctx, format, export.DirSink{Dir: dir})
		elapsed := time.Since(t0)
		added := heap.stop()
		_ = os.RemoveAll(dir)
		if err != nil {
			return nil, fmt.Errorf("export-table %s: %w", format, err)
		}
		r := point(e.Name(), ExportTable, 0, size, int64(items), elapsed, nil)
		r.Extra["format="+format] = 1
		r.Extra["MB/s"] = float64(bytes) / elapsed.Seconds() / 1e6
		r.Extra["live-heap-added-MiB"] = float64(added) / (1 << 20)
		out = append(out, r)
	}
	return out, nil
}

// ExportTable exports the bench table through the embedding API.
func (s *quillStore) ExportTable(ctx context.Context, format string, sink export.Sink) (uint64, int64, error) {
	s.exportSink.Store(&sink)
	d, err := s.db.ExportTable(ctx, "bench", &quill.ExportTableInput{Table: table, Format: format, Bucket: "bench-export"})
	if err != nil {
		return 0, 0, err
	}
	if d, err = s.db.WaitTableExport(ctx, d.ExportArn); err != nil {
		return 0, 0, err
	}
	if d.Status != quill.TableExportCompleted {
		return 0, 0, fmt.Errorf("table export %s: %s", d.Status, d.FailureMessage)
	}
	return d.ItemCount, d.BilledSizeBytes, nil
}
