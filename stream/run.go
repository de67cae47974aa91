package stream

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/quilldb/quill/internal/wait"
	"github.com/quilldb/quill/journal"
)

// Follower is the journal a stream reads: a *journal.Strand.
type Follower interface {
	Follow(ctx context.Context, from uint64, fn func(*journal.Block) error) error
	Blocks(ctx context.Context, from, to uint64, fn func(*journal.Block) error) error
	FirstAtOrAfter(ctx context.Context, t time.Time) (uint64, bool, error)
	WaitSettled(ctx context.Context, t time.Time) error
	Size() uint64
}

// Sink receives a stream's records.
type Sink interface {
	// Put delivers records, in order, and returns once the target has
	// acknowledged every one of them. Errors that mean the target is gone
	// or refuses the stream wrap ErrStreamNotFound or ErrAccessDenied.
	Put(ctx context.Context, records []Record) error
}

// Errors a Sink wraps when the target refuses writes: the stream is then
// IMPAIRED with the matching ErrorCause until writes succeed again.
var (
	ErrStreamNotFound = errors.New("stream: the target stream does not exist")
	ErrAccessDenied   = errors.New("stream: access to the target is denied")
)

// The ErrorCause values of an IMPAIRED or FAILED stream.
const (
	CauseStreamNotFound   = "KINESIS_STREAM_NOT_FOUND"
	CausePermissionDenied = "IAM_PERMISSION_REVOKED"
)

// Cause is the ErrorCause for a sink's error, or "" when it is not a
// refusal (a network error, throttling): retried without impairing.
func Cause(err error) string {
	switch {
	case errors.Is(err, ErrStreamNotFound):
		return CauseStreamNotFound
	case errors.Is(err, ErrAccessDenied):
		return CausePermissionDenied
	}
	return ""
}

// FailedError ends a stream that stayed impaired longer than
// Options.ImpairedTimeout.
type FailedError struct {
	Cause string
	Err   error
}

func (e *FailedError) Error() string {
	return fmt.Sprintf("stream: impaired (%s) for too long: %v", e.Cause, e.Err)
}

func (e *FailedError) Unwrap() error { return e.Err }

// Job is one stream.
type Job struct {
	StreamID string
	ARN      string // arn:aws:qldb:REGION:ACCOUNT:stream/LEDGER/STREAMID
	// Start is the inclusive start time; End the exclusive end time, zero
	// for a stream that runs until it is cancelled.
	Start, End time.Time
}

// State is a stream's position, reported after the sink acknowledged.
type State struct {
	Created    bool   // CONTROL CREATED was delivered
	Positioned bool   // Next was looked up from the start time
	Next       uint64 // the next block to deliver
	Blocks     uint64 // blocks delivered
	Records    uint64 // records delivered
	Completed  bool   // CONTROL COMPLETED was delivered: the stream is done
}

// Options tune Run.
type Options struct {
	// MaxBatch is the most records handed to the sink at once. Default:
	// 500, the most PutRecords takes.
	MaxBatch int
	// Grace is how long after its end time a stream waits for blocks still
	// being committed before it completes. Default: 2 s.
	Grace time.Duration
	// ImpairedTimeout is how long a stream may stay impaired before it
	// fails. Default: 1 hour.
	ImpairedTimeout time.Duration
	// Progress is called with the state after each acknowledged batch; an
	// error from it stops the stream with that error.
	Progress func(State) error
	// Impaired is called when the sink starts refusing writes (cause is
	// the ErrorCause) and again with "" when it accepts them again.
	Impaired func(cause string)
	// Clock is the time source. Default: time.Now.
	Clock func() time.Time
}

