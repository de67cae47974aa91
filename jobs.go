package quill

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/quilldb/quill/internal/keyspace"
	"github.com/quilldb/quill/internal/wait"
	"github.com/quilldb/quill/journal"
)

// jobs runs the DB's background jobs (journal exports, journal streams),
// each on a goroutine under its 22-character id. Close stops them all and
// waits; a stored job left unfinished is resumed by the next Open.
type jobs struct {
	// mu serialises the starting of jobs against their quotas (two exports,
	// five streams per ledger) and against cancellations.
	mu sync.Mutex

	runMu   sync.Mutex
	running map[string]context.CancelFunc
	ctx     context.Context // cancelled by Close
	stopAll context.CancelFunc
	wg      sync.WaitGroup
}

func (j *jobs) init() {
	j.running = map[string]context.CancelFunc{}
	j.ctx, j.stopAll = context.WithCancel(context.Background())
}

// start runs fn on a goroutine; its context ends with Close or stop.
func (j *jobs) start(id string, fn func(ctx context.Context)) {
	ctx, cancel := context.WithCancel(j.ctx)
	j.runMu.Lock()
	j.running[id] = cancel
	j.runMu.Unlock()
	j.wg.Go(func() {
		defer func() {
			j.runMu.Lock()
			delete(j.running, id)
			j.runMu.Unlock()
			cancel()
		}()
		fn(ctx)
	})
}

// stop cancels the running jobs among ids and waits until none of them
// runs (a cancelled job returns without saving a final state).
func (j *jobs) stop(ctx context.Context, ids map[string]bool) error {
	j.runMu.Lock()
	for id := range ids {
		if cancel := j.running[id]; cancel != nil {
			cancel()
		}
	}
	j.runMu.Unlock()
	for {
		j.runMu.Lock()
		busy := false
		for id := range ids {
			if _, ok := j.running[id]; ok {
				busy = true
			}
		}
		j.runMu.Unlock()
		if !busy {
			return nil
		}
		if err := wait.Sleep(ctx, 2*time.Millisecond); err != nil {
			return err
		}
	}
}

// close stops every job and waits for them.
func (j *jobs) close() {
	j.stopAll()
	j.wg.Wait()
}

// storedJob is what the stored job records (journal exports, streams,
// table exports) have in common.
type storedJob interface {
	jobID() string
	jobLedger() string
	// running reports whether the job is to be run (resumed at Open);
	// otherwise finished is when it ended, for the retention.
	running() bool
	finishedMillis() int64
}

func (r *exportRecord) jobID() string          { return r.ID }
func (r *exportRecord) jobLedger() string      { return r.Ledger }
func (r *exportRecord) running() bool          { return r.Status == ExportInProgress }
func (r *exportRecord) finishedMillis() int64  { return r.Finished }
func (r *streamRecord) jobID() string          { return r.ID }
func (r *streamRecord) jobLedger() string      { return r.Ledger }
func (r *streamRecord) running() bool          { return r.active() }
func (r *streamRecord) finishedMillis() int64  { return r.Finished }
func (r *tableExportRecord) jobID() string     { return r.ID }
func (r *tableExportRecord) jobLedger() string { return r.Ledger }
func (r *tableExportRecord) running() bool     { return r.Status == TableExportInProgress }
func (r *tableExportRecord) finishedMillis() int64 {
	return r.Finished
}

// jobKey is a stored job's key under its owner's prefix.
func jobKey(prefix byte, id string) []byte { return append([]byte{prefix}, id...) }

// saveJob stores a job record (JSON) under its owner's prefix, synced.
func saveJob[P storedJob](ctx context.Context, db *DB, prefix byte, rec P) error {
	raw, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return mapJournalErr(db.j.Write(ctx, []journal.Write{{Key: jobKey(prefix, rec.jobID()), Value: raw}}))
}

// loadJobs reads every stored job under prefix, deleting those that
// finished more than the retention (7 days) ago.
func loadJobs[T any, P interface {
	*T
	storedJob
}](ctx context.Context, db *DB, prefix byte) ([]P, error) {
	var out []P
	var expired []journal.Write
	horizon := db.opts.Journal.Clock().Add(-exportRetention).UnixMilli()
	lo := []byte{prefix}
	err := db.j.Scan(ctx, lo, keyspace.End(lo), func(k, v []byte) error {
		rec := P(new(T))
		if err := json.Unmarshal(v, rec); err != nil {
			return fmt.Errorf("quill: job record %s: %w", k[1:], err)
		}
		if !rec.running() && rec.finishedMillis() < horizon {
			expired = append(expired, journal.Write{Key: append([]byte(nil), k...), Delete: true})
			return nil
		}
		out = append(out, rec)
		return nil
	})
	if err == nil && len(expired) > 0 {
		err = db.j.Write(ctx, expired)
	}
	return out, mapJournalErr(err)
}

// resumeJobs starts the stored jobs left running. A DB opened without a
// sink factory for them (a read-only tool) leaves them for the next one.
func resumeJobs[P storedJob](db *DB, jobs []P, haveSinks bool, kind string, start func(P)) {
	for _, rec := range jobs {
		if !rec.running() {
			continue
		}
		if !haveSinks {
			db.opts.Journal.Logger.Warn(kind+" not resumed: no sinks are set in Options", "id", rec.jobID(), "ledger", rec.jobLedger())
			continue
		}
		start(rec)
	}
}

// dropLedgerJobs stops a ledger's jobs among jobs and deletes their
// records.
func dropLedgerJobs[P storedJob](ctx context.Context, db *DB, prefix byte, jobs []P, ledger string) error {
	ids := map[string]bool{}
	var deletes []journal.Write
	for _, rec := range jobs {
		if rec.jobLedger() == ledger {
			ids[rec.jobID()] = true
			deletes = append(deletes, journal.Write{Key: jobKey(prefix, rec.jobID()), Delete: true})
		}
	}
	if len(deletes) == 0 {
		return nil
	}
	if err := db.jobs.stop(ctx, ids); err != nil {
		return err
	}
	return mapJournalErr(db.j.Write(ctx, deletes))
}
