package stream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/quilldb/quill/internal/qldbvectors"
	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/journal"
	"github.com/quilldb/quill/verify"
	"github.com/stretchr/testify/require"
)

var ctx = context.Background()

const arn = "arn:aws:qldb:us-east-1:123456789012:stream/ledger/STREAM0000000000000001"

func testStrand(t *testing.T, clock func() time.Time) *journal.Strand {
	t.Helper()
	j, err := journal.Open("db", &journal.Options{FS: vfs.NewMem(), Clock: clock})
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Close() })
	s, err := j.CreateStrand(ctx)
	require.NoError(t, err)
	return s
}

// commit writes a block with n documents, recording their table in
// transactionInfo as the ledger layer does.
func commit(t *testing.T, s *journal.Strand, n int) *journal.Block {
	t.Helper()
	docs := make([]ion.Field, n)
	revs := make([]journal.RevisionInput, n)
	for i := range n {
		id := ion.NewID()
		docs[i] = ion.F(id, ion.Struct(ion.F("tableName", ion.String("Vehicle")), ion.F("tableId", ion.String("TABLE00000000000000001")),
			ion.F("statements", ion.List(ion.Int(0)))))
		revs[i] = journal.RevisionInput{DocumentID: id, Data: ion.Struct(ion.F("VIN", ion.String(fmt.Sprintf("V%d-%d", s.Size(), i))))}
	}
	r, err := s.Commit(ctx, &journal.Transaction{Revisions: revs, Info: ion.Struct(
		ion.F("statements", ion.List(ion.Struct(ion.F("statement", ion.String("INSERT INTO Vehicle ?"))))),
		ion.F("documents", ion.Struct(docs...)))})
	require.NoError(t, err)
	b, err := s.Block(ctx, r.SequenceNo)
	require.NoError(t, err)
	return b
}

func TestBlockRecordsRebuildIntoTheBlock(t *testing.T) {
	s := testStrand(t, nil)
	b := commit(t, s, 3)
	recs, err := BlockRecords(arn, b)
	require.NoError(t, err)
	require.Len(t, recs, 4)
	require.Equal(t, BlockSummary, recs[0].Type)
	require.Equal(t, b.TransactionID, recs[0].PartitionKey)
	_, hasRevisions := recs[0].Payload.Get("revisions")
	require.False(t, hasRevisions)
	sums, _ := recs[0].Payload.Get("revisionSummaries")
	require.Equal(t, 3, sums.Len())
	for i, r := range recs[1:] {
		require.Equal(t, RevisionDetails, r.Type)
		require.Equal(t, b.Revisions[i].Metadata.ID, r.PartitionKey, "revisions are keyed by document id")
		info, _ := r.Payload.Get("tableInfo")
		name, _ := info.Get("tableName")
		require.Equal(t, "Vehicle", name.Text())
	}
	env, err := ion.Parse(recs[1].Data)
	require.NoError(t, err)
	got, _ := env.Get("qldbStreamArn")
	require.Equal(t, arn, got.Text())

	// Out of order and twice: the block comes back once, exactly.
	var rb Rebuilder
	var rebuilt []ion.Value
	for _, i := range []int{2, 0, 3, 2, 1, 0} {
		out, err := rb.Add(recs[i].Data)
		require.NoError(t, err)
		rebuilt = append(rebuilt, out...)
	}
	require.Len(t, rebuilt, 1)
	require.True(t, ion.Equal(b.Ion(), rebuilt[0]))
	require.NoError(t, verify.Block(rebuilt[0]))
	require.Zero(t, rb.Pending())
}

