package journal

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/merkle"
)

// benchStrand opens a journal in a temporary directory on the real disk,
// so that Sync means an fsync.
func benchStrand(b *testing.B) (*Journal, *Strand) {
	b.Helper()
	j, err := Open(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = j.Close() })
	s, err := j.CreateStrand(ctx)
	if err != nil {
		b.Fatal(err)
	}
	return j, s
}

// BenchmarkCommit commits single-revision transactions of a small vehicle
// document from 1 and 64 goroutines, durably (Sync) and with NoSync.
func BenchmarkCommit(b *testing.B) {
	for _, durable := range []bool{true, false} {
		for _, committers := range []int{1, 64} {
			name := fmt.Sprintf("sync=%v/committers=%d", durable, committers)
			b.Run(name, func(b *testing.B) {
				_, s := benchStrand(b)
				txs := make([]*Transaction, 1024)
				for i := range txs {
					txs[i] = insertTx(i, ion.NewID())
					txs[i].NoSync = !durable
				}
				var next atomic.Int64
				b.ReportAllocs()
				b.ResetTimer()
				var wg sync.WaitGroup
				for range committers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for {
							i := next.Add(1)
							if i > int64(b.N) {
								return
							}
							tx := *txs[i%int64(len(txs))]
							tx.Revisions = []RevisionInput{{DocumentID: ion.NewID(), Data: tx.Revisions[0].Data}}
							if _, err := s.Commit(ctx, &tx); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
				b.StopTimer()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
			})
		}
	}
}

func buildStrand(b *testing.B, n int) *Strand {
	b.Helper()
	_, s := benchStrand(b)
	var wg sync.WaitGroup
	per := n / 32
	for w := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				tx := insertTx(w*per+i, ion.NewID())
				tx.NoSync = true
				if _, err := s.Commit(ctx, tx); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return s
}

// BenchmarkProof measures block and revision proofs to the tip of a strand
// of 2^15 blocks, read from stored nodes.
func BenchmarkProof(b *testing.B) {
	s := buildStrand(b, 1<<15)
	tip := s.Size() - 1
	b.Run("block", func(b *testing.B) {
		b.ReportAllocs()
		i := uint64(0)
		for b.Loop() {
			if _, err := s.BlockProof(ctx, i%tip, tip); err != nil {
				b.Fatal(err)
			}
			i += 7919
		}
	})
	b.Run("low nodes from blocks", func(b *testing.B) {
		// What a proof adds when its low siblings are not in the node
		// cache (after a restart): the 16 blocks around the leaf.
		db, _, release, err := s.j.store()
		if err != nil {
			b.Fatal(err)
		}
		defer release()
		get := s.nodeGetter(db, nil)
		i := uint64(0)
		for b.Loop() {
			if _, err := get(merkle.NodeID{Level: 3, Index: (i % tip) >> 3}); err != nil {
				b.Fatal(err)
			}
			i += 7919
		}
	})
	b.Run("revision", func(b *testing.B) {
		blk, err := s.Block(ctx, tip/2)
		if err != nil {
			b.Fatal(err)
		}
		id := blk.Revisions[0].Metadata.ID
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := s.RevisionProof(ctx, tip/2, id, tip); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCheck measures full re-verification, reported as blocks/s.
func BenchmarkCheck(b *testing.B) {
	s := buildStrand(b, 1<<14)
	b.ReportAllocs()
	var rep CheckReport
	for b.Loop() {
		var err error
		if rep, err = s.Check(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rep.Blocks)*float64(b.N)/b.Elapsed().Seconds(), "blocks/s")
	b.SetBytes(int64(rep.Bytes))
}

// BenchmarkPrepare is the work a committer does before the sequencer for
// a one-document insert as the ledger layer makes it: the revision's
// metadata and hash, transactionInfo's hash and the block body.
func BenchmarkPrepare(b *testing.B) {
	doc := ion.Struct(ion.F("VIN", ion.String("1N4AL11D75C109151")), ion.F("City", ion.String("Everett")))
	bin, hash := ion.AppendBinary(nil, doc), merkle.Hash(ion.Hash(doc))
	now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	docID := ion.NewTimeOrderedID(now)
	stmt, err := NewStatementInfo("INSERT INTO Vehicles ?", now, hash)
	if err != nil {
		b.Fatal(err)
	}
	tx := &Transaction{ID: ion.NewID(), Time: now, TypedInfo: &TransactionInfo{
		Statements: []StatementInfo{stmt},
		Documents:  []DocumentInfo{{ID: docID, TableName: "Vehicles", TableID: "5PLf9SXwndd63lPaSIa0O6", Statements: []int{0}}}},
		Revisions: []RevisionInput{{DocumentID: docID, DataHash: &hash, DataBinary: bin}}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := prepare(tx, now, -1); err != nil {
			b.Fatal(err)
		}
	}
}
