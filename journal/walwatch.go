package journal

import (
	"strings"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// Pebble's write-ahead log treats a failed write or sync as the end of the
// log: the error is sticky, and a later batch written to the log makes
// Pebble panic while it holds its commit lock, after which the store can
// be neither used nor closed. The journal recovers from such failures by
// reopening the store, so it must stop writing the moment the log fails,
// not when it next hears of it: the sequencer writes a group while the
// syncs of earlier groups are still running, and any of them may fail.
//
// walWatch wraps the store's filesystem and raises a flag, before Pebble
// sees the error, when an operation on a log file fails. Journal.apply
// checks the flag and writes under one lock, so no write reaches a log
// that has failed: a failure either raised the flag before the check, or
// happened after the write's check and so cannot have made the log's error
// sticky for it (Pebble takes the error up only when a later write fills a
// block).

// walWatch is a vfs.FS that watches its log files. It also times their
// syncs (Stats).
type walWatch struct {
	vfs.FS
	failed   *atomic.Bool
	counters *counters
}

func (w walWatch) Create(name string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := w.FS.Create(name, category)
	return w.watch(name, f, err)
}

func (w walWatch) ReuseForWrite(oldname, newname string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := w.FS.ReuseForWrite(oldname, newname, category)
	return w.watch(newname, f, err)
}

func (w walWatch) watch(name string, f vfs.File, err error) (vfs.File, error) {
	if err != nil || !strings.HasSuffix(name, ".log") {
		return f, err
	}
	return &watchedLog{File: f, failed: w.failed, counters: w.counters}, nil
}

// watchedLog is a log file whose failed writes and syncs raise failed.
type watchedLog struct {
	vfs.File
	failed   *atomic.Bool
	counters *counters
}

func (f *watchedLog) note(err error) error {
	if err != nil {
		f.failed.Store(true)
	}
	return err
}

func (f *watchedLog) Write(p []byte) (int, error) {
	n, err := f.File.Write(p)
	return n, f.note(err)
}

func (f *watchedLog) WriteAt(p []byte, off int64) (int, error) {
	n, err := f.File.WriteAt(p, off)
	return n, f.note(err)
}

func (f *watchedLog) Sync() error {
	defer f.counters.logSynced(time.Now())
	return f.note(f.File.Sync())
}

func (f *watchedLog) SyncData() error {
	defer f.counters.logSynced(time.Now())
	return f.note(f.File.SyncData())
}

func (f *watchedLog) SyncTo(length int64) (bool, error) {
	defer f.counters.logSynced(time.Now())
	full, err := f.File.SyncTo(length)
	return full, f.note(err)
}
