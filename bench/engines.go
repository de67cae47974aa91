package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/quilldb/quill"
	"github.com/quilldb/quill/export"
	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/journal"
	"github.com/quilldb/quill/stream"
	"github.com/quilldb/quill/verify"
)

func init() {
	Register(quillEngine{})
	Register(pebbleEngine{})
}

// quillEngine runs workloads through Quill's embedding API: one ledger, one
// table, Execute with Insert/Update, GetDigest + GetRevision +
// VerifyRevision for proofs, Ledger.Check.
type quillEngine struct{}

func (quillEngine) Name() string { return "quill" }

func (quillEngine) Supports(string) bool { return true }

func (quillEngine) Open(ctx context.Context, dir string) (Store, error) {
	s := &quillStore{}
	db, err := quill.Open(dir, &quill.Options{MaxRetries: 100, MaxActiveJournalExports: 100,
		ExportSinks: func(context.Context, export.Target) (export.Sink, error) {
			if sink := s.exportSink.Load(); sink != nil {
				return *sink, nil
			}
			return nil, errors.New("bench: no export sink set")
		},
		StreamSinks: func(context.Context, quill.StreamTarget) (stream.Sink, error) {
			if sink := s.streamSink.Load(); sink != nil {
				return *sink, nil
			}
			return nil, errors.New("bench: no stream sink set")
		}})
	if err != nil {
		return nil, err
	}
	if _, err := db.CreateLedger(ctx, &quill.CreateLedgerInput{Name: "bench", PermissionsMode: quill.PermissionsStandard}); err != nil {
		_ = db.Close()
		return nil, err
	}
	l, err := db.Ledger(ctx, "bench")
	if err == nil {
		err = l.Execute(ctx, func(tx *quill.Tx) error { _, err := tx.CreateTable("VehicleRegistration"); return err })
	}
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	s.db, s.l = db, l
	return s, nil
}

type quillStore struct {
	db         *quill.DB
	l          *quill.Ledger
	addrs      sync.Map                    // document id -> journal.Address of its latest revision
	exportSink atomic.Pointer[export.Sink] // where the export workload writes
	streamSink atomic.Pointer[stream.Sink] // where the stream workload delivers
}

const table = "VehicleRegistration"

// JournalStats counts the ledger's commit path (bench reports it).
func (s *quillStore) JournalStats() journal.Stats { return s.db.JournalStats() }

func (s *quillStore) Commit(ctx context.Context, docs [][]byte, keys []string) (CommitStats, error) {
	var ids []string
	rec, err := s.l.ExecuteReceipt(ctx, func(tx *quill.Tx) error {
		ids = ids[:0]
		for i, d := range docs {
			if keys != nil {
				if _, ok, err := tx.Get(table, keys[i]); err != nil || !ok {
					return fmt.Errorf("document %s: found %v: %w", keys[i], ok, err)
				}
				if err := tx.Update(table, keys[i], d); err != nil {
					return err
				}
				ids = append(ids, keys[i])
				continue
			}
			id, err := tx.Insert(table, d)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err == nil && keys != nil {
		// Keep the addresses of seeded documents current for Prove; new
		// documents are not proved.
		for _, id := range ids {
			s.addrs.Store(id, rec.Block)
		}
	}
	return CommitStats{Retries: rec.Attempts - 1}, err
}

func (s *quillStore) Seed(ctx context.Context, n int, doc func(i int) []byte) ([]string, error) {
	keys := make([]string, n)
	return keys, Parallel(ctx, n, 64, func(i int) error {
		rec, err := s.l.ExecuteReceipt(ctx, func(tx *quill.Tx) error {
			id, err := tx.Insert(table, doc(i))
			keys[i] = id
			return err
		})
		if err == nil {
			s.addrs.Store(keys[i], rec.Block)
		}
		return err
	})
}

func (s *quillStore) Prove(ctx context.Context, key string) (int, error) {
	a, ok := s.addrs.Load(key)
	if !ok {
		return 0, fmt.Errorf("no address for %s", key)
	}
	digest, err := s.l.GetDigest(ctx)
	if err != nil {
		return 0, err
	}
	rev, proof, err := s.l.GetRevision(ctx, a.(journal.Address), key, &digest.Tip)
	if err != nil {
		return 0, err
	}
	// A client gets Ion text over the wire and verifies what it parsed:
	// measure that, not the typed shortcut.
	parsedRev, err := ion.ParseText(rev.IonText())
	if err != nil {
		return 0, err
	}
	parsedProof, err := verify.ParseProof([]byte(journal.ProofText(proof)))
	if err != nil {
		return 0, err
	}
	if err := verify.RevisionAgainstDigest(parsedRev, parsedProof, digest.Digest[:]); err != nil {
		return 0, err
	}
	return len(proof), nil
}

func (s *quillStore) Check(ctx context.Context) (int64, error) {
	rep, err := s.l.Check(ctx)
	return int64(rep.Bytes), err
}

func (s *quillStore) Close() error { return s.db.Close() }

// pebbleEngine is the physical limit: the same document bytes per
// transaction written as one synced Pebble batch, nothing else.
type pebbleEngine struct{}

func (pebbleEngine) Name() string { return "pebble" }

func (pebbleEngine) Supports(w string) bool { return w == Commit || w == Growth }

func (pebbleEngine) Open(_ context.Context, dir string) (Store, error) {
	db, err := pebble.Open(dir, &pebble.Options{Logger: quietLogger{}})
	if err != nil {
		return nil, err
	}
	return &pebbleStore{db: db}, nil
}

type pebbleStore struct {
	db *pebble.DB
}

func randomKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *pebbleStore) Commit(_ context.Context, docs [][]byte, keys []string) (CommitStats, error) {
	b := s.db.NewBatch()
	defer b.Close()
	for i, d := range docs {
		k := ""
		if keys != nil {
			k = keys[i]
		} else {
			k = randomKey()
		}
		_ = b.Set([]byte(k), d, nil)
	}
	return CommitStats{}, s.db.Apply(b, pebble.Sync)
}

func (s *pebbleStore) Seed(ctx context.Context, n int, doc func(i int) []byte) ([]string, error) {
	keys := make([]string, n)
	return keys, Parallel(ctx, n, 8, func(i int) error {
		keys[i] = randomKey()
		return s.db.Set([]byte(keys[i]), doc(i), pebble.NoSync)
	})
}

func (s *pebbleStore) Prove(context.Context, string) (int, error) { return 0, ErrUnsupported }

func (s *pebbleStore) Check(context.Context) (int64, error) { return 0, ErrUnsupported }

func (s *pebbleStore) Close() error { return s.db.Close() }

type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(format string, args ...any) {
	slog.Error("pebble fatal", "msg", fmt.Sprintf(format, args...))
	panic(fmt.Sprintf(format, args...))
}

// Parallel runs fn(0..n-1) on workers goroutines, stopping at the first
// error, which it returns. Engines use it to seed their stores.
func Parallel(ctx context.Context, n, workers int, fn func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range min(workers, max(n, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
					next.Store(int64(n))
					return
				}
			}
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}