func TestRebuilderOnQLDBsOwnBlockSummary(t *testing.T) {
	// V2: a BLOCK_SUMMARY that QLDB streamed, with the revision recovered
	// from its statement: the rebuilt block passes the official checks.
	summary, err := ion.ParseText(qldbvectors.V2BlockSummary)
	require.NoError(t, err)
	data, err := ion.ParseText(qldbvectors.V2RevisionData)
	require.NoError(t, err)
	meta, err := ion.ParseText(qldbvectors.V2RevisionMetadata)
	require.NoError(t, err)
	addr, _ := summary.Get("blockAddress")
	hash, _ := ion.ParseText("{{" + qldbvectors.V2RevisionHash + "}}")
	envelope := func(t RecordType, payload ion.Value) []byte {
		return ion.AppendBinary(nil, ion.Struct(ion.F("qldbStreamArn", ion.String(arn)), ion.F("recordType", ion.String(string(t))), ion.F("payload", payload)))
	}
	details := ion.Struct(ion.F("tableInfo", ion.Struct(ion.F("tableName", ion.String("Person")), ion.F("tableId", ion.String("1SUXCa3wwV0GD7kV78RbSg")))),
		ion.F("revision", ion.Struct(ion.F("blockAddress", addr), ion.F("hash", hash), ion.F("data", data), ion.F("metadata", meta))))
	var rb Rebuilder
	out, err := rb.Add(envelope(RevisionDetails, details))
	require.NoError(t, err)
	require.Empty(t, out)
	out, err = rb.Add(envelope(BlockSummary, summary))
	require.NoError(t, err)
	require.Len(t, out, 1)
	require.NoError(t, verify.Block(out[0]))
}

func TestAggregationRoundTripsAndStaysUnderOneMiB(t *testing.T) {
	var recs []Record
	for i := range 300 {
		payload := ion.Struct(ion.F("i", ion.Int(int64(i))), ion.F("pad", ion.String(strings.Repeat("x", 9000))))
		recs = append(recs, newRecord(arn, RevisionDetails, fmt.Sprintf("key-%d", i%7), payload, uint64(i)))
	}
	big := newRecord(arn, RevisionDetails, "big", ion.Struct(ion.F("pad", ion.Blob(bytes.Repeat([]byte{1}, MaxKinesisRecord)))), 300)
	recs = append(recs, big)
	agg := Aggregate(recs)
	require.Greater(t, len(agg), 2, "split at 1 MiB")
	var got [][]byte
	for _, k := range agg {
		require.LessOrEqual(t, len(k.Data), MaxKinesisRecord+len(big.Data)*boolInt(bytes.Equal(k.Data, big.Data)))
		parts, err := Deaggregate(k.Data)
		require.NoError(t, err)
		got = append(got, parts...)
	}
	require.Len(t, got, len(recs))
	for i := range recs {
		require.Equal(t, recs[i].Data, got[i], "record %d", i)
	}
	require.Equal(t, "key-0", agg[0].PartitionKey)
	require.Equal(t, big.Data, agg[len(agg)-1].Data, "a record too large to share goes alone, not aggregated")
	plain, err := Deaggregate([]byte("not aggregated"))
	require.NoError(t, err)
	require.Equal(t, [][]byte{[]byte("not aggregated")}, plain)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// collector is an in-process sink that keeps what it was given.
type collector struct {
	mu   sync.Mutex
	recs []Record
	fail func(n int) error // makes the nth Put fail
	puts int
}

func (c *collector) Put(_ context.Context, recs []Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.puts++
	if c.fail != nil {
		if err := c.fail(c.puts); err != nil {
			return err
		}
	}
	c.recs = append(c.recs, recs...)
	return nil
}

func (c *collector) records() []Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Record(nil), c.recs...)
}

