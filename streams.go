package quill

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/quilldb/quill/internal/keyspace"
	"github.com/quilldb/quill/internal/wait"
	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/stream"
)

// Journal streams (QLDB's StreamJournalToKinesis). A request is validated
// as QLDB validates it and stored under keyspace.Streams; a goroutine of
// the DB runs it through stream.Run into the sink Options.StreamSinks makes
// for its Kinesis stream, saving the position after every batch the target
// acknowledged. A DB opened again resumes every ACTIVE or IMPAIRED stream
// from its saved position: delivery is at least once.

// Stream statuses (QLDB spells CANCELED with one L here).
const (
	StreamActive    = "ACTIVE"
	StreamImpaired  = "IMPAIRED"
	StreamCompleted = "COMPLETED"
	StreamCanceled  = "CANCELED"
	StreamFailed    = "FAILED"
)

// StreamTarget is what Options.StreamSinks turns into a sink.
type StreamTarget struct {
	StreamArn  string // the Kinesis stream's ARN
	StreamName string // its name, from the ARN
	Aggregate  bool   // AggregationEnabled
}

// StreamJournalToKinesisInput is a stream request.
type StreamJournalToKinesisInput struct {
	// RoleArn is checked and recorded; Quill writes with its sink's
	// credentials.
	RoleArn string
	// InclusiveStartTime must not be in the future; one before the
	// ledger's creation is taken as its creation.
	InclusiveStartTime time.Time
	// ExclusiveEndTime, if set, ends the stream: it is COMPLETED once every
	// block before it was delivered. Zero: the stream runs until cancelled.
	ExclusiveEndTime time.Time
	// StreamArn is the Kinesis stream (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME).
	StreamArn string
	// AggregationEnabled packs records in the KPL format; nil means true.
	AggregationEnabled *bool
	// StreamName names the QLDB stream: the rules of ledger names, unique
	// among the ledger's active streams.
	StreamName string
	Tags       map[string]string
}

// JournalKinesisStreamDescription describes a stream (QLDB's, plus its
// position and lag).
type JournalKinesisStreamDescription struct {
	LedgerName         string
	StreamID           string
	Arn                string
	StreamName         string
	RoleArn            string
	Status             string
	ErrorCause         string // KINESIS_STREAM_NOT_FOUND or IAM_PERMISSION_REVOKED, when IMPAIRED or FAILED
	CreationTime       time.Time
	InclusiveStartTime time.Time
	ExclusiveEndTime   time.Time // zero: none
	StreamArn          string
	AggregationEnabled bool
	Tags               map[string]string
	// NextBlock is the first block not yet acknowledged by the target;
	// LagBlocks and LagSeconds how far that is behind the tip.
	NextBlock        uint64
	BlocksDelivered  uint64
	RecordsDelivered uint64
	LagBlocks        uint64
	LagSeconds       float64
}

type streamRecord struct {
	Ledger    string            `json:"ledger"`
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Created   int64             `json:"created"`
	Status    string            `json:"status"`
	Cause     string            `json:"cause,omitempty"`
	Start     int64             `json:"start"`
	End       int64             `json:"end,omitempty"` // 0: none
	RoleArn   string            `json:"roleArn"`
	StreamArn string            `json:"streamArn"`
	Aggregate bool              `json:"aggregate"`
	Tags      map[string]string `json:"tags,omitempty"`
	Finished  int64             `json:"finished,omitempty"`
	State     stream.State      `json:"state"`
}

var kinesisArnPattern = regexp.MustCompile(`^arn:aws[a-z-]*:kinesis:[a-z0-9-]+:[0-9]{12}:stream/([A-Za-z0-9_.-]{1,128})$`)

func (r *streamRecord) active() bool { return r.Status == StreamActive || r.Status == StreamImpaired }

// StreamARN is a stream's ARN, arn:aws:qldb:REGION:ACCOUNT:stream/LEDGER/ID.
func (db *DB) StreamARN(ledger, id string) string {
	return fmt.Sprintf("arn:aws:qldb:%s:%s:stream/%s/%s", db.opts.Region, db.opts.Account, ledger, id)
}

