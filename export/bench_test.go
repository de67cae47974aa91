package export

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/journal"
)

// BenchmarkJournalExport exports a journal of each size to a directory
// and reports blocks/s and the live heap the export adds (the peak of
// runtime/metrics' /gc/heap/live:bytes during the export, above the live
// heap before it), apart from the ledger layer and the bench harness.
func BenchmarkJournalExport(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("blocks=%d", n), func(b *testing.B) {
			if testing.Short() && n > 10_000 {
				b.Skip("short")
			}
			s := diskStrand(b, n)
			for b.Loop() {
				dir := b.TempDir()
				base := sampleLive(true)
				var peak uint64
				done := make(chan struct{})
				var wg sync.WaitGroup
				wg.Go(func() {
					t := time.NewTicker(5 * time.Millisecond)
					defer t.Stop()
					for {
						select {
						case <-t.C:
							peak = max(peak, sampleLive(false))
						case <-done:
							return
						}
					}
				})
				t0 := time.Now()
				job := &Job{ExportID: ion.NewID(), LedgerName: "l", Strand: s.ID(), Format: IonBinary,
					Start: time.Unix(0, 0), End: time.Now(), Bucket: "b", Encryption: "NO_ENCRYPTION",
					Blocks: true, First: 0, Last: s.Size() - 1}
				if _, err := RunJournal(context.Background(), s, job, State{}, DirSink{Dir: dir}, nil); err != nil {
					b.Fatal(err)
				}
				elapsed := time.Since(t0)
				close(done)
				wg.Wait()
				b.ReportMetric(float64(s.Size())/elapsed.Seconds(), "blocks/s")
				b.ReportMetric(float64(max(peak, sampleLive(false))-base)/(1<<20), "live-heap-added-MiB")
			}
		})
	}
}

func sampleLive(gc bool) uint64 {
	if gc {
		runtime.GC()
	}
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// diskStrand commits n blocks of one ~1 KiB document to a journal on disk
// (not synced: only the export is measured).
func diskStrand(b *testing.B, n int) *journal.Strand {
	b.Helper()
	j, err := journal.Open(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = j.Close() })
	s, err := j.CreateStrand(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	pad := strings.Repeat("x", 900)
	var wg sync.WaitGroup
	for w := range 64 {
		wg.Go(func() {
			for i := w; i < n; i += 64 {
				_, err := s.Commit(context.Background(), &journal.Transaction{NoSync: true,
					Info: ion.Struct(ion.F("statements", ion.List(ion.Struct(ion.F("statement", ion.String("INSERT INTO T ?")))))),
					Revisions: []journal.RevisionInput{{DocumentID: ion.NewID(),
						Data: ion.Struct(ion.F("n", ion.Int(int64(i))), ion.F("pad", ion.String(pad)))}}})
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return s
}
