package peers

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/codenotary/immudb/embedded/htree"
	"github.com/codenotary/immudb/embedded/logger"
	"github.com/codenotary/immudb/embedded/store"
	"github.com/quilldb/quill/bench"
)

// Immudb is the immudb embedded store, synced: one key/value per document;
// Prove verifies the entry's inclusion in its transaction and the
// transaction's dual proof against the latest one.
type Immudb struct{}

// Name is the engine's name in reports.
func (Immudb) Name() string { return "immudb" }

// Supports lists immudb's workloads.
func (Immudb) Supports(w string) bool {
	return w == bench.Commit || w == bench.Prove || w == bench.Growth
}

// Open opens a store in dir.
func (Immudb) Open(_ context.Context, dir string) (bench.Store, error) {
	// The default allows 30 concurrent transactions; the harness runs up to
	// 256 clients.
	opts := store.DefaultOptions().WithSynced(true).WithMaxConcurrency(1024).
		WithLogger(logger.NewMemoryLoggerWithLevel(logger.LogError))
	st, err := store.Open(dir, opts)
	if err != nil {
		return nil, err
	}
	return &immudbStore{st: st}, nil
}

type immudbStore struct {
	st *store.ImmuStore
	// where maps a key to the id of the transaction that wrote it.
	where sync.Map
}

func newKey() []byte {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return b[:]
}

func (s *immudbStore) commit(ctx context.Context, docs [][]byte, keys []string) error {
	tx, err := s.st.NewWriteOnlyTx(ctx)
	if err != nil {
		return err
	}
	written := make([]string, len(docs))
	for i, d := range docs {
		k := newKey()
		if keys != nil {
			k = []byte(keys[i])
		}
		if err := tx.Set(k, nil, d); err != nil {
			_ = tx.Cancel()
			return err
		}
		written[i] = string(k)
	}
	hdr, err := tx.Commit(ctx)
	if err != nil {
		return err
	}
	for _, k := range written {
		s.where.Store(k, hdr.ID)
	}
	return nil
}

func (s *immudbStore) Commit(ctx context.Context, docs [][]byte, keys []string) (bench.CommitStats, error) {
	return bench.CommitStats{}, s.commit(ctx, docs, keys)
}

func (s *immudbStore) Seed(ctx context.Context, n int, doc func(i int) []byte) ([]string, error) {
	keys := make([]string, n)
	return keys, bench.Parallel(ctx, n, 32, func(i int) error {
		keys[i] = strconv.Itoa(i) + "-" + string(newKey()[:4])
		return s.commit(ctx, [][]byte{doc(i)}, []string{keys[i]})
	})
}

func (s *immudbStore) Prove(ctx context.Context, key string) (int, error) {
	v, ok := s.where.Load(key)
	if !ok {
		return 0, fmt.Errorf("immudb: no transaction for key %q", key)
	}
	full := store.NewTx(s.st.MaxTxEntries(), s.st.MaxKeyLen())
	if err := s.st.ReadTx(v.(uint64), false, full); err != nil {
		return 0, err
	}
	proof, err := full.Proof([]byte(key))
	if err != nil {
		return 0, err
	}
	entry, err := full.EntryOf([]byte(key))
	if err != nil {
		return 0, err
	}
	value, err := s.st.ReadValue(entry)
	if err != nil {
		return 0, err
	}
	digest, err := store.EntrySpecDigestFor(full.Header().Version)
	if err != nil {
		return 0, err
	}
	leaf := digest(&store.EntrySpec{Key: []byte(key), Metadata: store.NewKVMetadata(), Value: value})
	if !htree.VerifyInclusion(proof, leaf, full.Header().Eh) {
		return 0, errors.New("immudb: inclusion proof does not verify")
	}
	// Then the transaction against the latest one, as a client holding the
	// latest state would check it (immudb's dual proof).
	src := full.Header()
	target, err := s.st.ReadTxHeader(s.st.LastCommittedTxID(), false, false)
	if err != nil {
		return 0, err
	}
	dual, err := s.st.DualProof(src, target)
	if err != nil {
		return 0, err
	}
	if !store.VerifyDualProof(dual, src.ID, target.ID, src.Alh(), target.Alh()) {
		return 0, errors.New("immudb: dual proof does not verify")
	}
	_ = ctx
	n := len(proof.Terms) + len(dual.InclusionProof) + len(dual.ConsistencyProof) + len(dual.LastInclusionProof)
	if dual.LinearProof != nil {
		n += len(dual.LinearProof.Terms)
	}
	return n, nil
}

func (s *immudbStore) Check(context.Context) (int64, error) { return 0, bench.ErrUnsupported }

func (s *immudbStore) Close() error { return s.st.Close() }
