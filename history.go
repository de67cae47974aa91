package quill

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"runtime"
	"sync"
	"time"

	"github.com/quilldb/quill/internal/keyspace"
	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/journal"
)

// History returns the revisions of a table's documents (of one document if
// documentID is not empty) whose txTime is in [start, end), deletions
// included, ordered by document id and version. A zero end means no upper
// bound. Dropped tables keep their history. For long histories use
// ScanHistory, which streams.
func (l *Ledger) History(ctx context.Context, table, documentID string, start, end time.Time) ([]Document, error) {
	var out []Document
	err := l.ScanHistory(ctx, table, documentID, start, end, func(d Document) error {
		out = append(out, d)
		return nil
	})
	return out, err
}

// historyBatch is how many history entries ScanHistory resolves at once:
// each block they point to is read and verified once per batch.
const historyBatch = 256

// ScanHistory calls fn with each revision History would return, in the
// same order, without holding the history in memory. fn runs without any
// lock of the store held and may block; it must not keep the Document's
// Data beyond the call if it modifies it.
func (l *Ledger) ScanHistory(ctx context.Context, table, documentID string, start, end time.Time, fn func(Document) error) error {
	if err := l.check(); err != nil {
		return err
	}
	if err := validateTableName(table); err != nil {
		return err
	}
	if documentID != "" {
		if err := validateDocumentID(documentID); err != nil {
			return err
		}
	}
	tableID, err := l.tableIDByName(ctx, table)
	if err != nil {
		return err
	}
	return l.scanTableHistory(ctx, tableID, documentID, start, end, fn)
}

// scanTableHistory is ScanHistory of a table given by id. It takes no
// catalog lock, so a transaction's statements may call it.
func (l *Ledger) scanTableHistory(ctx context.Context, tableID, documentID string, start, end time.Time, fn func(Document) error) error {
	pending := make([]historyEntry, 0, historyBatch)
	err := l.revisionEntries(ctx, tableID, documentID, func(e historyEntry) error {
		if e.txTime.Before(start) || (!end.IsZero() && !e.txTime.Before(end)) {
			return nil
		}
		pending = append(pending, e)
		if len(pending) < historyBatch {
			return nil
		}
		err := l.resolveHistory(ctx, pending, fn)
		pending = pending[:0]
		return err
	})
	if err == nil {
		err = l.resolveHistory(ctx, pending, fn)
	}
	return mapJournalErr(err)
}

// revisionEntries calls fn with every revision of a table's documents (of
// one document if documentID is set), in document id and version order.
// The history keys hold every revision but a live document's latest, which
// its committed view holds: a commit writes a history key for a version
// only when a later one replaces it, so an insert writes none (stores
// written before 2026-12 have one for the latest version too, which is
// then read once).
//
// The views are read first, from a snapshot taken before the history's:
// a document changed in between then has its old latest version in both
// (read once) and maybe newer ones in the history, never a gap. Revisions
// in blocks not yet durable when the read starts are left out: a group's
// views and history keys are in the store from its apply, before its log
// sync ends and its blocks can be read; the history then still has the
// version such a revision replaces.
func (l *Ledger) revisionEntries(ctx context.Context, tableID, documentID string, fn func(historyEntry) error) error {
	durable := l.strand.Size()
	views, stop := iter.Pull2(func(yield func(historyEntry, error) bool) {
		for e, err := range l.viewEntries(ctx, tableID, documentID) {
			if err == nil && e.seq >= durable {
				continue
			}
			if !yield(e, err) {
				return
			}
		}
	})
	defer stop()
	view, err, more := views()
	if err != nil {
		return err
	}
	// emitViewsBefore passes on the live versions of documents before id.
	emitViewsBefore := func(id string) error {
		for more && (id == "" || view.docID < id) {
			if err := fn(view); err != nil {
				return err
			}
			if view, err, more = views(); err != nil {
				return err
			}
		}
		return nil
	}
	histLo := append(append(dataPrefix(l.strand.ID(), kindHistory), tableID...), documentID...)
	err = l.db.j.Scan(ctx, histLo, keyspace.End(histLo), func(k, v []byte) error {
		e := decodeHistoryEntry(k, v)
		if e.seq >= durable {
			return nil
		}
		if err := emitViewsBefore(e.docID); err != nil {
			return err
		}
		if more && view.docID == e.docID && view.version <= e.version {
			// The history holds the view's version too (an older store,
			// or a change after the views were read): the view goes.
			if view, err, more = views(); err != nil {
				return err
			}
		}
		return fn(e)
	})
	if err != nil {
		return err
	}
	return emitViewsBefore("")
}

