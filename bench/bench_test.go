package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func smoke(t *testing.T, workload string, mutate func(*Config)) *Report {
	t.Helper()
	c := &Config{Workload: workload, Smoke: true, Dir: t.TempDir()}
	if mutate != nil {
		mutate(c)
	}
	rep, err := Run(context.Background(), c)
	require.NoError(t, err)
	require.NotEmpty(t, rep.Results)
	for _, r := range rep.Results {
		require.Positive(t, r.Ops, "%s %s made no progress", r.Engine, r.Workload)
		require.Positive(t, r.OpsPerSec)
	}
	return rep
}

func TestCommitSmokeComparesQuillAndPebble(t *testing.T) {
	rep := smoke(t, Commit, nil)
	engines := map[string]int{}
	for _, r := range rep.Results {
		engines[r.Engine]++
		require.Positive(t, r.P50)
		require.GreaterOrEqual(t, r.P99, r.P50)
	}
	require.Equal(t, map[string]int{"quill": 2, "pebble": 2}, engines)

	var table, lines, js bytes.Buffer
	require.NoError(t, rep.WriteTable(&table))
	require.Contains(t, table.String(), "vs quill")
	require.Contains(t, table.String(), "1.00x")
	require.NoError(t, rep.WriteBenchLines(&lines))
	require.Contains(t, lines.String(), "BenchmarkCommit/engine=quill/clients=16-")
	require.NoError(t, rep.WriteJSON(&js))
	var back Report
	require.NoError(t, json.Unmarshal(js.Bytes(), &back))
	require.Equal(t, rep.Machine, back.Machine)
	require.Positive(t, back.Machine.Cores)
}

func TestUpdatesWithAHotSetCountRetries(t *testing.T) {
	rep := smoke(t, Commit, func(c *Config) { c.Updates, c.HotSet, c.Engines = true, 3, []string{"quill"} })
	for _, r := range rep.Results {
		require.Contains(t, r.Extra, "retries")
	}
}

func TestProveCheckAndGrowthSmoke(t *testing.T) {
	prove := smoke(t, Prove, nil)
	for _, r := range prove.Results {
		require.Equal(t, "quill", r.Engine, "only Quill proves")
		require.Positive(t, r.Extra["proofHashes"])
	}
	check := smoke(t, Check, nil)
	require.Len(t, check.Results, 2)
	growth := smoke(t, Growth, nil)
	for _, r := range growth.Results {
		require.Positive(t, r.Extra["bytesPerTx"])
		if r.Engine == "quill" {
			require.Positive(t, r.Extra["proofP50Ns"])
		}
	}
}

func TestBadConfigs(t *testing.T) {
	_, err := Run(context.Background(), &Config{Workload: "nope", Smoke: true})
	require.ErrorContains(t, err, "unknown workload")
	_, err = Run(context.Background(), &Config{Engines: []string{"nope"}, Smoke: true})
	require.ErrorContains(t, err, "unknown engine")
	_, err = Run(context.Background(), &Config{Workload: Prove, Engines: []string{"pebble"}, Smoke: true})
	require.True(t, strings.Contains(err.Error(), "no engine"))
}

func TestChartsAreSVG(t *testing.T) {
	for _, w := range []string{Commit, Check} {
		rep := smoke(t, w, nil)
		files, err := rep.WriteSVG(t.TempDir())
		require.NoError(t, err)
		require.NotEmpty(t, files)
		for _, f := range files {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			require.Contains(t, string(b), "<svg")
			require.Contains(t, string(b), "quill")
		}
	}
}

func TestMainHelpListsTheFlagsAndRunsNothing(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, Main([]string{Commit, "-h"}, &out, &out))
	for _, f := range []string{"-clients", "-duration", "-engines", "-json", "-svg"} {
		require.Contains(t, out.String(), f)
	}
	err := Main([]string{Commit, "-clients", "0"}, &out, &out)
	require.ErrorIs(t, err, ErrUsage)
	require.ErrorContains(t, err, "-clients wants positive integers")
}

func TestExportAndStreamSmoke(t *testing.T) {
	rep := smoke(t, Export, func(c *Config) { c.Engines = []string{"quill"} })
	formats := 0
	for _, r := range rep.Results {
		if r.Clients == 0 {
			formats++
			require.Positive(t, r.Extra["MB/s"])
			require.Positive(t, r.Extra["vs-check"])
		} else {
			require.Contains(t, r.Extra, "kept")
		}
	}
	require.Equal(t, 2*3, formats, "three formats at each of the two sizes")
	rep = smoke(t, ExportTable, func(c *Config) { c.Engines = []string{"quill"} })
	for _, r := range rep.Results {
		require.Equal(t, int64(r.Size), r.Ops, "every document of the table exported")
	}
	rep = smoke(t, Stream, func(c *Config) { c.Engines = []string{"quill"} })
	for _, r := range rep.Results {
		require.Positive(t, r.P50, "a lag was measured")
		require.Zero(t, r.Extra["undelivered"], "every committed block was delivered")
	}
}

// A warm-up runs the operation unmeasured first: only operations that
// start after it count, the counters are read when it ends, and the
// elapsed time is the measured part's.
func TestWarmupIsNotMeasured(t *testing.T) {
	var calls, callsAtBegin atomic.Int64
	begun := 0
	ops, elapsed, lat, err := measureAfter(context.Background(), 4, 150*time.Millisecond, 150*time.Millisecond,
		func(int, int) error { calls.Add(1); time.Sleep(time.Millisecond); return nil },
		func() { begun++; callsAtBegin.Store(calls.Load()) })
	require.NoError(t, err)
	require.Equal(t, 1, begun)
	require.Positive(t, callsAtBegin.Load(), "the warm-up ran the operation")
	require.Len(t, lat, int(ops))
	require.LessOrEqual(t, ops, calls.Load()-callsAtBegin.Load()+4, "only operations started after the warm-up count")
	require.GreaterOrEqual(t, elapsed, 150*time.Millisecond)
	require.Less(t, elapsed, 290*time.Millisecond, "the warm-up is not in the elapsed time")

	rep := smoke(t, Commit, func(c *Config) { c.Engines, c.Warmup = []string{"quill"}, 50*time.Millisecond })
	for _, r := range rep.Results {
		require.InDelta(t, 0.05, r.Extra["warmupS"], 1e-9)
	}
}
