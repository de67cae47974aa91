package quill

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/quilldb/quill/internal/keyspace"
)

// The table catalog lives in Pebble (a record per table under its id, and a
// copy under its name while it is active) and, for the transactions that
// only use it, in memory.
//
// Catalog changes (CREATE, DROP and UNDROP TABLE, CREATE INDEX) are rare.
// A transaction that makes one holds the ledger's catalog lock exclusively
// from its first statement to the end of its commit; every other
// transaction holds it shared. So the catalog cannot change under a
// transaction that only reads it: such a transaction looks its tables up in
// memory, records no OCC read for them, and its commit validates nothing for
// them in the journal's sequencer. Before this, every insert read the
// table's name key from Pebble twice (once to run, once to validate), and
// those point reads of a key deep in the LSM were a tenth of the CPU.
//
// A transaction does not know it will change the catalog until it tries:
// the first catalog change attempted under the shared lock fails the
// attempt with errCatalogLock, and Execute runs the function again under
// the exclusive lock. Functions are already run again on OCC conflicts, so
// this asks nothing new of them.

// catalog is a ledger's table records in memory. It is never changed once
// built: a catalog change loads a new one from the store.
type catalog struct {
	byID   map[string]*tableRecord // every table, active and dropped
	byName map[string]*tableRecord // active tables
}

// errCatalogLock ends an attempt that tried to change the catalog under the
// shared catalog lock; Execute retries it under the exclusive lock.
var errCatalogLock = errors.New("quill: a catalog change needs the exclusive catalog lock")

// loadCatalog reads the table records from the store. The caller holds the
// catalog lock exclusively.
func (l *Ledger) loadCatalog(ctx context.Context) error {
	lo := dataPrefix(l.strand.ID(), kindTable)
	c := &catalog{byID: map[string]*tableRecord{}, byName: map[string]*tableRecord{}}
	err := l.db.j.Scan(ctx, lo, keyspace.End(lo), func(_, v []byte) error {
		t, err := decodeTable(v)
		if err != nil {
			return err
		}
		c.byID[t.ID] = t
		if t.Status == TableActive {
			c.byName[t.Name] = t
		}
		return nil
	})
	if err != nil {
		l.cat = nil // the next transaction loads it again
		return mapJournalErr(err)
	}
	l.cat = c
	return nil
}

// catalog returns the current catalog, outside a transaction.
func (l *Ledger) catalog(ctx context.Context) (*catalog, error) {
	l.catalogMu.RLock()
	c := l.cat
	l.catalogMu.RUnlock()
	if c != nil {
		return c, nil
	}
	l.catalogMu.Lock()
	defer l.catalogMu.Unlock()
	if l.cat == nil {
		if err := l.loadCatalog(ctx); err != nil {
			return nil, err
		}
	}
	return l.cat, nil
}

// sorted returns the catalog's records ordered by id, as a scan of the
// store would give them.
func (c *catalog) sorted() []*tableRecord {
	out := make([]*tableRecord, 0, len(c.byID))
	for _, t := range c.byID {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b *tableRecord) int { return strings.Compare(a.ID, b.ID) })
	return out
}