func (o *Options) defaults() {
	if o.MaxBatch <= 0 {
		o.MaxBatch = 500
	}
	if o.Grace <= 0 {
		o.Grace = 2 * time.Second
	}
	if o.ImpairedTimeout <= 0 {
		o.ImpairedTimeout = time.Hour
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
}

// errReachedEnd stops Follow at the first block at or after the end time.
var errReachedEnd = errors.New("stream: reached the end time")

// Run delivers job's records to sink from state (the zero State for a new
// stream) until ctx ends, the stream completes at its end time, or it fails.
func Run(ctx context.Context, src Follower, job *Job, state State, sink Sink, opts *Options) (State, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	o.defaults()
	r := &runner{src: src, job: job, state: state, sink: sink, o: o}
	return r.state, r.run(ctx)
}

type runner struct {
	src     Follower
	job     *Job
	state   State
	sink    Sink
	o       Options
	pending []Record
	last    uint64 // the block of the last pending record
	blocks  uint64 // blocks in pending
}

func (r *runner) run(ctx context.Context) error {
	if r.state.Completed {
		return nil
	}
	if !r.state.Created {
		if err := r.deliver(ctx, []Record{ControlRecord(r.job.ARN, r.job.StreamID, ControlCreated)}); err != nil {
			return err
		}
		r.state.Created = true
		if err := r.report(); err != nil {
			return err
		}
	}
	if !r.state.Positioned {
		next, _, err := r.src.FirstAtOrAfter(ctx, r.job.Start)
		if err != nil {
			return err
		}
		r.state.Next, r.state.Positioned = next, true
	}
	followCtx, stop := context.WithCancel(ctx)
	defer stop()
	if !r.job.End.IsZero() {
		// Without new blocks nothing would wake the follower at the end.
		t := time.AfterFunc(r.job.End.Add(r.o.Grace).Sub(r.o.Clock()), stop)
		defer t.Stop()
	}
	err := r.src.Follow(followCtx, r.state.Next, func(b *journal.Block) error { return r.add(followCtx, b) })
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case r.job.End.IsZero():
		return err
	case err != nil && !errors.Is(err, errReachedEnd) && !errors.Is(err, context.Canceled):
		return err
	}
	// The end: every block before it, then CONTROL COMPLETED. What the
	// follower queued goes first, so that no block is queued twice.
	if err := r.flush(ctx); err != nil {
		return err
	}
	if err := r.src.WaitSettled(ctx, r.job.End); err != nil {
		return err
	}
	err = r.src.Blocks(ctx, r.state.Next, r.src.Size(), func(b *journal.Block) error { return r.add(ctx, b) })
	if err != nil && !errors.Is(err, errReachedEnd) {
		return err
	}
	if err := r.flush(ctx); err != nil {
		return err
	}
	if err := r.deliver(ctx, []Record{ControlRecord(r.job.ARN, r.job.StreamID, ControlCompleted)}); err != nil {
		return err
	}
	r.state.Completed = true
	return r.report()
}

// add queues a block's records and flushes a full batch, or the batch
// that caught up with the tip.
func (r *runner) add(ctx context.Context, b *journal.Block) error {
	if !r.job.End.IsZero() && !b.Timestamp.Before(r.job.End) {
		if err := r.flush(ctx); err != nil {
			return err
		}
		return errReachedEnd
	}
	if b.Timestamp.Before(r.job.Start) {
		r.last = b.SequenceNo // committed after the start was looked up, yet earlier: skipped
		r.blocks++
	} else {
		recs, err := BlockRecords(r.job.ARN, b)
		if err != nil {
			return err
		}
		r.pending = append(r.pending, recs...)
		r.last = b.SequenceNo
		r.blocks++
	}
	if len(r.pending) >= r.o.MaxBatch || b.SequenceNo+1 >= r.src.Size() {
		return r.flush(ctx)
	}
	return nil
}

// flush delivers the pending records and reports the new position.
func (r *runner) flush(ctx context.Context) error {
	if r.blocks == 0 {
		return nil
	}
	for len(r.pending) > 0 {
		n := min(len(r.pending), r.o.MaxBatch)
		if err := r.deliver(ctx, r.pending[:n]); err != nil {
			return err
		}
		r.state.Records += uint64(n)
		r.pending = r.pending[n:]
	}
	r.state.Next = r.last + 1
	r.state.Blocks += r.blocks
	r.pending, r.blocks = r.pending[:0], 0
	return r.report()
}

// deliver puts records until the sink acknowledges them, reporting
// impairment while it refuses them, and fails past ImpairedTimeout.
func (r *runner) deliver(ctx context.Context, records []Record) error {
	var impairedSince time.Time
	backoff := 50 * time.Millisecond
	for {
		err := r.sink.Put(ctx, records)
		if err == nil {
			if !impairedSince.IsZero() && r.o.Impaired != nil {
				r.o.Impaired("")
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if cause := Cause(err); cause != "" {
			if impairedSince.IsZero() {
				impairedSince = r.o.Clock()
				if r.o.Impaired != nil {
					r.o.Impaired(cause)
				}
			}
			if r.o.Clock().Sub(impairedSince) > r.o.ImpairedTimeout {
				return &FailedError{Cause: cause, Err: err}
			}
		}
		if err := wait.Sleep(ctx, backoff); err != nil {
			return err
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (r *runner) report() error {
	if r.o.Progress == nil {
		return nil
	}
	return r.o.Progress(r.state)
}
