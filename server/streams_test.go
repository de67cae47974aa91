package server

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/qldb"
	"github.com/aws/aws-sdk-go-v2/service/qldb/types"
	"github.com/quilldb/quill"
	"github.com/quilldb/quill/internal/testenv"
	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/merkle"
	"github.com/quilldb/quill/stream"
	kinesissink "github.com/quilldb/quill/stream/kinesis"
	"github.com/quilldb/quill/verify"
	"github.com/stretchr/testify/require"
)

func kinesisSinks(endpoint string) func(context.Context, quill.StreamTarget) (stream.Sink, error) {
	return func(_ context.Context, t quill.StreamTarget) (stream.Sink, error) {
		return kinesissink.NewFromConfig(testenv.AWSConfig(endpoint), kinesissink.Config{StreamName: t.StreamName, Aggregate: t.Aggregate}), nil
	}
}

func streamFixture(t *testing.T) (*fixture, *quill.Ledger) {
	t.Helper()
	f := newFixture(t, nil, &quill.Options{StreamSinks: kinesisSinks(testenv.KinesisEndpoint(t))})
	_, err := f.client.CreateLedger(ctx, &qldb.CreateLedgerInput{Name: aws.String("streamed"), PermissionsMode: types.PermissionsModeStandard})
	require.NoError(t, err)
	l, err := f.db.Ledger(ctx, "streamed")
	require.NoError(t, err)
	require.NoError(t, l.Execute(ctx, func(tx *quill.Tx) error { _, err := tx.CreateTable("Vehicle"); return err }))
	return f, l
}

func insertVehicles(t *testing.T, l *quill.Ledger, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		require.NoError(t, l.Execute(ctx, func(tx *quill.Tx) error {
			if _, err := tx.Insert("Vehicle", []byte(fmt.Sprintf(`{VIN:"V%05d",Price:1.5}`, i))); err != nil {
				return err
			}
			_, err := tx.Insert("Vehicle", []byte(fmt.Sprintf(`{VIN:"W%05d"}`, i)))
			return err
		}))
	}
}

func describeStream(t *testing.T, c *qldb.Client, id string) *types.JournalKinesisStreamDescription {
	t.Helper()
	out, err := c.DescribeJournalKinesisStream(ctx, &qldb.DescribeJournalKinesisStreamInput{LedgerName: aws.String("streamed"), StreamId: aws.String(id)})
	require.NoError(t, err)
	return out.Stream
}

// readBack reads every shard of the Kinesis stream, de-aggregates the
// records with aws-kinesis-agg, and rebuilds the blocks: it returns the
// blocks by sequence number and the control records seen.
func readBack(t *testing.T, kinesisStream string) (map[int64]ion.Value, []string) {
	t.Helper()
	blocks := map[int64]ion.Value{}
	var controls []string
	var rb stream.Rebuilder
	for _, data := range testenv.Deaggregate(t, testenv.ReadKinesisStream(t, kinesisStream)) {
		rec, err := stream.ParseRecord(data)
		require.NoError(t, err)
		if rec.Type == stream.Control {
			ctl, _ := rec.Payload.Get("controlRecordType")
			controls = append(controls, ctl.Text())
			continue
		}
		out, err := rb.Add(data)
		require.NoError(t, err)
		for _, b := range out {
			addr, _ := b.Get("blockAddress")
			seq, _ := addr.Get("sequenceNo")
			n, _ := seq.Int64()
			blocks[n] = b
		}
	}
	return blocks, controls
}

// requireWholeJournal checks that blocks hold every block of the ledger,
// chained, folding to its digest.
func requireWholeJournal(t *testing.T, f *fixture, blocks map[int64]ion.Value) {
	t.Helper()
	digest, err := f.client.GetDigest(ctx, &qldb.GetDigestInput{Name: aws.String("streamed")})
	require.NoError(t, err)
	seqs := make([]int64, 0, len(blocks))
	for s := range blocks {
		seqs = append(seqs, s)
	}
	slices.Sort(seqs)
	var chain verify.ChainVerifier
	for _, s := range seqs {
		require.NoError(t, chain.Add(blocks[s]))
	}
	folded, ok := chain.Digest()
	require.True(t, ok, "the stream starts at block 0")
	require.Equal(t, merkle.Hash(digest.Digest), folded, "the streamed blocks fold to GetDigest's digest")
}

