package stream

import "context"

// Func is the in-process Sink: it calls the function with each batch of
// records, in order. The batch counts as delivered when the function
// returns nil; an error makes Run deliver the batch again (after a
// backoff), so the function sees every record at least once. A function
// that blocks holds up only its own stream, never commits.
type Func func(ctx context.Context, records []Record) error

// Put calls f.
func (f Func) Put(ctx context.Context, records []Record) error { return f(ctx, records) }
