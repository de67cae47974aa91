// Package memo keeps values computed from string keys for every goroutine
// of the process: a parsed statement by its text, the digests of a
// statement's text or of a table's name and id. Applications run the same
// few statements on the same few tables, and what is derived from them
// need not be computed per transaction.
package memo

import (
	"sync"
	"sync/atomic"
)

// Memo maps string keys to values computed once. Its bound is crude: past
// limit entries it is emptied and fills again, so a workload of more
// distinct keys than that computes some of them again.
type Memo[V any] struct {
	m     sync.Map // string -> V
	size  atomic.Int64
	limit int64
}

// New returns a Memo that keeps at most limit values.
func New[V any](limit int64) *Memo[V] { return &Memo[V]{limit: limit} }

// Get returns the value of key, computing and keeping it if it is not
// kept. Two goroutines may both compute it; both get a correct value. An
// error is returned and nothing is kept.
func (c *Memo[V]) Get(key string, compute func() (V, error)) (V, error) {
	if v, ok := c.m.Load(key); ok {
		return v.(V), nil
	}
	v, err := compute()
	if err != nil {
		return v, err
	}
	if c.size.Add(1) > c.limit {
		c.m.Clear()
		c.size.Store(0)
	}
	c.m.Store(key, v)
	return v, nil
}
