// Package bench is Quill's benchmark harness: workloads that measure what
// users of a ledger choose on (durable transactions per second, proof and
// verification rates), run against Quill and, in the same run and on the
// same bytes with the same durability, against raw Pebble (the physical
// limit) and against peer engines registered by other modules.
//
// A run is a Config passed to Run; there are no globals. The Report it
// returns prints as a table, as Go benchmark lines that benchstat compares,
// and as JSON with the machine it ran on.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sort"
	"time"

	"github.com/quilldb/quill"
)

// Workloads.
const (
	Commit = "commit" // durable insert (or update) transactions
	Prove  = "prove"  // GetDigest, GetRevision with proof, client-side verification
	Check  = "check"  // full-journal verification
	Growth = "growth" // commit rate, proof latency and bytes per transaction as the journal grows
)

// Config describes one run. A nil *Config or zero fields take the defaults
// noted on each field; Smoke shrinks them all to a few seconds in total.
type Config struct {
	// Workload is Commit, Prove, Check or Growth. Default: Commit.
	Workload string
	// Engines to run, by name: "quill", "pebble" and any registered peer.
	// Default: every engine that supports the workload.
	Engines []string
	// Clients are the concurrency levels of Commit and Prove. Default: 1,
	// 4, 16, 64, 256.
	Clients []int
	// Duration of each measured point. Default: 5 s.
	Duration time.Duration
	// Warmup is how long each Commit point runs before it is measured,
	// without a pause: the engines are then compared after their first
	// flushes and compactions, not in the seconds after an empty store is
	// opened, when they have not written an sstable yet. Default 0.
	Warmup time.Duration
	// DocsPerTx is the number of documents per Commit transaction. Default 1.
	DocsPerTx int
	// Updates makes Commit update existing documents instead of inserting,
	// chosen from the first HotSet documents (OCC conflicts and retries are
	// counted). HotSet defaults to 1,000.
	Updates bool
	HotSet  int
	// Sizes are the journal sizes (blocks) of Prove, Check and Growth.
	// Default: 10^4, 10^5, 10^6.
	Sizes []int
	// Dir is where engines keep their data; each point gets a fresh
	// subdirectory, removed afterwards. Default: the system's temp dir.
	Dir string
	// Smoke runs tiny sizes for CI.
	Smoke bool
	// Progress receives progress lines (a bar on a terminal); nil is quiet.
	Progress io.Writer
	// ExportBucket, if set, adds an S3 target to the export workload (the
	// AWS SDK's standard configuration says where S3 is).
	ExportBucket string
	// KinesisStream, if set, makes the stream workload deliver to this
	// Kinesis stream too (the AWS SDK's standard configuration says where
	// Kinesis is).
	KinesisStream string
	// SessionHandler serves QLDB's API over a DB for the session workload
	// (the server package's handler; bench may not import it).
	SessionHandler func(db *quill.DB) http.Handler
	// CacheSize is the Pebble block cache of the session workload's store,
	// in bytes. Default: the journal's default (256 MiB).
	CacheSize int64
}

func (c *Config) withDefaults() Config {
	var o Config
	if c != nil {
		o = *c
	}
	if o.Workload == "" {
		o.Workload = Commit
	}
	if len(o.Clients) == 0 {
		o.Clients = []int{1, 4, 16, 64, 256}
	}
	if o.Duration == 0 {
		o.Duration = 5 * time.Second
	}
	if o.DocsPerTx == 0 {
		o.DocsPerTx = 1
	}
	if o.HotSet == 0 {
		o.HotSet = 1000
	}
	if len(o.Sizes) == 0 {
		o.Sizes = []int{10_000, 100_000, 1_000_000}
	}
	if o.Dir == "" {
		o.Dir = os.TempDir()
	}
	if o.Smoke {
		o.Duration = min(o.Duration, 300*time.Millisecond)
		o.Warmup = min(o.Warmup, 100*time.Millisecond)
		o.Clients = []int{1, 16}
		o.Sizes = []int{200, 1000}
		o.HotSet = min(o.HotSet, 50)
	}
	return o
}

// Result is one measured point.
type Result struct {
	Engine   string `json:"engine"`
	Workload string `json:"workload"`
	Clients  int    `json:"clients,omitempty"`
	Size     int    `json:"size,omitempty"` // journal size in blocks, where it applies
	Ops      int64  `json:"ops"`
	// OpsPerSec is transactions/s (Commit, Growth), proofs verified/s
	// (Prove) or blocks/s (Check).
	OpsPerSec float64       `json:"opsPerSec"`
	P50       time.Duration `json:"p50Ns,omitempty"`
	P99       time.Duration `json:"p99Ns,omitempty"`
	P999      time.Duration `json:"p999Ns,omitempty"`
	// Extra holds workload-specific figures (retries, conflicts, proof
	// length, MB/s, bytes per transaction, ...).
	Extra map[string]float64 `json:"extra,omitempty"`
}