// StreamJournalToKinesis starts streaming the ledger's journal and returns
// the stream's 22-character id at once.
func (db *DB) StreamJournalToKinesis(ctx context.Context, ledgerName string, in *StreamJournalToKinesisInput) (string, error) {
	if err := ValidateLedgerName("LedgerName", ledgerName); err != nil {
		return "", err
	}
	now := db.opts.Journal.Clock()
	switch {
	case in.RoleArn == "":
		return "", invalidParam("RoleArn", "is required")
	case !roleArnPattern.MatchString(in.RoleArn) || len(in.RoleArn) > 1600:
		return "", invalidParam("RoleArn", "%q is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)", in.RoleArn)
	case in.InclusiveStartTime.IsZero():
		return "", invalidParam("InclusiveStartTime", "is required")
	case in.InclusiveStartTime.After(now):
		return "", invalidParam("InclusiveStartTime", "%s is in the future", in.InclusiveStartTime.UTC().Format(time.RFC3339Nano))
	case !in.ExclusiveEndTime.IsZero() && !in.ExclusiveEndTime.After(in.InclusiveStartTime):
		return "", invalidParam("ExclusiveEndTime", "must be after InclusiveStartTime")
	case in.StreamArn == "":
		return "", invalidParam("StreamArn", "is required")
	case !kinesisArnPattern.MatchString(in.StreamArn):
		return "", invalidParam("StreamArn", "%q is not a Kinesis stream ARN (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME)", in.StreamArn)
	}
	if err := ValidateLedgerName("StreamName", in.StreamName); err != nil {
		return "", err
	}
	if err := validateTags(in.Tags, 0); err != nil {
		return "", err
	}
	if db.opts.StreamSinks == nil {
		return "", &Error{Code: CodeResourcePreconditionNotMet, ResourceType: "STREAM",
			Message: "this DB has no stream target: set Options.StreamSinks (quill serve sets one)"}
	}
	db.jobs.mu.Lock()
	defer db.jobs.mu.Unlock()
	rec, err := db.readLedger(ledgerName)
	if err != nil {
		return "", err
	}
	switch rec.State {
	case StateActive:
	case StateCreating:
		return "", &Error{Code: CodeResourcePreconditionNotMet, ResourceType: "LEDGER", ResourceName: ledgerName, Message: "the ledger is CREATING"}
	default:
		return "", notFound("LEDGER", ledgerName, "the ledger is "+rec.State)
	}
	streams, err := db.streamRecords(ctx)
	if err != nil {
		return "", err
	}
	active := 0
	for _, s := range streams {
		if s.Ledger != ledgerName || !s.active() {
			continue
		}
		active++
		if s.Name == in.StreamName {
			return "", invalidParam("StreamName", "the ledger's active stream %s is named %s", s.ID, s.Name)
		}
	}
	if active >= db.opts.MaxActiveStreams {
		return "", &Error{Code: CodeLimitExceeded, ResourceType: "STREAM",
			Message: fmt.Sprintf("ledger %s has %d active streams, the most it may (Options.MaxActiveStreams)", ledgerName, active)}
	}
	aggregate := in.AggregationEnabled == nil || *in.AggregationEnabled
	s := &streamRecord{Ledger: ledgerName, ID: ion.NewID(), Name: in.StreamName, Created: now.UnixMilli(),
		Status: StreamActive, Start: max(in.InclusiveStartTime.UnixMilli(), rec.CreatedMillis), RoleArn: in.RoleArn,
		StreamArn: in.StreamArn, Aggregate: aggregate, Tags: copyTags(in.Tags)}
	if !in.ExclusiveEndTime.IsZero() {
		s.End = in.ExclusiveEndTime.UnixMilli()
	}
	if err := db.saveStream(ctx, s); err != nil {
		return "", err
	}
	db.startStream(s)
	return s.ID, nil
}

func (db *DB) startStream(rec *streamRecord) {
	db.jobs.start(rec.ID, func(ctx context.Context) { db.runStream(ctx, rec) })
}

