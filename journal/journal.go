package journal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/quilldb/quill/ion"
)

// Journal is one Pebble store holding the strands of any number of ledgers.
// It is safe for concurrent use.
type Journal struct {
	dir  string
	opts Options

	// mu guards db, gen and closed. Operations hold it shared; recovery from
	// a fatal store error replaces db under the exclusive lock.
	mu     sync.RWMutex
	db     *pebble.DB
	gen    uint64
	closed bool

	// applyMu orders writes to the store with the check of walFailed,
	// raised by the store's filesystem when a log write or sync fails
	// (walwatch.go) and lowered when the store is reopened.
	applyMu   sync.Mutex
	walFailed atomic.Bool
	counters  counters // Stats

	strandsMu sync.Mutex
	strands   map[string]*Strand

	// snaps are the snapshots of batched reads (readRange), closed by
	// Close and recovery.
	snapsMu sync.Mutex
	snaps   map[*readSnapshot]struct{}

	// longReads are reads that hold a snapshot's iterators without the
	// lock (Check), cancelled and waited for by Close and recovery.
	longMu    sync.Mutex
	longReads map[*longRead]struct{}

	// done is closed by Close: followers waiting for new blocks wake.
	done chan struct{}
}

// pebbleFatal is what Pebble's Fatalf raises through our logger, so that the
// journal can recover from failed WAL writes instead of exiting.
type pebbleFatal struct{ msg string }

type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug("pebble", "msg", fmt.Sprintf(format, args...))
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error("pebble", "msg", fmt.Sprintf(format, args...))
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.l.Error("pebble fatal", "msg", msg)
	panic(pebbleFatal{msg: msg})
}

// Open opens (or creates) the journal stored in dir. A second process
// opening the same dir gets an error.
func Open(dir string, opts *Options) (*Journal, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	o.EnsureDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if err := checkCreate(o.FS, dir, o.Create); err != nil {
		return nil, err
	}
	j := &Journal{dir: dir, opts: o, strands: map[string]*Strand{},
		snaps: map[*readSnapshot]struct{}{}, longReads: map[*longRead]struct{}{}, done: make(chan struct{})}
	db, err := j.openStore()
	if err != nil {
		return nil, err
	}
	j.db = db
	return j, nil
}

// StoreExists reports whether dir holds a store.
func StoreExists(fs vfs.FS, dir string) (bool, error) {
	if fs == nil {
		fs = vfs.Default
	}
	if _, err := fs.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	desc, err := pebble.Peek(dir, fs)
	if err != nil {
		return false, fmt.Errorf("journal: look for a store in %s: %w", dir, err)
	}
	return desc.Exists, nil
}

// checkCreate refuses to open dir when it holds no store and mode does not
// allow making one there. It creates nothing.
func checkCreate(fs vfs.FS, dir string, mode CreateMode) error {
	if mode == CreateAlways {
		return nil
	}
	exists, err := StoreExists(fs, dir)
	if err != nil || exists {
		return err
	}
	if mode == CreateNever {
		return fmt.Errorf("%w in %s", ErrNoStore, dir)
	}
	entries, err := fs.List(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("journal: look for a store in %s: %w", dir, err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("%w in %s, and it is not empty: refusing to create one among other files", ErrNoStore, dir)
	}
	return nil
}

// valueSeparationMinSize is the smallest value Pebble stores in a blob
// file: every block record but the tiniest; the ledger's views, history
// and index entries (tens of bytes) stay in the sstables.
const valueSeparationMinSize = 256

func (j *Journal) openStore() (db *pebble.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(pebbleFatal)
			if !ok {
				panic(r)
			}
			err = fmt.Errorf("journal: open %s: %s", j.dir, f.msg)
		}
	}()
	cache := pebble.NewCache(j.opts.CacheSize)
	defer cache.Unref()
	po := &pebble.Options{
		FS:     walWatch{FS: j.opts.FS, failed: &j.walFailed, counters: &j.counters},
		Logger: pebbleLogger{l: j.opts.Logger},
		Cache:  cache,
		// Larger memtables mean fewer flushes and a shallower L0 under a
		// steady stream of commits.
		MemTableSize: 64 << 20,
		// Block records (a revision's document and its metadata, hundreds
		// of bytes to megabytes) are most of what a commit writes, and no
		// one rewrites them. With value separation a flush writes them
		// once into blob files and compactions move only their keys and
		// handles, instead of rewriting them at every level: at 64 and 256
		// clients a quarter fewer bytes written and ~10% more commits a
		// second (README, "The commit path"). The format is pinned, not
		// FormatNewest, so that a Pebble upgrade does not ratchet stores
		// on its own; a store written before is ratcheted to it when
		// opened (Pebble does this, one way).
		FormatMajorVersion: pebble.FormatValueSeparation,
	}
	po.Experimental.ValueSeparationPolicy = func() pebble.ValueSeparationPolicy {
		return pebble.ValueSeparationPolicy{
			Enabled:               true,
			MinimumSize:           valueSeparationMinSize,
			MaxBlobReferenceDepth: 10,
			// Blob files hold garbage only after a ledger is deleted (its
			// blocks go with it): rewrite a file once a fifth of it is
			// garbage and it is five minutes old.
			RewriteMinimumAge:  5 * time.Minute,
			TargetGarbageRatio: 0.2,
		}
	}
	// Bloom filters on every level: the ledger layer's OCC reads and
	// validations are point Gets, which otherwise probe every table of L0.
	for i := range po.Levels {
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	db, err = pebble.Open(j.dir, po)
	if err != nil {
		return nil, fmt.Errorf("journal: open %s (is another process using it?): %w", j.dir, err)
	}
	return db, nil
}