func TestRunDeliversEveryBlockThenCompletesAtTheEnd(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); now = now.Add(time.Millisecond); return now }
	s := testStrand(t, clock)
	commit(t, s, 1) // before the start: not streamed
	start := clock()
	for range 5 {
		commit(t, s, 2)
	}
	end := clock()
	commit(t, s, 1) // at or after the end: not streamed
	c := &collector{}
	var states []State
	st, err := Run(ctx, s, &Job{StreamID: "STREAM0000000000000001", ARN: arn, Start: start, End: end}, State{}, c,
		&Options{Grace: time.Millisecond, Progress: func(st State) error { states = append(states, st); return nil }})
	require.NoError(t, err)
	require.True(t, st.Completed)
	recs := c.records()
	require.Equal(t, Control, recs[0].Type)
	require.Equal(t, Control, recs[len(recs)-1].Type)
	ctl, _ := recs[len(recs)-1].Payload.Get("controlRecordType")
	require.Equal(t, ControlCompleted, ctl.Text())
	require.Len(t, recs, 2+5*3)
	var rb Rebuilder
	var chain verify.ChainVerifier
	for _, r := range recs {
		blocks, err := rb.Add(r.Data)
		require.NoError(t, err)
		for _, b := range blocks {
			require.NoError(t, chain.Add(b))
		}
	}
	require.Equal(t, 5, chain.Blocks())
	strand, last := chain.Last()
	require.Equal(t, s.ID(), strand)
	require.Equal(t, int64(5), last)
	require.Equal(t, uint64(6), states[len(states)-1].Next)
}

func TestRunResumesFromItsStateAndSkipsNothing(t *testing.T) {
	s := testStrand(t, nil)
	for range 4 {
		commit(t, s, 1)
	}
	job := &Job{StreamID: "STREAM0000000000000001", ARN: arn, Start: time.Unix(0, 0)}
	c := &collector{}
	var saved State
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := Run(rctx, s, job, State{}, c, &Options{Progress: func(st State) error {
			saved = st
			if st.Next == 4 {
				cancel() // "the process dies" once the four blocks are acknowledged
			}
			return nil
		}})
		done <- err
	}()
	require.ErrorIs(t, <-done, context.Canceled)
	commit(t, s, 1)
	commit(t, s, 1)
	c2 := &collector{}
	rctx, cancel = context.WithCancel(ctx)
	go func() {
		_, err := Run(rctx, s, job, saved, c2, &Options{Progress: func(st State) error {
			if st.Next == 6 {
				cancel()
			}
			return nil
		}})
		done <- err
	}()
	require.ErrorIs(t, <-done, context.Canceled)
	recs := c2.records()
	require.Len(t, recs, 4, "blocks 4 and 5, no CREATED again")
	require.Equal(t, uint64(4), recs[0].Block)
	require.Equal(t, uint64(5), recs[2].Block)
}

func TestRunReportsImpairmentAndFailsPastTheBound(t *testing.T) {
	s := testStrand(t, nil)
	commit(t, s, 1)
	job := &Job{StreamID: "STREAM0000000000000001", ARN: arn, Start: time.Unix(0, 0)}
	var causes []string
	var mu sync.Mutex
	impaired := func(cause string) { mu.Lock(); causes = append(causes, cause); mu.Unlock() }

	// Refused twice, then accepted: IMPAIRED, then ACTIVE again.
	c := &collector{fail: func(n int) error {
		if n <= 2 {
			return fmt.Errorf("put: %w", ErrStreamNotFound)
		}
		return nil
	}}
	rctx, cancel := context.WithCancel(ctx)
	_, err := Run(rctx, s, job, State{}, c, &Options{Impaired: impaired, Progress: func(st State) error {
		if st.Next == 1 {
			cancel()
		}
		return nil
	}})
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, []string{CauseStreamNotFound, ""}, causes)

	// Refused for longer than the bound: FAILED with the cause.
	denied := &collector{fail: func(int) error { return fmt.Errorf("put: %w", ErrAccessDenied) }}
	_, err = Run(ctx, s, job, State{}, denied, &Options{ImpairedTimeout: 100 * time.Millisecond})
	var failed *FailedError
	require.ErrorAs(t, err, &failed)
	require.Equal(t, CausePermissionDenied, failed.Cause)
	require.Equal(t, "", Cause(errors.New("a network error")))
}
