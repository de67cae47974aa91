package peers

import (
	"context"
	"crypto/rand"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/quilldb/quill/bench"
	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/client"
	"github.com/transparency-dev/tessera/storage/posix"
	"golang.org/x/mod/sumdb/note"
)

// Tessera is the transparency-log peer: Tessera's POSIX driver (which
// fsyncs what it writes); a commit is an Add that waits until a published
// checkpoint covers the entry; Prove builds and verifies an inclusion
// proof against the latest checkpoint.
type Tessera struct{}

// Name is the engine's name in reports.
func (Tessera) Name() string { return "tessera" }

// Supports lists Tessera's workloads.
func (Tessera) Supports(w string) bool {
	return w == bench.Commit || w == bench.Prove || w == bench.Growth
}

// Open starts a log in dir. Batches close after 5 ms and checkpoints are
// published every 100 ms, the shortest interval Tessera v1.0.4 permits, so
// a single client waits up to that long for each entry's integration.
func (Tessera) Open(ctx context.Context, dir string) (bench.Store, error) {
	skey, vkey, err := note.GenerateKey(rand.Reader, "quill-bench")
	if err != nil {
		return nil, err
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, err
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	driver, err := posix.New(ctx, posix.Config{Path: dir})
	if err != nil {
		return nil, err
	}
	appender, shutdown, reader, err := tessera.NewAppender(ctx, driver, tessera.NewAppendOptions().
		WithCheckpointSigner(signer).
		WithBatching(256, 5*time.Millisecond).
		WithCheckpointInterval(100*time.Millisecond).
		WithCheckpointRepublishInterval(0))
	if err != nil {
		return nil, err
	}
	s := &tesseraStore{appender: appender, shutdown: shutdown, reader: reader, verifier: verifier,
		data: map[uint64][]byte{}}
	s.awaiter = tessera.NewPublicationAwaiter(ctx, reader.ReadCheckpoint, 2*time.Millisecond)
	return s, nil
}

type tesseraStore struct {
	appender *tessera.Appender
	shutdown func(context.Context) error
	reader   tessera.LogReader
	awaiter  *tessera.PublicationAwaiter
	verifier note.Verifier

	mu   sync.Mutex
	data map[uint64][]byte // entry index -> entry, to recompute leaf hashes
}

func (s *tesseraStore) add(ctx context.Context, docs [][]byte) ([]uint64, error) {
	futures := make([]tessera.IndexFuture, len(docs))
	for i, d := range docs {
		futures[i] = s.appender.Add(ctx, tessera.NewEntry(d))
	}
	idx := make([]uint64, len(docs))
	for i, f := range futures {
		index, _, err := s.awaiter.Await(ctx, f)
		if err != nil {
			return nil, err
		}
		idx[i] = index.Index
	}
	s.mu.Lock()
	for i, d := range docs {
		s.data[idx[i]] = d
	}
	s.mu.Unlock()
	return idx, nil
}

func (s *tesseraStore) Commit(ctx context.Context, docs [][]byte, keys []string) (bench.CommitStats, error) {
	if keys != nil {
		return bench.CommitStats{}, bench.ErrUnsupported // an append-only log has no updates
	}
	_, err := s.add(ctx, docs)
	return bench.CommitStats{}, err
}

func (s *tesseraStore) Seed(ctx context.Context, n int, doc func(i int) []byte) ([]string, error) {
	keys := make([]string, 0, n)
	for start := 0; start < n; start += 256 {
		batch := make([][]byte, 0, 256)
		for i := start; i < min(n, start+256); i++ {
			batch = append(batch, doc(i))
		}
		idx, err := s.add(ctx, batch)
		if err != nil {
			return nil, err
		}
		for _, i := range idx {
			keys = append(keys, strconv.FormatUint(i, 10))
		}
	}
	return keys, nil
}

func (s *tesseraStore) Prove(ctx context.Context, key string) (int, error) {
	index, err := strconv.ParseUint(key, 10, 64)
	if err != nil {
		return 0, err
	}
	raw, err := s.reader.ReadCheckpoint(ctx)
	if err != nil {
		return 0, err
	}
	cp, _, _, err := log.ParseCheckpoint(raw, s.verifier.Name(), s.verifier)
	if err != nil {
		return 0, err
	}
	pb, err := client.NewProofBuilder(ctx, cp.Size, s.reader.ReadTile)
	if err != nil {
		return 0, err
	}
	p, err := pb.InclusionProof(ctx, index)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	data := s.data[index]
	s.mu.Unlock()
	leaf := rfc6962.DefaultHasher.HashLeaf(data)
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, index, cp.Size, leaf, p, cp.Hash); err != nil {
		return 0, fmt.Errorf("tessera: inclusion proof of %d: %w", index, err)
	}
	return len(p), nil
}

func (s *tesseraStore) Check(context.Context) (int64, error) { return 0, bench.ErrUnsupported }

func (s *tesseraStore) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.shutdown(ctx)
}