// Close closes the journal. It is safe to call more than once; commits and
// reads after Close return ErrClosed. Close does not wait for the callbacks
// of long reads (Scan, Blocks, Follow): they end with ErrClosed at their
// next batch. A running Check is cancelled and ends with ErrClosed.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return nil
	}
	j.closed = true
	close(j.done)
	j.cancelLongReads(ErrClosed)
	j.closeSnapshots()
	return closeStore(j.db)
}

func closeStore(db *pebble.DB) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(pebbleFatal); !ok {
				panic(r)
			}
			err = fmt.Errorf("journal: close: %v", r)
		}
	}()
	if err := db.Close(); err != nil {
		return fmt.Errorf("journal: close: %w", err)
	}
	return nil
}

// store returns the open store and its generation, with j.mu held shared;
// the caller must call the returned release.
func (j *Journal) store() (db *pebble.DB, gen uint64, release func(), err error) {
	j.mu.RLock()
	if j.closed {
		j.mu.RUnlock()
		return nil, 0, nil, ErrClosed
	}
	return j.db, j.gen, j.mu.RUnlock, nil
}

// recoverStore closes and reopens the store after Pebble reported a fatal
// error in generation gen; a recovery already done by someone else is not
// repeated.
func (j *Journal) recoverStore(gen uint64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return ErrClosed
	}
	if j.gen != gen {
		return nil
	}
	j.cancelLongReads(errReadInterrupted)
	j.closeSnapshots()
	if err := closeStore(j.db); err != nil {
		j.opts.Logger.Warn("journal: closing the failed store", "err", err)
	}
	db, err := j.openStore()
	if err != nil {
		// Nothing more can be done in this process: stay closed.
		j.closed = true
		close(j.done)
		return fmt.Errorf("journal: reopen after a store failure: %w", err)
	}
	j.db = db
	j.walFailed.Store(false)
	j.gen++
	j.opts.Logger.Warn("journal: reopened the store after a fatal write error", "generation", j.gen)
	return nil
}

// CreateStrand creates a new, empty strand.
func (j *Journal) CreateStrand(ctx context.Context) (*Strand, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return j.createStrand(ctx, ion.NewID())
}

// createStrand creates a strand with a given id (tests use fixed ids).
func (j *Journal) createStrand(ctx context.Context, id string) (*Strand, error) {
	if err := j.syncedBatch(func(b *pebble.Batch) { _ = b.Set(metaKey(id), (&strandState{}).encode(), nil) }); err != nil {
		return nil, fmt.Errorf("journal: create strand: %w", err)
	}
	return j.Strand(ctx, id)
}

// Strand returns the strand with the given id.
func (j *Journal) Strand(ctx context.Context, id string) (*Strand, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := ion.ValidateID(id); err != nil {
		return nil, fmt.Errorf("%w: strand id: %w", ErrStrandNotFound, err)
	}
	j.strandsMu.Lock()
	defer j.strandsMu.Unlock()
	if s, ok := j.strands[id]; ok {
		return s, nil
	}
	s := newStrand(j, id)
	if err := s.load(); err != nil {
		return nil, err
	}
	j.strands[id] = s
	return s, nil
}

// Strands lists the ids of all strands.
func (j *Journal) Strands(ctx context.Context) ([]string, error) {
	var ids []string
	err := j.Scan(ctx, []byte{keyPrefix}, []byte{keyPrefix + 1}, func(k, _ []byte) error {
		if len(k) == 1+ion.IDLength+1 && k[len(k)-1] == kindMeta {
			ids = append(ids, string(k[1:1+ion.IDLength]))
		}
		return nil
	})
	return ids, err
}

// Get reads a key of the caller's keyspace (or the journal's): value is a
// copy, found is false if the key is absent.
func (j *Journal) Get(key []byte) (value []byte, found bool, err error) {
	db, _, release, err := j.store()
	if err != nil {
		return nil, false, err
	}
	defer release()
	return getCopy(db, key)
}

type getter interface {
	Get(key []byte) ([]byte, io.Closer, error)
}

func getCopy(g getter, key []byte) ([]byte, bool, error) {
	v, closer, err := g.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	out := append([]byte(nil), v...)
	return out, true, closer.Close()
}

