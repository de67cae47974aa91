package quill

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/quilldb/quill/journal"
	"github.com/quilldb/quill/merkle"
)

// History returns the revisions of a table's documents (of one document if
// documentID is not empty) whose txTime is in [start, end), deletions
// included, ordered by document id and version. A zero end means no upper
// bound. Dropped tables keep their history.
func (l *Ledger) History(ctx context.Context, table, documentID string, start, end time.Time) ([]Document, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	if err := validateTableName(table); err != nil {
		return nil, err
	}
	if documentID != "" {
		if err := validateDocumentID(documentID); err != nil {
			return nil, err
		}
	}
	tableID, err := l.tableIDByName(ctx, table)
	if err != nil {
		return nil, err
	}
	strand := l.strand.ID()
	lo := append(append(dataPrefix(strand, kindHistory), tableID...), documentID...)
	var out []Document
	err = l.db.j.Scan(ctx, lo, prefixEnd(lo), func(k, v []byte) error {
		millis := int64(binary.BigEndian.Uint64(v[8:]))
		t := time.UnixMilli(millis).UTC()
		if t.Before(start) || (!end.IsZero() && !t.Before(end)) {
			return nil
		}
		docID := string(k[len(k)-8-22 : len(k)-8])
		seq := binary.BigEndian.Uint64(v)
		rev, err := l.strand.Revision(ctx, seq, docID)
		if err != nil {
			return err
		}
		d := Document{ID: docID, Address: journal.Address{Strand: strand, SequenceNo: seq},
			Version: int64(binary.BigEndian.Uint64(k[len(k)-8:])), TxTime: t}
		h, _ := rev.Get("hash")
		d.Hash = merkle.Hash(h.Bytes())
		meta, _ := rev.Get("metadata")
		txID, _ := meta.Get("txId")
		d.TxID = txID.Text()
		if data, ok := rev.Get("data"); ok {
			d.Data = data
		} else {
			d.Deleted = true
		}
		out = append(out, d)
		return nil
	})
	return out, mapJournalErr(err)
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
		return "", &ResourceNotFoundError{ResourceType: "TABLE", ResourceName: name, Message: "no table with this name in ledger " + l.name}
	}
	return found, nil
}
