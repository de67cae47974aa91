package bench

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/quilldb/quill/journal"
)

var fixedDay = time.Date(2017, 8, 21, 0, 0, 0, 0, time.UTC)

// docPool pre-builds documents so that encoding them is not measured.
type docPool struct{ docs [][]byte }

func newDocPool(n int) *docPool {
	p := &docPool{docs: make([][]byte, n)}
	for i := range p.docs {
		p.docs[i] = vehicleDoc(i)
	}
	return p
}

func (p *docPool) get(i int) []byte { return p.docs[i%len(p.docs)] }

// measure runs op from clients goroutines for d and returns the number of
// operations, the elapsed time and every latency.
func measure(ctx context.Context, clients int, d time.Duration, op func(client, i int) error) (int64, time.Duration, []time.Duration, error) {
	return measureAfter(ctx, clients, 0, d, op, nil)
}

// measureAfter is measure after a warm-up: the clients run op for warmup
// unmeasured, then, without pausing, for d measured. begin, if set, is
// called when the measured part starts (to read counters). An operation
// counts if it started in the measured part.
func measureAfter(ctx context.Context, clients int, warmup, d time.Duration, op func(client, i int) error,
	begin func()) (int64, time.Duration, []time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, warmup+d)
	defer cancel()
	var measuring atomic.Bool
	started := make(chan time.Time, 1)
	startMeasuring := func() {
		if begin != nil {
			begin()
		}
		now := time.Now()
		measuring.Store(true)
		started <- now
	}
	if warmup == 0 {
		startMeasuring()
	} else {
		go func() {
			select {
			case <-time.After(warmup):
			case <-ctx.Done():
			}
			startMeasuring()
		}()
	}
	var mu sync.Mutex
	var all []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			for i := 0; ctx.Err() == nil; i++ {
				counted := measuring.Load()
				t0 := time.Now()
				err := op(c, i)
				if err != nil {
					if ctx.Err() == nil {
						mu.Lock()
						firstErr = errors.Join(firstErr, err)
						mu.Unlock()
					}
					break
				}
				if counted {
					lat = append(lat, time.Since(t0))
				}
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	start := <-started
	return int64(len(all)), time.Since(start), all, firstErr
}

func point(engine, workload string, clients, size int, ops int64, elapsed time.Duration, lat []time.Duration) Result {
	r := Result{Engine: engine, Workload: workload, Clients: clients, Size: size, Ops: ops,
		OpsPerSec: float64(ops) / elapsed.Seconds(), Extra: map[string]float64{}}
	r.P50, r.P99, r.P999 = percentiles(lat)
	return r
}

func runCommit(ctx context.Context, c *Config, e Engine, p *progress) ([]Result, error) {
	pool := newDocPool(4096)
	var out []Result
	for _, clients := range c.Clients {
		p.start(e.Name(), Commit, clients, 0)
		s, cleanup, err := openFresh(ctx, c, e)
		if err != nil {
			return nil, err
		}
		var keys []string
		if c.Updates {
			if keys, err = s.Seed(ctx, c.HotSet, pool.get); err != nil {
				cleanup()
				return nil, err
			}
		}
		var mu sync.Mutex
		retries := 0
		rng := rand.New(rand.NewPCG(uint64(clients), 7))
		var before usage
		var journalBefore journal.Stats
		var counted bool
		begin := func() {
			before = readUsage()
			journalBefore, counted = readJournal(s)
		}
		ops, elapsed, lat, err := measureAfter(ctx, clients, c.Warmup, c.Duration, func(client, i int) error {
			docs := make([][]byte, c.DocsPerTx)
			var ks []string
			for d := range docs {
				docs[d] = pool.get(client*7919 + i*c.DocsPerTx + d)
			}
			if keys != nil {
				mu.Lock()
				for range docs {
					ks = append(ks, keys[rng.IntN(len(keys))])
				}
				mu.Unlock()
				ks = uniq(ks)
				docs = docs[:len(ks)]
			}
			st, err := s.Commit(ctx, docs, ks)
			mu.Lock()
			retries += st.Retries
			mu.Unlock()
			return err
		}, begin)
		after := readUsage()
		journalAfter, _ := readJournal(s)
		cleanup()
		if err != nil {
			return nil, err
		}
		r := point(e.Name(), Commit, clients, 0, ops, elapsed, lat)
		addUsage(&r, before, after, ops)
		if counted {
			addJournal(&r, journalBefore, journalAfter, elapsed)
		}
		r.Extra["docsPerTx"] = float64(c.DocsPerTx)
		if c.Warmup > 0 {
			r.Extra["warmupS"] = c.Warmup.Seconds()
		}
		if c.Updates {
			r.Extra["hotSet"] = float64(c.HotSet)
			r.Extra["retries"] = float64(retries)
		}
		out = append(out, r)
		p.finish(r)
	}
	return out, nil
}