// TestStreamToKinesaliteThroughTheSDK streams a ledger to kinesalite through
// aws-sdk-go-v2's qldb client, with and without aggregation, with an end
// time (COMPLETED) and without one (cancelled), and reads every shard back.
func TestStreamToKinesaliteThroughTheSDK(t *testing.T) {
	for _, aggregate := range []bool{true, false} {
		t.Run(fmt.Sprintf("aggregate=%v", aggregate), func(t *testing.T) {
			f, l := streamFixture(t)
			insertVehicles(t, l, 0, 20)
			kstream := testenv.NewKinesisStream(t, 2)
			start := time.Now().Add(-time.Hour)
			out, err := f.client.StreamJournalToKinesis(ctx, &qldb.StreamJournalToKinesisInput{LedgerName: aws.String("streamed"),
				RoleArn: aws.String("arn:aws:iam::123456789012:role/QLDBStream"), InclusiveStartTime: &start,
				KinesisConfiguration: &types.KinesisConfiguration{StreamArn: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/" + kstream),
					AggregationEnabled: aws.Bool(aggregate)},
				StreamName: aws.String("feed")})
			require.NoError(t, err)
			id := *out.StreamId
			insertVehicles(t, l, 100, 10) // while it streams
			total := 2 + 30
			deadline := time.Now().Add(30 * time.Second)
			for describeStream(t, f.client, id).Status == types.StreamStatusActive {
				d, err := f.db.DescribeJournalKinesisStream(ctx, "streamed", id)
				require.NoError(t, err)
				if d.NextBlock == uint64(total) {
					break
				}
				require.True(t, time.Now().Before(deadline), "delivered up to block %d of %d", d.NextBlock, total)
				time.Sleep(20 * time.Millisecond)
			}
			d := describeStream(t, f.client, id)
			require.Equal(t, aggregate, *d.KinesisConfiguration.AggregationEnabled)
			require.Equal(t, "arn:aws:qldb:us-east-1:000000000000:stream/streamed/"+id, *d.Arn)
			_, err = f.client.CancelJournalKinesisStream(ctx, &qldb.CancelJournalKinesisStreamInput{LedgerName: aws.String("streamed"), StreamId: &id})
			require.NoError(t, err)
			require.Equal(t, types.StreamStatusCanceled, describeStream(t, f.client, id).Status)

			blocks, controls := readBack(t, kstream)
			require.Equal(t, []string{stream.ControlCreated}, controls, "no COMPLETED on cancel")
			require.Len(t, blocks, total)
			requireWholeJournal(t, f, blocks)

			list, err := f.client.ListJournalKinesisStreamsForLedger(ctx, &qldb.ListJournalKinesisStreamsForLedgerInput{LedgerName: aws.String("streamed")})
			require.NoError(t, err)
			require.Len(t, list.Streams, 1)
		})
	}
}

func TestStreamWithAnEndCompletesInKinesalite(t *testing.T) {
	f, l := streamFixture(t)
	insertVehicles(t, l, 0, 5)
	kstream := testenv.NewKinesisStream(t, 1)
	start := time.Now().Add(-time.Hour)
	time.Sleep(2 * time.Millisecond) // the end is exclusive, to the millisecond
	end := time.Now()
	out, err := f.client.StreamJournalToKinesis(ctx, &qldb.StreamJournalToKinesisInput{LedgerName: aws.String("streamed"),
		RoleArn: aws.String("arn:aws:iam::123456789012:role/QLDBStream"), InclusiveStartTime: &start, ExclusiveEndTime: &end,
		KinesisConfiguration: &types.KinesisConfiguration{StreamArn: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/" + kstream)},
		StreamName:           aws.String("bounded")})
	require.NoError(t, err)
	insertVehicles(t, l, 10, 2) // after the end: not streamed
	deadline := time.Now().Add(30 * time.Second)
	for describeStream(t, f.client, *out.StreamId).Status != types.StreamStatusCompleted {
		require.True(t, time.Now().Before(deadline))
		time.Sleep(20 * time.Millisecond)
	}
	blocks, controls := readBack(t, kstream)
	require.Equal(t, []string{stream.ControlCreated, stream.ControlCompleted}, controls)
	require.Len(t, blocks, 2+5)
}

func TestStreamIsImpairedUntilItsKinesisStreamExists(t *testing.T) {
	f, l := streamFixture(t)
	insertVehicles(t, l, 0, 3)
	kstream := fmt.Sprintf("quill-late-%d", time.Now().UnixNano())
	start := time.Now().Add(-time.Hour)
	out, err := f.client.StreamJournalToKinesis(ctx, &qldb.StreamJournalToKinesisInput{LedgerName: aws.String("streamed"),
		RoleArn: aws.String("arn:aws:iam::123456789012:role/QLDBStream"), InclusiveStartTime: &start,
		KinesisConfiguration: &types.KinesisConfiguration{StreamArn: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/" + kstream)},
		StreamName:           aws.String("early")})
	require.NoError(t, err)
	id := *out.StreamId
	deadline := time.Now().Add(30 * time.Second)
	for {
		d := describeStream(t, f.client, id)
		if d.Status == types.StreamStatusImpaired {
			require.Equal(t, types.ErrorCauseKinesisStreamNotFound, d.ErrorCause)
			break
		}
		require.True(t, time.Now().Before(deadline), "status %s", d.Status)
		time.Sleep(10 * time.Millisecond)
	}
	shards := int32(1)
	_, err = testenv.KinesisClient(t).CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: &kstream, ShardCount: &shards})
	require.NoError(t, err)
	for {
		d, err := f.db.DescribeJournalKinesisStream(ctx, "streamed", id)
		require.NoError(t, err)
		if d.Status == quill.StreamActive && d.NextBlock == 5 {
			break
		}
		require.True(t, time.Now().Before(deadline), "status %s, next block %d", d.Status, d.NextBlock)
		time.Sleep(20 * time.Millisecond)
	}
	blocks, _ := readBack(t, kstream)
	require.Len(t, blocks, 5)
}
