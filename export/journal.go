package export

import (
	"context"
	"fmt"
	"time"

	"github.com/quilldb/quill/internal/wait"
	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/journal"
)

// BlockReader is what RunJournal reads: a strand's blocks in order (a
// *journal.Strand).
type BlockReader interface {
	Blocks(ctx context.Context, from, to uint64, fn func(*journal.Block) error) error
}

// Job is one journal export: the request and the blocks it covers.
type Job struct {
	ExportID   string
	LedgerName string
	Strand     string
	// Start and End are the request's time range, as the started manifest
	// records it.
	Start, End time.Time
	Bucket     string
	Prefix     string
	// Encryption is the ObjectEncryptionType the started manifest records.
	Encryption string
	Format     Format
	// FormatGiven records whether the request named an OutputFormat: the
	// started manifest shows outputFormat only then, as QLDB's does.
	FormatGiven bool
	// Blocks is whether the range holds any block; First and Last are the
	// sequence numbers of its first and last blocks when it does.
	Blocks      bool
	First, Last uint64
}

// State is an export's progress. RunJournal hands it to Options.Progress
// after every object, and continues from a State it is given.
type State struct {
	Started bool     // the started manifest is written
	Next    uint64   // the next block to write (set to Job.First at the start)
	Keys    []string // the data objects written, in order
	Blocks  uint64   // blocks written in data objects
	Bytes   int64    // bytes written in data objects
	Done    bool     // the completed manifest is written: the export is complete
}

// Options tune RunJournal. A nil *Options means the defaults.
type Options struct {
	// ObjectSize is the size at which a data object is closed: a block
	// that would take an object past it starts the next one (an object
	// holds at least one block, whatever its size). Default: 8 MiB.
	ObjectSize int
	// MaxBlocksPerSecond paces the export so that it leaves CPU to the
	// ledger's commits. Default: 0, unpaced.
	MaxBlocksPerSecond float64
	// Progress, if set, is called with the state after each object and
	// manifest written; an error from it stops the export with that error.
	Progress func(State) error
}

// RunJournal writes the export job describes to sink, starting from state
// (the zero State for a new export), and returns the final state.
func RunJournal(ctx context.Context, src BlockReader, job *Job, state State, sink Sink, opts *Options) (State, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.ObjectSize <= 0 {
		o.ObjectSize = 8 << 20
	}
	report := func() error {
		if o.Progress == nil {
			return nil
		}
		return o.Progress(state)
	}
	if state.Done {
		return state, nil
	}
	if !state.Started {
		if err := sink.Put(ctx, StartedManifestKey(job.Prefix, job.ExportID), job.startedManifest()); err != nil {
			return state, fmt.Errorf("export %s: started manifest: %w", job.ExportID, err)
		}
		state.Started, state.Next = true, job.First
		if err := report(); err != nil {
			return state, err
		}
	}
	if job.Blocks && state.Next <= job.Last {
		w := &objectWriter{job: job, sink: sink, size: o.ObjectSize, state: &state, report: report}
		pace := newPacer(o.MaxBlocksPerSecond)
		err := src.Blocks(ctx, state.Next, job.Last+1, func(b *journal.Block) error {
			if err := w.add(ctx, b); err != nil {
				return err
			}
			return pace.wait(ctx)
		})
		if err == nil {
			err = w.flush(ctx)
		}
		if err != nil {
			return state, err
		}
		if state.Next != job.Last+1 {
			return state, fmt.Errorf("export %s: the journal ended at block %d before block %d", job.ExportID, state.Next, job.Last)
		}
	}
	manifest := encodeValue(job.Format, ion.Struct(ion.F("keys", stringList(state.Keys))))
	if err := sink.Put(ctx, CompletedManifestKey(job.Prefix, job.ExportID, job.Strand), manifest); err != nil {
		return state, fmt.Errorf("export %s: completed manifest: %w", job.ExportID, err)
	}
	state.Done = true
	return state, report()
}

// objectWriter gathers blocks into data objects.
type objectWriter struct {
	job    *Job
	sink   Sink
	size   int
	state  *State
	report func() error

	buf         []byte
	first, last uint64
	firstTime   time.Time
	count       int
}

func (w *objectWriter) add(ctx context.Context, b *journal.Block) error {
	enc := encodeBlock(w.job.Format, b)
	if w.count > 0 && (hour(b.Timestamp) != hour(w.firstTime) || len(w.buf)+len(enc) > w.size) {
		if err := w.flush(ctx); err != nil {
			return err
		}
	}
	if w.count == 0 {
		w.first, w.firstTime = b.SequenceNo, b.Timestamp
	}
	w.buf = append(w.buf, enc...)
	w.last = b.SequenceNo
	w.count++
	return nil
}

// flush writes the object gathered so far and reports the new state.
func (w *objectWriter) flush(ctx context.Context) error {
	if w.count == 0 {
		return nil
	}
	key := DataKey(w.job.Prefix, w.firstTime, w.job.Strand, w.first, w.last, w.job.Format)
	if err := w.sink.Put(ctx, key, w.buf); err != nil {
		return fmt.Errorf("export %s: %s: %w", w.job.ExportID, key, err)
	}
	w.state.Keys = append(w.state.Keys, key)
	w.state.Next = w.last + 1
	w.state.Blocks += uint64(w.count)
	w.state.Bytes += int64(len(w.buf))
	w.buf, w.count = w.buf[:0], 0
	return w.report()
}

func hour(t time.Time) int64 { return t.UnixMilli() / int64(time.Hour/time.Millisecond) }

// encodeBlock is one block as a data object holds it.
func encodeBlock(f Format, b *journal.Block) []byte { return encodeValue(f, b.Ion()) }

// encodeValue is one top-level value in format f: Ion text and JSON Lines
// end with a newline; Ion binary is a complete binary stream (version
// marker and symbol table), so that objects concatenate.
func encodeValue(f Format, v ion.Value) []byte {
	switch f {
	case IonBinary:
		return ion.AppendBinary(nil, v)
	case JSON:
		return append(ion.AppendJSON(nil, v), '\n')
	}
	return append(ion.AppendText(nil, v), '\n')
}

// startedManifest records the request, as QLDB's started manifest does.
func (job *Job) startedManifest() []byte {
	fields := []ion.Field{
		ion.F("ledgerName", ion.String(job.LedgerName)),
		ion.F("exportId", ion.String(job.ExportID)),
		ion.F("inclusiveStartTime", ion.SystemTime(job.Start)),
		ion.F("exclusiveEndTime", ion.SystemTime(job.End)),
		ion.F("bucket", ion.String(job.Bucket)),
		ion.F("prefix", ion.String(job.Prefix)),
		ion.F("objectEncryptionType", ion.String(job.Encryption)),
	}
	if job.FormatGiven {
		fields = append(fields, ion.F("outputFormat", ion.String(string(job.Format))))
	}
	return encodeValue(job.Format, ion.Struct(fields...))
}

func stringList(ss []string) ion.Value {
	vals := make([]ion.Value, len(ss))
	for i, s := range ss {
		vals[i] = ion.String(s)
	}
	return ion.List(vals...)
}

// pacer keeps a rate of blocks per second.
type pacer struct {
	rate  float64
	start time.Time
	n     float64
}

func newPacer(rate float64) *pacer { return &pacer{rate: rate, start: time.Now()} }

func (p *pacer) wait(ctx context.Context) error {
	if p.rate <= 0 {
		return nil
	}
	p.n++
	return wait.Sleep(ctx, time.Until(p.start.Add(time.Duration(p.n/p.rate*float64(time.Second)))))
}
