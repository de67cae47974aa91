package quill

import (
	"context"
	"sync"
	"time"

	"github.com/quilldb/quill/internal/wait"
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
