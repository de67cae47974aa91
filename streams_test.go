package quill

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/journal"
	"github.com/quilldb/quill/stream"
	"github.com/quilldb/quill/verify"
	"github.com/stretchr/testify/require"
)

const kinesisArn = "arn:aws:kinesis:us-east-1:123456789012:stream/ledger-feed"

// consumer is an in-process stream target that keeps every record.
type consumer struct {
	mu    sync.Mutex
	recs  []stream.Record
	added chan struct{}
	fail  error // refuse every batch with this
	block chan struct{}
}

func newConsumer() *consumer { return &consumer{added: make(chan struct{}, 1000)} }

func (c *consumer) sinks(context.Context, StreamTarget) (stream.Sink, error) {
	return stream.Func(func(ctx context.Context, recs []stream.Record) error {
		if c.block != nil {
			select {
			case <-c.block:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.fail != nil {
			return c.fail
		}
		c.recs = append(c.recs, recs...)
		c.added <- struct{}{}
		return nil
	}), nil
}

func (c *consumer) records() []stream.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]stream.Record(nil), c.recs...)
}

// waitFor waits until the consumer holds n records.
func (c *consumer) waitFor(t *testing.T, n int) []stream.Record {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		if recs := c.records(); len(recs) >= n {
			return recs
		}
		select {
		case <-c.added:
		case <-deadline:
			t.Fatalf("the consumer has %d records, want %d", len(c.records()), n)
		}
	}
}

func streamInput(db *DB, name string) *StreamJournalToKinesisInput {
	return &StreamJournalToKinesisInput{RoleArn: "arn:aws:iam::123456789012:role/stream",
		InclusiveStartTime: db.opts.Journal.Clock().Add(-time.Hour), StreamArn: kinesisArn, StreamName: name}
}

func insertOne(t *testing.T, l *Ledger, i int) {
	t.Helper()
	require.NoError(t, l.Execute(ctx, func(tx *Tx) error {
		_, err := tx.Insert("Vehicle", []byte(fmt.Sprintf(`{VIN:"S%04d"}`, i)))
		return err
	}))
}

// rebuild joins the records into blocks, checks the chain, and returns the
// sequence numbers delivered.
func rebuild(t *testing.T, recs []stream.Record) []int64 {
	t.Helper()
	var rb stream.Rebuilder
	var seqs []int64
	var chain verify.ChainVerifier
	for _, r := range recs {
		blocks, err := rb.Add(r.Data)
		require.NoError(t, err)
		for _, b := range blocks {
			require.NoError(t, chain.Add(b))
			_, seq := chain.Last()
			seqs = append(seqs, seq)
		}
	}
	return seqs
}

func TestStreamDeliversTheJournalAndCancels(t *testing.T) {
	c := newConsumer()
	db := openDB(t, &Options{StreamSinks: c.sinks, Journal: journal.Options{Clock: tickingClock()}})
	l := newLedger(t, db, "streamed")
	fillLedger(t, l, 3) // blocks 0..4: creation, CREATE TABLE, 3 inserts
	id, err := db.StreamJournalToKinesis(ctx, "streamed", streamInput(db, "feed"))
	require.NoError(t, err)
	require.NoError(t, ion.ValidateID(id))
	recs := c.waitFor(t, 1+5+3) // CREATED, 5 summaries, 3 revisions (the creation and CREATE TABLE blocks have none)
	require.Equal(t, stream.Control, recs[0].Type)
	insertOne(t, l, 100)
	recs = c.waitFor(t, 11)
	require.Equal(t, []int64{0, 1, 2, 3, 4, 5}, rebuild(t, recs), "every block in order, verified")

	// The position is saved just after the consumer acknowledged.
	var d *JournalKinesisStreamDescription
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		var err error
		d, err = db.DescribeJournalKinesisStream(ctx, "streamed", id)
		require.NoError(t, err)
		if d.NextBlock == 6 || time.Now().After(deadline) {
			break
		}
	}
	require.Equal(t, StreamActive, d.Status)
	require.Equal(t, "arn:aws:qldb:us-east-1:000000000000:stream/streamed/"+id, d.Arn)
	require.True(t, d.AggregationEnabled)
	require.Equal(t, uint64(6), d.NextBlock)
	require.Zero(t, d.LagBlocks)

	_, err = db.CancelJournalKinesisStream(ctx, "streamed", id)
	require.NoError(t, err)
	d, err = db.DescribeJournalKinesisStream(ctx, "streamed", id)
	require.NoError(t, err)
	require.Equal(t, StreamCanceled, d.Status)
	_, err = db.CancelJournalKinesisStream(ctx, "streamed", id)
	require.ErrorIs(t, err, ErrResourcePreconditionNotMet, "only from ACTIVE")
	last := c.records()[len(c.records())-1]
	require.NotEqual(t, stream.Control, last.Type, "no COMPLETED on cancel")

	page, _, err := db.ListJournalKinesisStreamsForLedger(ctx, "streamed", 0, "")
	require.NoError(t, err)
	require.Len(t, page, 1)
}

