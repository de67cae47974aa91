package bench

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/quilldb/quill"
	"github.com/quilldb/quill/stream"
	kinesissink "github.com/quilldb/quill/stream/kinesis"
)

// Stream is the journal stream workload: at each client count, commits run
// for the duration while a stream delivers them to an in-process consumer
// (and to a Kinesis stream with -kinesis-stream); it reports records/s
// delivered, the lag from a block's commit to its delivery (p50, p99,
// p99.9), and how many blocks were still undelivered when the commits
// stopped.
const Stream = "stream"

// streamer is what an engine's Store offers for the stream workload.
type streamer interface {
	// StartStream streams the store's journal to sink; stop cancels it.
	StartStream(ctx context.Context, sink stream.Sink) (stop func() error, err error)
	// CommitTimed commits like Store.Commit and returns the block's
	// sequence number.
	CommitTimed(ctx context.Context, doc []byte) (uint64, error)
}

func runStream(ctx context.Context, c *Config, e Engine, p *progress) ([]Result, error) {
	pool := newDocPool(4096)
	var out []Result
	for _, clients := range c.Clients {
		p.start(e.Name(), Stream, clients, 0)
		s, cleanup, err := openFresh(ctx, c, e)
		if err != nil {
			return nil, err
		}
		r, err := streamPoint(ctx, c, e, s, clients, pool)
		cleanup()
		if err != nil {
			return nil, err
		}
		p.finish(r)
		out = append(out, r)
	}
	return out, nil
}

// deliveryClock records when each block was committed and delivered.
type deliveryClock struct {
	mu        sync.Mutex
	committed map[uint64]time.Time
	delivered map[uint64]time.Time
	records   int64
}

func (d *deliveryClock) sink(next stream.Sink) stream.Sink {
	return stream.Func(func(ctx context.Context, recs []stream.Record) error {
		if next != nil {
			if err := next.Put(ctx, recs); err != nil {
				return err
			}
		}
		now := time.Now()
		d.mu.Lock()
		defer d.mu.Unlock()
		d.records += int64(len(recs))
		for _, r := range recs {
			if r.Type == stream.BlockSummary {
				if _, seen := d.delivered[r.Block]; !seen {
					d.delivered[r.Block] = now
				}
			}
		}
		return nil
	})
}

// undelivered counts the committed blocks not delivered yet.
func (d *deliveryClock) undelivered() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for seq := range d.committed {
		if _, ok := d.delivered[seq]; !ok {
			n++
		}
	}
	return n
}

func streamPoint(ctx context.Context, c *Config, e Engine, s Store, clients int, pool *docPool) (Result, error) {
	st, ok := s.(streamer)
	if !ok {
		return Result{}, ErrUnsupported
	}
	var kinesis stream.Sink
	if c.KinesisStream != "" {
		k, err := kinesissink.New(ctx, kinesissink.Config{StreamName: c.KinesisStream, Aggregate: true})
		if err != nil {
			return Result{}, err
		}
		kinesis = k
	}
	d := &deliveryClock{committed: map[uint64]time.Time{}, delivered: map[uint64]time.Time{}}
	stop, err := st.StartStream(ctx, d.sink(kinesis))
	if err != nil {
		return Result{}, err
	}
	t0 := time.Now()
	ops, elapsed, _, err := measure(ctx, clients, c.Duration, func(_, i int) error {
		seq, err := st.CommitTimed(ctx, pool.get(i))
		if err == nil {
			now := time.Now()
			d.mu.Lock()
			d.committed[seq] = now
			d.mu.Unlock()
		}
		return err
	})
	if err != nil {
		return Result{}, errors.Join(err, stop())
	}
	behind := d.undelivered()
	// Let the stream catch up (bounded), so that every commit has a lag.
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && d.undelivered() > 0 {
		time.Sleep(10 * time.Millisecond)
	}
	if err := stop(); err != nil {
		return Result{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var lags []time.Duration
	for seq, at := range d.committed {
		if got, ok := d.delivered[seq]; ok {
			lags = append(lags, max(0, got.Sub(at)))
		}
	}
	r := point(e.Name(), Stream, clients, 0, ops, elapsed, lags)
	r.Extra["records/s"] = float64(d.records) / time.Since(t0).Seconds()
	r.Extra["behind-at-stop"] = float64(behind)
	r.Extra["undelivered"] = float64(len(d.committed) - len(lags))
	return r, nil
}

// StartStream runs a stream of the bench ledger to sink through the
// embedding API (StreamJournalToKinesis, CancelJournalKinesisStream).
func (s *quillStore) StartStream(ctx context.Context, sink stream.Sink) (func() error, error) {
	s.streamSink.Store(&sink)
	id, err := s.db.StreamJournalToKinesis(ctx, "bench", &quill.StreamJournalToKinesisInput{
		RoleArn: "arn:aws:iam::000000000000:role/bench", InclusiveStartTime: time.Now().Add(-time.Hour),
		StreamArn: "arn:aws:kinesis:us-east-1:000000000000:stream/bench", StreamName: "bench"})
	if err != nil {
		return nil, err
	}
	return func() error {
		_, err := s.db.CancelJournalKinesisStream(context.WithoutCancel(ctx), "bench", id)
		return err
	}, nil
}

// CommitTimed inserts one document and returns its block.
func (s *quillStore) CommitTimed(ctx context.Context, doc []byte) (uint64, error) {
	rec, err := s.l.ExecuteReceipt(ctx, func(tx *quill.Tx) error {
		_, err := tx.Insert(table, doc)
		return err
	})
	return rec.Block.SequenceNo, err
}
