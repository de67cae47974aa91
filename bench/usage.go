package bench

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/quilldb/quill/journal"
)

// usage is the process's CPU time and the bytes it has written to
// storage, read before and after a measured point: CPU per transaction
// (user + system, every goroutine and Pebble's background work included)
// and bytes written per transaction (the WAL, flushes and compactions) are
// what a change to the commit path costs or saves.
type usage struct {
	cpu     time.Duration
	written int64 // -1 when the system does not say
}

func readUsage() usage {
	var ru syscall.Rusage
	u := usage{written: -1}
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		u.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	u.written = writeBytes()
	return u
}

// writeBytes is write_bytes of /proc/self/io: bytes the process caused to
// be sent to the storage layer.
func writeBytes() int64 {
	f, err := os.Open("/proc/self/io")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "write_bytes: "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err == nil {
				return n
			}
		}
	}
	return -1
}

// addUsage records CPU and bytes written per operation between two
// readings.
func addUsage(r *Result, before, after usage, ops int64) {
	if ops <= 0 {
		return
	}
	r.Extra["cpuUsPerTx"] = float64(after.cpu-before.cpu) / float64(time.Microsecond) / float64(ops)
	if before.written >= 0 && after.written >= 0 {
		r.Extra["writtenBPerTx"] = float64(after.written-before.written) / float64(ops)
	}
}

// journalCounted is a store that counts what its commit path did (Quill):
// transactions per group and how busy the write-ahead log was say whether
// commits were batched and whether the disk or the CPU set the rate.
type journalCounted interface{ JournalStats() journal.Stats }

// readJournal returns the store's commit path counters, if it has them.
func readJournal(s Store) (journal.Stats, bool) {
	if c, ok := s.(journalCounted); ok {
		return c.JournalStats(), true
	}
	return journal.Stats{}, false
}

// addJournal adds to r the commit path's figures over a measured point:
// transactions per group, the mean log sync, and the share of the wall time
// the log spent syncing.
func addJournal(r *Result, before, after journal.Stats, elapsed time.Duration) {
	d := after.Sub(before)
	if d.Groups > 0 {
		r.Extra["txPerGroup"] = float64(d.Transactions) / float64(d.Groups)
	}
	if d.LogSyncs > 0 && elapsed > 0 {
		r.Extra["logSyncUs"] = float64(d.LogSyncTime) / float64(time.Microsecond) / float64(d.LogSyncs)
		r.Extra["logBusyPct"] = 100 * float64(d.LogSyncTime) / float64(elapsed)
	}
}