func uniq(keys []string) []string {
	seen := map[string]bool{}
	out := keys[:0]
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

func runProve(ctx context.Context, c *Config, e Engine, p *progress) ([]Result, error) {
	pool := newDocPool(4096)
	var out []Result
	for _, size := range c.Sizes {
		s, cleanup, err := openFresh(ctx, c, e)
		if err != nil {
			return nil, err
		}
		keys, err := s.Seed(ctx, size, pool.get)
		if err != nil {
			cleanup()
			return nil, err
		}
		for _, clients := range c.Clients {
			p.start(e.Name(), Prove, clients, size)
			var mu sync.Mutex
			hashes := 0
			rng := rand.New(rand.NewPCG(uint64(size), uint64(clients)))
			ops, elapsed, lat, err := measure(ctx, clients, c.Duration, func(int, int) error {
				mu.Lock()
				k := keys[rng.IntN(len(keys))]
				mu.Unlock()
				n, err := s.Prove(ctx, k)
				mu.Lock()
				hashes += n
				mu.Unlock()
				return err
			})
			if err != nil {
				cleanup()
				return nil, err
			}
			r := point(e.Name(), Prove, clients, size, ops, elapsed, lat)
			if ops > 0 {
				r.Extra["proofHashes"] = float64(hashes) / float64(ops)
			}
			out = append(out, r)
			p.finish(r)
		}
		cleanup()
	}
	return out, nil
}

func runCheck(ctx context.Context, c *Config, e Engine, p *progress) ([]Result, error) {
	pool := newDocPool(4096)
	var out []Result
	for _, size := range c.Sizes {
		p.start(e.Name(), Check, 0, size)
		s, cleanup, err := openFresh(ctx, c, e)
		if err != nil {
			return nil, err
		}
		if _, err := s.Seed(ctx, size, pool.get); err != nil {
			cleanup()
			return nil, err
		}
		t0 := time.Now()
		n, err := s.Check(ctx)
		elapsed := time.Since(t0)
		cleanup()
		if err != nil {
			return nil, err
		}
		// Check covers every block: the seeded ones and the ledger's own.
		r := point(e.Name(), Check, 0, size, int64(size), elapsed, nil)
		r.Extra["MB/s"] = float64(n) / elapsed.Seconds() / 1e6
		out = append(out, r)
		p.finish(r)
	}
	return out, nil
}

// runGrowth grows one store through the sizes and measures, at each, the
// commit rate at 16 clients, the latency of single proofs and the bytes on
// disk per transaction.
func runGrowth(ctx context.Context, c *Config, e Engine, p *progress) ([]Result, error) {
	pool := newDocPool(4096)
	dir, err := os.MkdirTemp(c.Dir, "quill-bench-growth-"+e.Name()+"-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	s, err := e.Open(ctx, dir)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	var out []Result
	var keys []string
	committed := 0
	for _, size := range c.Sizes {
		p.start(e.Name(), Growth, 16, size)
		if more := size - committed; more > 0 {
			k, err := s.Seed(ctx, more, func(i int) []byte { return pool.get(committed + i) })
			if err != nil {
				return nil, err
			}
			keys = append(keys, k...)
			committed = size
		}
		before := readUsage()
		ops, elapsed, lat, err := measure(ctx, 16, c.Duration, func(client, i int) error {
			_, err := s.Commit(ctx, [][]byte{pool.get(client + i*16)}, nil)
			return err
		})
		if err != nil {
			return nil, err
		}
		committed += int(ops)
		r := point(e.Name(), Growth, 16, size, ops, elapsed, lat)
		addUsage(&r, before, readUsage(), ops)
		var proofLat []time.Duration
		for i := range 200 {
			t0 := time.Now()
			if _, err := s.Prove(ctx, keys[(i*7919)%len(keys)]); errors.Is(err, ErrUnsupported) {
				break
			} else if err != nil {
				return nil, err
			}
			proofLat = append(proofLat, time.Since(t0))
		}
		if len(proofLat) > 0 {
			p50, p99, _ := percentiles(proofLat)
			r.Extra["proofP50Ns"], r.Extra["proofP99Ns"] = float64(p50), float64(p99)
		}
		r.Extra["bytesPerTx"] = float64(dirSize(dir)) / float64(committed)
		out = append(out, r)
		p.finish(r)
	}
	return out, nil
}

// dirSize returns the bytes a directory's files occupy on disk: their
// allocated blocks where the system says (space reserved ahead, such as
// Pebble's for its logs, counts, however the files' sizes say it), their
// sizes elsewhere.
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return nil
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			n += st.Blocks * 512 // st_blocks is in 512-byte units whatever the block size
		} else {
			n += info.Size()
		}
		return nil
	})
	return n
}