func TestStreamWithAnEndCompletes(t *testing.T) {
	c := newConsumer()
	clock := tickingClock()
	db := openDB(t, &Options{StreamSinks: c.sinks, Journal: journal.Options{Clock: clock}})
	l := newLedger(t, db, "ending")
	fillLedger(t, l, 2)
	in := streamInput(db, "feed")
	in.ExclusiveEndTime = clock()
	id, err := db.StreamJournalToKinesis(ctx, "ending", in)
	require.NoError(t, err)
	insertOne(t, l, 9) // after the end: not streamed
	deadline := time.Now().Add(20 * time.Second)
	for {
		d, err := db.DescribeJournalKinesisStream(ctx, "ending", id)
		require.NoError(t, err)
		if d.Status == StreamCompleted {
			break
		}
		require.True(t, time.Now().Before(deadline), "status %s", d.Status)
		time.Sleep(10 * time.Millisecond)
	}
	recs := c.records()
	require.Equal(t, []int64{0, 1, 2, 3}, rebuild(t, recs))
	ctl, _ := recs[len(recs)-1].Payload.Get("controlRecordType")
	require.Equal(t, stream.ControlCompleted, ctl.Text())
}

func TestStreamResumesAfterCloseFromItsPosition(t *testing.T) {
	fs := vfs.NewMem()
	c := newConsumer()
	opts := &Options{StreamSinks: c.sinks, Journal: journal.Options{FS: fs, Clock: tickingClock()}}
	db, err := Open("db", opts)
	require.NoError(t, err)
	l := newLedger(t, db, "resumed")
	fillLedger(t, l, 2)
	id, err := db.StreamJournalToKinesis(ctx, "resumed", streamInput(db, "feed"))
	require.NoError(t, err)
	c.waitFor(t, 1+4+2)
	require.NoError(t, db.Close())

	db, err = Open("db", opts)
	require.NoError(t, err)
	defer db.Close()
	l, err = db.Ledger(ctx, "resumed")
	require.NoError(t, err)
	insertOne(t, l, 50)
	insertOne(t, l, 51)
	// A batch acknowledged just before Close may come again (at least
	// once); none may be missing.
	var seqs []int64
	for deadline := time.Now().Add(10 * time.Second); len(seqs) < 6 && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		seqs = rebuild(t, c.records())
	}
	require.Equal(t, []int64{0, 1, 2, 3, 4, 5}, seqs, "every block, in order, once rebuilt")
	d, err := db.DescribeJournalKinesisStream(ctx, "resumed", id)
	require.NoError(t, err)
	require.Equal(t, StreamActive, d.Status)
}

func TestBlockedConsumerDoesNotHoldUpCommits(t *testing.T) {
	c := newConsumer()
	c.block = make(chan struct{})
	db := openDB(t, &Options{StreamSinks: c.sinks})
	l := newLedger(t, db, "slow")
	fillLedger(t, l, 1)
	id, err := db.StreamJournalToKinesis(ctx, "slow", streamInput(db, "feed"))
	require.NoError(t, err)
	for i := range 20 {
		insertOne(t, l, i) // would hang if the stream held a lock of the journal
	}
	d, err := db.DescribeJournalKinesisStream(ctx, "slow", id)
	require.NoError(t, err)
	require.Equal(t, uint64(23), d.LagBlocks, "nothing acknowledged yet: every block is lag")
	require.Greater(t, d.LagSeconds, 0.0)
	close(c.block)
	require.Len(t, rebuild(t, c.waitFor(t, 1+23+21)), 23)
}

