package journal

import (
	"sync/atomic"
	"time"
)

// Stats counts what a journal's commit path did since the journal was
// opened, for benchmarks and monitoring: read it twice and subtract
// (Stats.Sub). Transactions per group tell how well commits are batched;
// the log's sync time over the wall time tells how busy the write-ahead
// log is, and so whether the disk or the CPU limits the commit rate.
type Stats struct {
	Groups       uint64        // groups of transactions written, each one Pebble batch
	Transactions uint64        // transactions in them (each made a block)
	LogSyncs     uint64        // syncs of the write-ahead log
	LogSyncTime  time.Duration // time spent in them (one runs at a time)
}

// Sub returns the counts of s since earlier.
func (s Stats) Sub(earlier Stats) Stats {
	return Stats{Groups: s.Groups - earlier.Groups, Transactions: s.Transactions - earlier.Transactions,
		LogSyncs: s.LogSyncs - earlier.LogSyncs, LogSyncTime: s.LogSyncTime - earlier.LogSyncTime}
}

// counters are the live Stats, updated with atomics.
type counters struct {
	groups, transactions, logSyncs, logSyncNanos atomic.Uint64
}

// logSynced counts one sync of the log that started at start.
func (c *counters) logSynced(start time.Time) {
	c.logSyncs.Add(1)
	c.logSyncNanos.Add(uint64(time.Since(start)))
}

// Stats returns the journal's counters.
func (j *Journal) Stats() Stats {
	c := &j.counters
	return Stats{Groups: c.groups.Load(), Transactions: c.transactions.Load(),
		LogSyncs: c.logSyncs.Load(), LogSyncTime: time.Duration(c.logSyncNanos.Load())}
}