// Scan calls fn for every key in [lo, hi) in order, from one consistent
// view of the store (a snapshot taken at the call). fn must not keep k or
// v. Scan copies batches of about Options.ReadBatchSize bytes and holds no
// lock while fn runs, so fn may call any method of the journal and may
// block as long as it needs; while it does, the snapshot keeps the old
// versions of keys that change from being compacted away. If the journal
// is closed meanwhile, Scan returns ErrClosed at its next batch; if the
// store is reopened after a write fault, it continues with the next key
// from a view of the reopened store.
func (j *Journal) Scan(ctx context.Context, lo, hi []byte, fn func(k, v []byte) error) error {
	return j.readRange(ctx, lo, hi, true, fn)
}

func scan(ctx context.Context, r pebble.Reader, lo, hi []byte, fn func(k, v []byte) error) (err error) {
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	defer func() {
		if cerr := it.Close(); err == nil {
			err = cerr
		}
	}()
	for ok := it.First(); ok; ok = it.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		if err := fn(it.Key(), v); err != nil {
			return err
		}
	}
	return it.Error()
}

// groupReader is the ValidationReader of validation callbacks: the writes
// of the transactions sequenced before in the same group (the overlay),
// then the store, which holds the groups before (applied, perhaps not yet
// synced), and the marks as sequenced.
type groupReader struct {
	db      *pebble.DB
	overlay groupOverlay
	marks   *markTable
}

func (r groupReader) Get(key []byte) ([]byte, bool, error) {
	if w, ok := r.overlay[string(key)]; ok {
		if w.Delete {
			return nil, false, nil
		}
		return slices.Clone(w.Value), true, nil
	}
	return getCopy(r.db, key)
}

func (r groupReader) Mark(name []byte) uint64 { return r.marks.sequenced(name) }

// groupOverlay holds the latest write of each key by the transactions of a
// group so far; nil when no transaction of the group validates.
type groupOverlay map[string]Write

func (o groupOverlay) add(writes []Write) {
	if o == nil {
		return
	}
	for _, w := range writes {
		o[string(w.Key)] = w
	}
}

// Write applies the caller's own key/value changes outside any block, in
// one synced batch: the layers above use it for metadata that is not part
// of a ledger's history (the ledger catalog, tags). Keys must not start
// with 0x01.
func (j *Journal) Write(ctx context.Context, writes []Write) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for i, w := range writes {
		if len(w.Key) == 0 || w.Key[0] == keyPrefix {
			return fmt.Errorf("%w: write %d: keys must be non-empty and must not start with 0x01", ErrInvalidTransaction, i)
		}
	}
	err := j.syncedBatch(func(b *pebble.Batch) {
		for _, w := range writes {
			if w.Delete {
				_ = b.Delete(w.Key, nil)
			} else {
				_ = b.Set(w.Key, w.Value, nil)
			}
		}
	})
	if err != nil {
		return fmt.Errorf("journal: write: %w", err)
	}
	return nil
}

// syncedBatch applies the writes fill makes in one synced batch. After a
// fatal store error it reopens the store (the batch may or may not be
// durable) and returns the error.
func (j *Journal) syncedBatch(fill func(b *pebble.Batch)) error {
	db, gen, release, err := j.store()
	if err != nil {
		return err
	}
	b := db.NewBatch()
	fill(b)
	err, fatal := j.apply(db, b, pebble.Sync)
	if err == nil {
		// A failed sync is as fatal as a failed write: Pebble's log is
		// unusable after it.
		err = b.SyncWait()
		fatal = err != nil
	}
	_ = b.Close()
	release()
	if fatal {
		if rerr := j.recoverStore(gen); rerr != nil {
			return fmt.Errorf("%w (and %w)", err, rerr)
		}
	}
	return err
}

// DeleteRange removes every key in [lo, hi) of the caller's keyspace, synced.
func (j *Journal) DeleteRange(ctx context.Context, lo, hi []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(lo) == 0 || lo[0] == keyPrefix || len(hi) == 0 || hi[0] == keyPrefix {
		return fmt.Errorf("%w: DeleteRange is for the caller's keys, not the journal's", ErrInvalidTransaction)
	}
	if err := j.syncedBatch(func(b *pebble.Batch) { _ = b.DeleteRange(lo, hi, nil) }); err != nil {
		return fmt.Errorf("journal: delete range: %w", err)
	}
	return nil
}

// DeleteStrand removes a strand and all its blocks, nodes and index
// entries. Commits already queued on it are written first (and then
// removed); later ones fail with ErrStrandNotFound.
func (j *Journal) DeleteStrand(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	j.strandsMu.Lock()
	s, loaded := j.strands[id]
	delete(j.strands, id)
	j.strandsMu.Unlock()
	if loaded {
		s.stopCommits()
	}
	lo := append([]byte{keyPrefix}, id...)
	hi := append([]byte{keyPrefix}, id...)
	hi = append(hi, 0xFF)
	if err := j.syncedBatch(func(b *pebble.Batch) { _ = b.DeleteRange(lo, hi, nil) }); err != nil {
		return fmt.Errorf("journal: delete strand %s: %w", id, err)
	}
	return nil
}