// Report is a run's results and the machine they were measured on.
type Report struct {
	Machine  Machine   `json:"machine"`
	Started  time.Time `json:"started"`
	Workload string    `json:"workload"`
	Results  []Result  `json:"results"`
}

// Engine runs workloads. Peers implement it in their own modules and
// register with Register.
type Engine interface {
	Name() string
	// Supports reports whether the engine runs the workload.
	Supports(workload string) bool
	// Open prepares an empty store in dir.
	Open(ctx context.Context, dir string) (Store, error)
}

// Store is one engine's open store.
type Store interface {
	// Commit durably commits one transaction of the given documents (Ion
	// binary, about 1 KiB each). For updates, keys name the documents
	// (from Seed's keys); retries and conflicts are reported.
	Commit(ctx context.Context, docs [][]byte, keys []string) (CommitStats, error)
	// Seed commits n single-document transactions as fast as the engine
	// allows (durability may be relaxed) and returns the documents' keys.
	Seed(ctx context.Context, n int, doc func(i int) []byte) ([]string, error)
	// Prove fetches a proof that the document with the given key is in the
	// current digest and verifies it as a client would; it returns the
	// proof's length in hashes.
	Prove(ctx context.Context, key string) (int, error)
	// Check verifies the whole store and returns the bytes it read.
	Check(ctx context.Context) (int64, error)
	Close() error
}

// CommitStats reports what a commit went through.
type CommitStats struct {
	Retries int
}

// ErrUnsupported is returned by a Store for an operation its engine cannot
// do.
var ErrUnsupported = errors.New("bench: not supported by this engine")

var registry = map[string]Engine{}

// Register adds an engine (peers call it from their own module's init or
// main). It panics on a duplicate name.
func Register(e Engine) {
	if _, dup := registry[e.Name()]; dup {
		panic("bench: engine registered twice: " + e.Name())
	}
	registry[e.Name()] = e
}

// Engines lists the registered engine names, Quill first.
func Engines() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if (names[i] == "quill") != (names[j] == "quill") {
			return names[i] == "quill"
		}
		return names[i] < names[j]
	})
	return names
}

// Run runs one workload on the configured engines.
func Run(ctx context.Context, cfg *Config) (*Report, error) {
	c := cfg.withDefaults()
	rep := &Report{Machine: DescribeMachine(), Started: time.Now().UTC(), Workload: c.Workload}
	names := c.Engines
	if len(names) == 0 {
		names = Engines()
	}
	var engines []Engine
	for _, n := range names {
		e, ok := registry[n]
		if !ok {
			return nil, fmt.Errorf("bench: unknown engine %q (have %v)", n, Engines())
		}
		if e.Supports(c.Workload) {
			engines = append(engines, e)
		}
	}
	if len(engines) == 0 {
		return nil, fmt.Errorf("bench: no engine among %v runs %s", names, c.Workload)
	}
	var run func(context.Context, *Config, Engine, *progress) ([]Result, error)
	switch c.Workload {
	case Commit:
		run = runCommit
	case Prove:
		run = runProve
	case Check:
		run = runCheck
	case Growth:
		run = runGrowth
	case Export:
		run = runExport
	case Stream:
		run = runStream
	case ExportTable:
		run = runExportTable
	case Session:
		run = runSession
	default:
		return nil, fmt.Errorf("bench: unknown workload %q (commit, prove, check, growth, export, export-table, stream, session)", c.Workload)
	}
	p := newProgress(c.Progress, len(engines)*pointsOf(&c))
	defer p.done()
	for _, e := range engines {
		res, err := run(ctx, &c, e, p)
		if err != nil {
			return rep, fmt.Errorf("bench: %s on %s: %w", c.Workload, e.Name(), err)
		}
		rep.Results = append(rep.Results, res...)
	}
	return rep, nil
}

func pointsOf(c *Config) int {
	switch c.Workload {
	case Stream:
		return len(c.Clients)
	case Commit, Prove:
		n := len(c.Clients)
		if c.Workload == Prove {
			n *= len(c.Sizes)
		}
		return n
	case Export:
		return len(c.Sizes) // each size reports its points at once
	case Session:
		return len(c.Sizes) * len(c.Clients) * 6
	}
	return len(c.Sizes)
}

// openFresh opens an engine's store in a new directory that is removed when
// the returned cleanup runs.
func openFresh(ctx context.Context, c *Config, e Engine) (Store, func(), error) {
	dir, err := os.MkdirTemp(c.Dir, "quill-bench-"+e.Name()+"-")
	if err != nil {
		return nil, nil, err
	}
	s, err := e.Open(ctx, dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, nil, err
	}
	return s, func() { _ = s.Close(); _ = os.RemoveAll(dir) }, nil
}

// percentiles returns p50, p99 and p99.9 of the latencies.
func percentiles(lat []time.Duration) (p50, p99, p999 time.Duration) {
	if len(lat) == 0 {
		return 0, 0, 0
	}
	slices.Sort(lat)
	at := func(q float64) time.Duration { return lat[min(len(lat)-1, int(q*float64(len(lat))))] }
	return at(0.50), at(0.99), at(0.999)
}
