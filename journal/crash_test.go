package journal

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/merkle"
	"github.com/stretchr/testify/require"
)

// The crash test re-runs this test binary as a writer child process.
const (
	crashDirEnv    = "QUILL_JOURNAL_CRASH_DIR"
	crashStrandEnv = "QUILL_JOURNAL_CRASH_STRAND"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashDirEnv); dir != "" {
		crashWriter(dir, os.Getenv(crashStrandEnv))
		return
	}
	os.Exit(m.Run())
}

// crashWriter commits from several goroutines until it is killed, printing
// "ack <seq> <blockHash>" after each acknowledged commit.
func crashWriter(dir, strandID string) {
	j, err := Open(dir, nil)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	s, err := j.Strand(context.Background(), strandID)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	out := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	fmt.Println("ready")
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				r, err := s.Commit(context.Background(), insertTx(w*1_000_000+i, ion.NewID()))
				if err != nil {
					fmt.Println("error", err)
					os.Exit(1)
				}
				mu.Lock()
				fmt.Fprintf(out, "ack %d %s\n", r.SequenceNo, r.BlockHash)
				_ = out.Flush() // the ack leaves the process only after the commit returned
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// TestCrashKeepsEveryAcknowledgedCommit kills a writer process with SIGKILL
// at random moments, reopens the journal each time, and requires Check to
// pass, every acknowledged block to be there with its hash, and nothing
// half-written after the tip.
func TestCrashKeepsEveryAcknowledgedCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	j, err := Open(dir, nil)
	require.NoError(t, err)
	s, err := j.CreateStrand(ctx)
	require.NoError(t, err)
	strand := s.ID()
	require.NoError(t, j.Close())

	acked := map[uint64]merkle.Hash{}
	rng := rand.New(rand.NewPCG(1, 2))
	const rounds = 8
	for round := range rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashStrandEnv+"="+strand)
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		lines := make(chan string, 1<<16)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		require.Equal(t, "ready", <-lines, "round %d: the writer did not start", round)
		time.Sleep(time.Duration(20+rng.IntN(200)) * time.Millisecond)
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		_ = cmd.Wait()
		for line := range lines {
			f := strings.Fields(line)
			if len(f) != 3 || f[0] != "ack" {
				if strings.HasPrefix(line, "error") {
					t.Fatalf("round %d: writer failed: %s", round, line)
				}
				continue // a line cut by the kill
			}
			seq, err := strconv.ParseUint(f[1], 10, 64)
			require.NoError(t, err)
			h, err := merkle.ParseHash(f[2])
			require.NoError(t, err)
			acked[seq] = h
		}

		j, err := Open(dir, nil)
		require.NoError(t, err)
		s, err := j.Strand(ctx, strand)
		require.NoError(t, err)
		rep, err := s.Check(ctx)
		require.NoError(t, err, "round %d", round)
		for seq, h := range acked {
			require.Less(t, seq, rep.Blocks, "round %d: acknowledged block %d lost (tip %d)", round, seq, rep.Blocks)
			b, err := s.Block(ctx, seq)
			require.NoError(t, err)
			require.Equal(t, h, b.Hash, "round %d: block %d changed", round, seq)
		}
		require.NoError(t, j.Close())
		t.Logf("round %d: %d blocks, %d acknowledged so far", round, rep.Blocks, len(acked))
	}
	require.NotEmpty(t, acked)
}