// viewEntries yields the live versions of a table's documents (of one
// document if documentID is set: a point read) from their committed views,
// in document id order, then an error if reading failed.
func (l *Ledger) viewEntries(ctx context.Context, tableID, documentID string) iter.Seq2[historyEntry, error] {
	entry := func(docID string, v []byte) (historyEntry, error) {
		d, err := l.decodeViewHeader(docID, v)
		return historyEntry{docID: docID, version: d.Version, seq: d.Address.SequenceNo, txTime: d.TxTime}, err
	}
	if documentID != "" {
		return func(yield func(historyEntry, error) bool) {
			v, ok, err := l.db.j.Get(docKey(l.strand.ID(), tableID, documentID))
			if err == nil && !ok {
				return
			}
			if err == nil {
				e, err := entry(documentID, v)
				yield(e, err)
				return
			}
			yield(historyEntry{}, err)
		}
	}
	lo := append(dataPrefix(l.strand.ID(), kindDoc), tableID...)
	return func(yield func(historyEntry, error) bool) {
		err := l.db.j.Scan(ctx, lo, keyspace.End(lo), func(k, v []byte) error {
			e, err := entry(string(k[len(lo):]), v)
			if err != nil {
				return err
			}
			if !yield(e, nil) {
				return errStopScan
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStopScan) {
			yield(historyEntry{}, err)
		}
	}
}

// errStopScan ends a Scan whose reader stopped early.
var errStopScan = errors.New("scan stopped")

// historyEntry is one history key: a document's version and the block that
// holds it.
type historyEntry struct {
	docID   string
	version int64
	seq     uint64
	txTime  time.Time
}

// decodeHistoryEntry reads a history key (... docID(22) version(8)) and
// its value (seq(8) txTime millis(8)).
func decodeHistoryEntry(k, v []byte) historyEntry {
	return historyEntry{
		docID:   string(k[len(k)-8-ion.IDLength : len(k)-8]),
		version: int64(binary.BigEndian.Uint64(k[len(k)-8:])),
		seq:     binary.BigEndian.Uint64(v),
		txTime:  time.UnixMilli(int64(binary.BigEndian.Uint64(v[8:]))).UTC(),
	}
}

// resolveHistory reads the revisions of entries, each block once, and
// calls fn with them in the entries' order.
func (l *Ledger) resolveHistory(ctx context.Context, entries []historyEntry, fn func(Document) error) error {
	// Each block is read and verified once, on a worker per core: that is
	// most of the work of a history read or a table export.
	var seqs []uint64
	blocks := make(map[uint64]*journal.Block, len(entries))
	for _, e := range entries {
		if _, ok := blocks[e.seq]; !ok {
			blocks[e.seq] = nil
			seqs = append(seqs, e.seq)
		}
	}
	read := make([]*journal.Block, len(seqs))
	errs := make([]error, len(seqs))
	workers := min(runtime.GOMAXPROCS(0), len(seqs))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(seqs); i += workers {
				read[i], errs[i] = l.strand.Block(ctx, seqs[i])
			}
		})
	}
	wg.Wait()
	for i, seq := range seqs {
		if errs[i] != nil {
			return errs[i]
		}
		blocks[seq] = read[i]
	}
	for _, e := range entries {
		rev, _, ok := blocks[e.seq].Revision(e.docID)
		if !ok {
			return &journal.CorruptionError{Strand: l.strand.ID(), SequenceNo: int64(e.seq),
				Problem: fmt.Sprintf("the history points to a revision of %s that the block does not hold", e.docID)}
		}
		if err := fn(documentOf(rev)); err != nil {
			return err
		}
	}
	return nil
}

// documentOf is a revision as a Document.
func documentOf(rev journal.Revision) Document {
	return Document{ID: rev.Metadata.ID, Version: rev.Metadata.Version, Address: rev.Address,
		Hash: rev.Hash, TxTime: rev.Metadata.TxTime, TxID: rev.Metadata.TxID,
		Data: rev.Data, Deleted: rev.Deleted()}
}

// tableIDByName finds a table, active or dropped, by name (the active one
// if there are several).
func (l *Ledger) tableIDByName(ctx context.Context, name string) (string, error) {
	c, err := l.catalog(ctx)
	if err != nil {
		return "", err
	}
	if t, ok := c.byName[name]; ok {
		return t.ID, nil
	}
	var found string
	for _, t := range c.sorted() {
		if t.Name == name {
			found = t.ID
		}
	}
	if found == "" {
		return "", &Error{Code: CodeResourceNotFound, ResourceType: "TABLE", ResourceName: name, Message: "no table with this name in ledger " + l.name}
	}
	return found, nil
}
