package quill

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/quilldb/quill/ion"
)

// BenchmarkExecuteInsert commits single-document insert transactions
// through the embedding API from 1 and 64 goroutines, durably, on disk.
func BenchmarkExecuteInsert(b *testing.B) {
	doc := ion.AppendBinary(nil, ion.Struct(
		ion.F("VIN", ion.String("1N4AL11D75C109151")), ion.F("City", ion.String("Everett")),
		ion.F("PendingPenaltyTicketAmount", ion.Decimal(9025, -2)),
		ion.F("Notes", ion.String(string(make([]byte, 700))))))
	for _, clients := range []int{1, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			db, err := Open(b.TempDir(), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			if _, err := db.CreateLedger(ctx, &CreateLedgerInput{Name: "bench", PermissionsMode: PermissionsStandard}); err != nil {
				b.Fatal(err)
			}
			l, _ := db.Ledger(ctx, "bench")
			if err := l.Execute(ctx, func(tx *Tx) error { _, err := tx.CreateTable("T"); return err }); err != nil {
				b.Fatal(err)
			}
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ReportAllocs()
			b.ResetTimer()
			for range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for next.Add(1) <= int64(b.N) {
						if err := l.Execute(ctx, func(tx *Tx) error { _, err := tx.Insert("T", doc); return err }); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
		})
	}
}
