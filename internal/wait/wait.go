// Package wait holds the one way Quill's background work pauses: for a
// duration, or until its context ends.
package wait

import (
	"context"
	"time"
)

// Sleep waits for d, or until ctx ends (its error). A d of zero or less
// returns at once.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
