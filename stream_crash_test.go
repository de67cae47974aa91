package quill

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/quilldb/quill/internal/testenv"
	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/stream"
	kinesissink "github.com/quilldb/quill/stream/kinesis"
	"github.com/quilldb/quill/verify"
	"github.com/stretchr/testify/require"
)

// The crash test's child process: it owns the store in QUILL_CRASH_DIR,
// streams the ledger to the Kinesis stream QUILL_CRASH_KINESIS, and commits
// from 8 goroutines, printing "ack SEQ" for each acknowledged commit,
// until it is killed. With QUILL_CRASH_DRAIN set it commits nothing and
// exits once the stream has delivered every block.
func TestStreamCrashChild(t *testing.T) {
	dir := os.Getenv("QUILL_CRASH_DIR")
	if dir == "" {
		t.Skip("the child process of TestStreamDeliversEveryBlockAcrossSIGKILL")
	}
	endpoint := testenv.KinesisEndpoint(t)
	db, err := Open(dir, &Options{StreamSinks: func(_ context.Context, target StreamTarget) (stream.Sink, error) {
		return kinesissink.NewFromConfig(testenv.AWSConfig(endpoint), kinesissink.Config{StreamName: target.StreamName, Aggregate: target.Aggregate}), nil
	}})
	require.NoError(t, err)
	if _, err := db.DescribeLedger(ctx, "crash"); err != nil {
		l := newLedger(t, db, "crash")
		require.NoError(t, l.Execute(ctx, func(tx *Tx) error { _, err := tx.CreateTable("T"); return err }))
		_, err := db.StreamJournalToKinesis(ctx, "crash", &StreamJournalToKinesisInput{RoleArn: "arn:aws:iam::123456789012:role/s",
			InclusiveStartTime: time.Now().Add(-time.Hour), StreamArn: "arn:aws:kinesis:us-east-1:000000000000:stream/" + os.Getenv("QUILL_CRASH_KINESIS"),
			StreamName: "crash"})
		require.NoError(t, err)
	}
	l, err := db.Ledger(ctx, "crash")
	require.NoError(t, err)
	if os.Getenv("QUILL_CRASH_DRAIN") != "" {
		streams, _, err := db.ListJournalKinesisStreamsForLedger(ctx, "crash", 0, "")
		require.NoError(t, err)
		for {
			d, err := db.DescribeJournalKinesisStream(ctx, "crash", streams[0].StreamID)
			require.NoError(t, err)
			if d.NextBlock == l.strand.Size() {
				fmt.Println("drained", d.NextBlock)
				require.NoError(t, db.Close())
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				rec, err := l.ExecuteReceipt(ctx, func(tx *Tx) error {
					_, err := tx.Insert("T", []byte(fmt.Sprintf(`{w:%d,i:%d}`, w, i)))
					return err
				})
				if err != nil {
					fmt.Fprintln(os.Stderr, "commit:", err)
					return
				}
				mu.Lock()
				fmt.Printf("ack %d\n", rec.Block.SequenceNo)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// TestStreamDeliversEveryBlockAcrossSIGKILL kills, three times, a process
// that commits from 8 goroutines while its stream to kinesalite runs; the
// process started again resumes the stream, and every acknowledged block is
// then in Kinesis, verified, with the chain folding to the digest.
func TestStreamDeliversEveryBlockAcrossSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	testenv.KinesisEndpoint(t)
	kstream := testenv.NewKinesisStream(t, 2)
	dir := t.TempDir()
	child := func(drain bool) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestStreamCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "QUILL_CRASH_DIR="+dir, "QUILL_CRASH_KINESIS="+kstream)
		if drain {
			cmd.Env = append(cmd.Env, "QUILL_CRASH_DRAIN=1")
		}
		return cmd
	}
	acked := map[int64]bool{}
	for round := range 3 {
		cmd := child(false)
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		sc := bufio.NewScanner(out)
		n := 0
		for sc.Scan() && n < 200 {
			if seq, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
				s, err := strconv.ParseInt(seq, 10, 64)
				require.NoError(t, err)
				acked[s] = true
				n++
			}
		}
		require.Equal(t, 200, n, "round %d: the child stopped acknowledging", round)
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		_ = cmd.Wait()
	}
	drain := child(true)
	drain.Stderr = os.Stderr
	output, err := drain.Output()
	require.NoError(t, err, "%s", output)
	require.Contains(t, string(output), "drained")

	db, err := Open(dir, nil)
	require.NoError(t, err)
	defer db.Close()
	l, err := db.Ledger(ctx, "crash")
	require.NoError(t, err)
	digest, err := l.GetDigest(ctx)
	require.NoError(t, err)

	var rb stream.Rebuilder
	blocks := map[int64]ion.Value{}
	for _, data := range testenv.Deaggregate(t, testenv.ReadKinesisStream(t, kstream)) {
		out, err := rb.Add(data)
		require.NoError(t, err)
		for _, b := range out {
			addr, _ := b.Get("blockAddress")
			seq, _ := addr.Get("sequenceNo")
			n, _ := seq.Int64()
			blocks[n] = b
		}
	}
	for seq := range acked {
		require.Contains(t, blocks, seq, "acknowledged block %d never reached Kinesis", seq)
	}
	seqs := make([]int64, 0, len(blocks))
	for s := range blocks {
		seqs = append(seqs, s)
	}
	slices.Sort(seqs)
	var chain verify.ChainVerifier
	for _, s := range seqs {
		require.NoError(t, chain.Add(blocks[s]))
	}
	require.Equal(t, int64(digest.Tip.SequenceNo), seqs[len(seqs)-1])
	folded, ok := chain.Digest()
	require.True(t, ok)
	require.Equal(t, digest.Digest, folded)
	t.Logf("%d acknowledged blocks, %d blocks delivered", len(acked), len(blocks))
}