func TestImpairedStreamFailsPastItsBound(t *testing.T) {
	c := newConsumer()
	c.fail = fmt.Errorf("put: %w", stream.ErrStreamNotFound)
	db := openDB(t, &Options{StreamSinks: c.sinks, StreamImpairedTimeout: 200 * time.Millisecond})
	newLedger(t, db, "gone")
	id, err := db.StreamJournalToKinesis(ctx, "gone", streamInput(db, "feed"))
	require.NoError(t, err)
	seen := map[string]bool{}
	deadline := time.Now().Add(20 * time.Second)
	for !seen[StreamFailed] {
		d, err := db.DescribeJournalKinesisStream(ctx, "gone", id)
		require.NoError(t, err)
		seen[d.Status] = true
		if d.Status != StreamActive {
			require.Equal(t, stream.CauseStreamNotFound, d.ErrorCause)
		}
		require.True(t, time.Now().Before(deadline))
		time.Sleep(5 * time.Millisecond)
	}
	require.True(t, seen[StreamImpaired], "IMPAIRED before FAILED")
}

func TestStreamRequestRules(t *testing.T) {
	db := openDB(t, &Options{StreamSinks: newConsumer().sinks})
	newLedger(t, db, "rules")
	cases := []struct {
		name, param string
		change      func(*StreamJournalToKinesisInput)
	}{
		{"start in the future", "InclusiveStartTime", func(in *StreamJournalToKinesisInput) { in.InclusiveStartTime = time.Now().Add(time.Hour) }},
		{"end before start", "ExclusiveEndTime", func(in *StreamJournalToKinesisInput) { in.ExclusiveEndTime = in.InclusiveStartTime.Add(-time.Second) }},
		{"not a Kinesis ARN", "StreamArn", func(in *StreamJournalToKinesisInput) { in.StreamArn = "arn:aws:sqs:us-east-1:123456789012:queue" }},
		{"bad stream name", "StreamName", func(in *StreamJournalToKinesisInput) { in.StreamName = "a--b" }},
		{"bad role", "RoleArn", func(in *StreamJournalToKinesisInput) { in.RoleArn = "role" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := streamInput(db, "feed")
			c.change(in)
			_, err := db.StreamJournalToKinesis(ctx, "rules", in)
			var invalid *Error
			requireCode(t, err, CodeInvalidParameter, &invalid)
			require.Equal(t, c.param, invalid.Parameter)
		})
	}
	for i := range 5 {
		_, err := db.StreamJournalToKinesis(ctx, "rules", streamInput(db, fmt.Sprintf("s%d", i)))
		require.NoError(t, err)
	}
	_, err := db.StreamJournalToKinesis(ctx, "rules", streamInput(db, "s0"))
	requireCode(t, err, CodeInvalidParameter, new(*Error))
	_, err = db.StreamJournalToKinesis(ctx, "rules", streamInput(db, "sixth"))
	require.ErrorIs(t, err, ErrLimitExceeded)
	_, err = db.StreamJournalToKinesis(ctx, "missing", streamInput(db, "x"))
	require.ErrorIs(t, err, ErrResourceNotFound)
	_, err = db.DescribeJournalKinesisStream(ctx, "rules", "AAAAAAAAAAAAAAAAAAAAAA")
	require.ErrorIs(t, err, ErrResourceNotFound)
}

func TestTailDeliversAndStopsOnItsCallersError(t *testing.T) {
	db := openDB(t, nil)
	l := newLedger(t, db, "tailed")
	fillLedger(t, l, 2)
	var got []stream.Record
	stop := fmt.Errorf("seen enough")
	err := l.Tail(ctx, time.Unix(0, 0), func(recs []stream.Record) error {
		got = append(got, recs...)
		if len(got) >= 1+4+2 {
			return stop
		}
		return nil
	})
	require.ErrorIs(t, err, stop)
	require.Equal(t, []int64{0, 1, 2, 3}, rebuild(t, got))
}

func TestJobsWaitForADBWithSinks(t *testing.T) {
	fs := vfs.NewMem()
	c := newConsumer()
	db, err := Open("db", &Options{Journal: journal.Options{FS: fs}, StreamSinks: c.sinks})
	require.NoError(t, err)
	newLedger(t, db, "later")
	id, err := db.StreamJournalToKinesis(ctx, "later", streamInput(db, "feed"))
	require.NoError(t, err)
	require.NoError(t, db.Close())
	// A tool that opens the store without sinks neither panics nor runs
	// the stream; it stays ACTIVE for the next DB that has a target.
	db, err = Open("db", &Options{Journal: journal.Options{FS: fs}})
	require.NoError(t, err)
	d, err := db.DescribeJournalKinesisStream(ctx, "later", id)
	require.NoError(t, err)
	require.Equal(t, StreamActive, d.Status)
	require.NoError(t, db.Close())
}