// runStream runs a stream until it completes or fails, or ctx ends (Close,
// cancellation, the ledger's deletion).
func (db *DB) runStream(ctx context.Context, rec *streamRecord) {
	log := db.opts.Journal.Logger.With("stream", rec.ID, "ledger", rec.Ledger)
	for attempt := 1; ; attempt++ {
		err := db.streamOnce(ctx, rec)
		var failed *stream.FailedError
		switch {
		case ctx.Err() != nil:
			return
		case err == nil:
			rec.Status, rec.Cause = StreamCompleted, ""
		case errors.As(err, &failed):
			rec.Status, rec.Cause = StreamFailed, failed.Cause
		default:
			log.Warn("journal stream failed; retrying", "attempt", attempt, "err", err)
			if wait.Sleep(ctx, min(time.Duration(attempt)*time.Second, 30*time.Second)) != nil {
				return
			}
			continue
		}
		rec.Finished = db.opts.Journal.Clock().UnixMilli()
		if err := db.saveStream(context.WithoutCancel(ctx), rec); err != nil {
			log.Error("saving the stream's final state", "err", err)
		}
		return
	}
}

func (db *DB) streamOnce(ctx context.Context, rec *streamRecord) error {
	l, err := db.Ledger(ctx, rec.Ledger)
	if err != nil {
		return err
	}
	name := kinesisArnPattern.FindStringSubmatch(rec.StreamArn)[1]
	sink, err := db.opts.StreamSinks(ctx, StreamTarget{StreamArn: rec.StreamArn, StreamName: name, Aggregate: rec.Aggregate})
	if err != nil {
		return err
	}
	job := &stream.Job{StreamID: rec.ID, ARN: db.StreamARN(rec.Ledger, rec.ID), Start: time.UnixMilli(rec.Start)}
	if rec.End != 0 {
		job.End = time.UnixMilli(rec.End)
	}
	_, err = stream.Run(ctx, l.strand, job, rec.State, sink, &stream.Options{
		ImpairedTimeout: db.opts.StreamImpairedTimeout, Clock: db.opts.Journal.Clock,
		Progress: func(st stream.State) error {
			rec.State = st
			return db.saveStream(ctx, rec)
		},
		Impaired: func(cause string) {
			rec.Status, rec.Cause = StreamImpaired, cause
			if cause == "" {
				rec.Status = StreamActive
			}
			if err := db.saveStream(ctx, rec); err != nil && ctx.Err() == nil {
				db.opts.Journal.Logger.Warn("saving a stream's status", "stream", rec.ID, "err", err)
			}
		}})
	return err
}

func (db *DB) saveStream(ctx context.Context, rec *streamRecord) error {
	return saveJob(ctx, db, keyspace.Streams, rec)
}

// streamRecords reads every stored stream.
func (db *DB) streamRecords(ctx context.Context) ([]*streamRecord, error) {
	return loadJobs[streamRecord](ctx, db, keyspace.Streams)
}

// resumeStreams starts the streams a previous process left running.
func (db *DB) resumeStreams(ctx context.Context) error {
	streams, err := db.streamRecords(ctx)
	if err == nil {
		resumeJobs(db, streams, db.opts.StreamSinks != nil, "journal stream", db.startStream)
	}
	return err
}

// dropLedgerStreams stops a ledger's streams and deletes their records.
func (db *DB) dropLedgerStreams(ctx context.Context, ledger string) error {
	streams, err := db.streamRecords(ctx)
	if err != nil {
		return err
	}
	return dropLedgerJobs(ctx, db, keyspace.Streams, streams, ledger)
}

func (db *DB) findStream(ctx context.Context, ledgerName, streamID string) (*streamRecord, error) {
	if err := ValidateLedgerName("LedgerName", ledgerName); err != nil {
		return nil, err
	}
	if err := ion.ValidateID(streamID); err != nil {
		return nil, invalidParam("StreamId", "%v", err)
	}
	if _, err := db.readLedger(ledgerName); err != nil {
		return nil, err
	}
	streams, err := db.streamRecords(ctx)
	if err != nil {
		return nil, err
	}
	for _, rec := range streams {
		if rec.ID == streamID && rec.Ledger == ledgerName {
			return rec, nil
		}
	}
	return nil, notFound("STREAM", streamID, "no stream with this id for ledger "+ledgerName)
}

// DescribeJournalKinesisStream describes a stream, with its lag behind the
// ledger's tip.
func (db *DB) DescribeJournalKinesisStream(ctx context.Context, ledgerName, streamID string) (*JournalKinesisStreamDescription, error) {
	rec, err := db.findStream(ctx, ledgerName, streamID)
	if err != nil {
		return nil, err
	}
	d := db.describeStream(rec)
	if rec.active() {
		if l, err := db.Ledger(ctx, ledgerName); err == nil {
			tip := l.strand.Size()
			if d.NextBlock < tip {
				d.LagBlocks = tip - d.NextBlock
				if b, err := l.strand.Block(ctx, d.NextBlock); err == nil {
					d.LagSeconds = db.opts.Journal.Clock().Sub(b.Timestamp).Seconds()
				}
			}
		}
	}
	return d, nil
}

func (db *DB) describeStream(rec *streamRecord) *JournalKinesisStreamDescription {
	d := &JournalKinesisStreamDescription{LedgerName: rec.Ledger, StreamID: rec.ID, Arn: db.StreamARN(rec.Ledger, rec.ID),
		StreamName: rec.Name, RoleArn: rec.RoleArn, Status: rec.Status, ErrorCause: rec.Cause,
		CreationTime: time.UnixMilli(rec.Created).UTC(), InclusiveStartTime: time.UnixMilli(rec.Start).UTC(),
		StreamArn: rec.StreamArn, AggregationEnabled: rec.Aggregate, Tags: copyTags(rec.Tags),
		NextBlock: rec.State.Next, BlocksDelivered: rec.State.Blocks, RecordsDelivered: rec.State.Records}
	if rec.End != 0 {
		d.ExclusiveEndTime = time.UnixMilli(rec.End).UTC()
	}
	return d
}

// ListJournalKinesisStreamsForLedger lists a ledger's streams, oldest
// first, a page of at most maxResults (1 to 100; 0 means 100) at a time.
func (db *DB) ListJournalKinesisStreamsForLedger(ctx context.Context, ledgerName string, maxResults int, nextToken string) ([]*JournalKinesisStreamDescription, string, error) {
	if err := ValidateLedgerName("LedgerName", ledgerName); err != nil {
		return nil, "", err
	}
	if _, err := db.readLedger(ledgerName); err != nil {
		return nil, "", err
	}
	streams, err := db.streamRecords(ctx)
	if err != nil {
		return nil, "", err
	}
	streams = slices.DeleteFunc(streams, func(r *streamRecord) bool { return r.Ledger != ledgerName })
	recs, next, err := page(streams, func(r *streamRecord) string { return jobOrder(r.Created, r.ID) }, maxResults, nextToken)
	out := make([]*JournalKinesisStreamDescription, len(recs))
	for i, rec := range recs {
		out[i] = db.describeStream(rec)
	}
	return out, next, err
}

// CancelJournalKinesisStream cancels an ACTIVE stream: it stops, is
// CANCELED, and writes no COMPLETED record.
func (db *DB) CancelJournalKinesisStream(ctx context.Context, ledgerName, streamID string) (string, error) {
	db.jobs.mu.Lock()
	defer db.jobs.mu.Unlock()
	rec, err := db.findStream(ctx, ledgerName, streamID)
	if err != nil {
		return "", err
	}
	if rec.Status != StreamActive {
		return "", &Error{Code: CodeResourcePreconditionNotMet, ResourceType: "STREAM", ResourceName: streamID,
			Message: "only an ACTIVE stream can be cancelled; this one is " + rec.Status}
	}
	if err := db.jobs.stop(ctx, map[string]bool{streamID: true}); err != nil {
		return "", err
	}
	// The runner saved its last position before it stopped: read it again.
	if rec, err = db.findStream(ctx, ledgerName, streamID); err != nil {
		return "", err
	}
	rec.Status, rec.Cause, rec.Finished = StreamCanceled, "", db.opts.Journal.Clock().UnixMilli()
	return streamID, db.saveStream(ctx, rec)
}

// Tail calls fn with the ledger's stream records from the first block at or
// after from (CONTROL CREATED first) as they commit, until ctx ends or fn
// fails: an in-process stream that is not stored, for watching a ledger.
func (l *Ledger) Tail(ctx context.Context, from time.Time, fn func([]stream.Record) error) error {
	if err := l.check(); err != nil {
		return err
	}
	job := &stream.Job{StreamID: "TAIL", ARN: l.db.StreamARN(l.name, "tail"), Start: from}
	// Run would deliver a batch fn refused again: fn's error ends the tail.
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	_, err := stream.Run(ctx, l.strand, job, stream.State{}, stream.Func(func(_ context.Context, recs []stream.Record) error {
		if err := fn(recs); err != nil {
			stop(err)
			return err
		}
		return nil
	}), nil)
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	return mapJournalErr(err)
}
