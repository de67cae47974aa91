package quill

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/quilldb/quill/internal/keyspace"
	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/journal"
	"github.com/quilldb/quill/merkle"
)

// Table statuses.
const (
	TableActive   = "ACTIVE"
	TableInactive = "INACTIVE"
)

// TableInfo describes a table.
type TableInfo struct {
	ID      string
	Name    string
	Status  string   // ACTIVE or INACTIVE (dropped)
	Indexes []string // indexed top-level fields
	Arn     string   // set by Ledger.Tables
}

type tableRecord struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Status  string   `json:"status"`
	Indexes []string `json:"indexes,omitempty"`
	// TextIndexes are the indexes whose keys hash a symbol as the string
	// of its text, so that one index read finds a text as either (PartiQL
	// compares them by text). Indexes built before this existed hash the
	// exact value; lookups of text read them twice.
	TextIndexes []string `json:"textIndexes,omitempty"`
}

// indexKey is the hash an index entry of field is keyed by: v's, or for a
// symbol in a text index the string of its text's.
func (t *tableRecord) indexKey(field string, v ion.Value) [32]byte {
	if v.Type() == ion.SymbolType && !v.IsNull() && slices.Contains(t.TextIndexes, field) {
		text, _ := v.SymbolToken().Text()
		v = ion.String(text).WithAnnotations(v.Annotations()...)
	}
	return ion.Hash(v)
}

// Tx is one transaction. It is not safe for concurrent use; it must not be
// used after the function given to Execute returns.
type Tx struct {
	ctx    context.Context
	l      *Ledger
	strand string
	id     string
	start  time.Time

	statements []journal.StatementInfo
	docs       map[string]*journal.DocumentInfo // transactionInfo.documents, by id
	docOrder   []string

	// reads are what the transaction observed, for OCC: the SHA-256 of each
	// key's value, or absent.
	reads map[string]observed
	// marks are the stamps of the journal marks the transaction observed
	// (a table scanned, an indexed value looked up), for OCC; touched are
	// the marks its writes change (journal.Transaction.Marks).
	marks   map[string]uint64
	touched map[string]struct{}
	// overlay holds the transaction's writes, read back by its own reads.
	overlay map[string]overlayWrite
	pending map[string]*pendingDoc // documents written, by id
	order   []string               // pending documents in first-write order
	size    int

	// exclusive is set when the transaction holds the catalog lock
	// exclusively and may change the catalog (see catalog.go).
	exclusive bool
	// wantsCatalogLock is set when a catalog change was tried without it.
	wantsCatalogLock bool
	// catalogChanged is set when the transaction changes the catalog.
	catalogChanged bool
	// usedTables are the catalog records the transaction resolved from the
	// in-memory catalog, by name (nil: the name was not an active table);
	// usedAllTables is set when it listed them all. An interactive
	// Transaction uses them to tell whether a catalog change concerns it.
	usedTables    map[string]*tableRecord
	usedAllTables bool
	trackTables   bool // set by Ledger.Begin
}

type observed struct {
	hash   [32]byte
	absent bool
}

type overlayWrite struct {
	value  []byte
	delete bool
}

type pendingDoc struct {
	table   *tableRecord
	base    *Document // the committed view before the transaction, nil for an insert
	data    document
	deleted bool
}

// document is a document's data in the forms a transaction needs: the
// value, its Ion binary and its Ion hash, each computed once. A document
// given as Ion binary is hashed from its bytes (ion.HashBinaryStruct) and
// its value is parsed only if something reads it (an index, a read in the
// same transaction): an insert into a table without indexes never builds it.
type document struct {
	value  ion.Value
	parsed bool // value is set
	bin    []byte
	hash   merkle.Hash
}

// val returns the document's value, parsing its Ion binary the first time.
func (d *document) val() (ion.Value, error) {
	if !d.parsed {
		v, err := ion.Parse(d.bin)
		if err != nil {
			return ion.Value{}, fmt.Errorf("quill: a document accepted as Ion binary does not parse: %w", err)
		}
		d.value, d.parsed = v, true
	}
	return d.value, nil
}

func newTx(ctx context.Context, l *Ledger) *Tx {
	return &Tx{
		ctx: ctx, l: l, strand: l.strand.ID(), id: ion.NewID(), start: l.db.opts.Journal.Clock(),
		docs: map[string]*journal.DocumentInfo{}, overlay: map[string]overlayWrite{},
		pending: map[string]*pendingDoc{},
	}
}

// ID returns the transaction id the block will carry.
func (tx *Tx) ID() string { return tx.id }

// get reads a key through the transaction's own writes and records the
// observation for OCC.
func (tx *Tx) get(key []byte) ([]byte, bool, error) {
	if err := tx.ctx.Err(); err != nil {
		return nil, false, err
	}
	if w, ok := tx.overlay[string(key)]; ok {
		return w.value, !w.delete, nil
	}
	v, ok, err := tx.l.db.j.Get(key)
	if err != nil {
		return nil, false, mapJournalErr(err)
	}
	if _, seen := tx.reads[string(key)]; !seen {
		if tx.reads == nil {
			tx.reads = map[string]observed{} // most writers read nothing from the store
		}
		tx.reads[string(key)] = observe(v, ok)
	}
	return v, ok, nil
}

func observe(v []byte, ok bool) observed {
	if !ok {
		return observed{absent: true}
	}
	return observed{hash: sha256.Sum256(v)}
}

func (tx *Tx) put(key, value []byte) { tx.overlay[string(key)] = overlayWrite{value: value} }

func (tx *Tx) del(key []byte) { tx.overlay[string(key)] = overlayWrite{delete: true} }

// scan calls fn for each key in [lo, hi) as the transaction sees it: the
// store merged with its own writes. It records nothing for OCC; callers
// read the table's write counter instead.
func (tx *Tx) scan(lo, hi []byte, fn func(k, v []byte) error) error {
	seen := map[string]bool{}
	err := tx.l.db.j.Scan(tx.ctx, lo, hi, func(k, v []byte) error {
		seen[string(k)] = true
		if w, ok := tx.overlay[string(k)]; ok {
			if w.delete {
				return nil
			}
			v = w.value
		}
		return fn(k, v)
	})
	if err != nil {
		return mapJournalErr(err)
	}
	var extra []string
	for k, w := range tx.overlay {
		if !w.delete && !seen[k] && k >= string(lo) && k < string(hi) {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	for _, k := range extra {
		if err := fn([]byte(k), tx.overlay[k].value); err != nil {
			return err
		}
	}
	return nil
}

// addStatement records a statement in transactionInfo and checks its length.
func (tx *Tx) addStatement(text string, params ...merkle.Hash) (int, error) {
	if n := utf8.RuneCountInString(text); n > tx.l.db.opts.MaxStatementLength {
		return 0, invalidParam("Statement", "is %d characters, the limit is %d", n, tx.l.db.opts.MaxStatementLength)
	}
	st, err := journal.NewStatementInfo(text, tx.l.db.opts.Journal.Clock(), params...)
	if err != nil {
		return 0, invalidParam("Statement", "is not valid UTF-8")
	}
	tx.statements = append(tx.statements, st)
	return len(tx.statements) - 1, nil
}

func (tx *Tx) noteDocument(id string, t *tableRecord, stmt int) {
	info, ok := tx.docs[id]
	if !ok {
		info = &journal.DocumentInfo{ID: id, TableName: t.Name, TableID: t.ID}
		tx.docs[id] = info
		tx.docOrder = append(tx.docOrder, id)
	}
	info.Statements = append(info.Statements, stmt)
}

// changeCatalog is called by every catalog change before it does anything:
// it fails the attempt unless the transaction holds the catalog lock
// exclusively.
func (tx *Tx) changeCatalog() error {
	if !tx.exclusive {
		tx.wantsCatalogLock = true
		return errCatalogLock
	}
	tx.catalogChanged = true
	return nil
}

// table resolves an active table by name. Without the exclusive catalog
// lock the in-memory catalog answers, and no one can change it before the
// transaction commits. With it, the store does, through the transaction's
// own writes: the name key holds a copy of the table's record, so that the
// lookup is one read. Callers may change the record only under the
// exclusive lock.
func (tx *Tx) table(name string) (*tableRecord, error) {
	if !tx.exclusive {
		// An active table's name was validated when it was created: only
		// a name not in the catalog is checked, for the error to say why.
		t := tx.l.cat.byName[name]
		if t == nil {
			if err := validateTableName(name); err != nil {
				return nil, err
			}
		}
		if tx.trackTables {
			if tx.usedTables == nil {
				tx.usedTables = map[string]*tableRecord{}
			}
			tx.usedTables[name] = t
		}
		if t != nil {
			return t, nil
		}
		return nil, tx.noTable(name)
	}
	if err := validateTableName(name); err != nil {
		return nil, err
	}
	raw, ok, err := tx.get(tableNameKey(tx.strand, name))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, tx.noTable(name)
	}
	return decodeTable(raw)
}

func (tx *Tx) noTable(name string) error {
	return &Error{Code: CodeResourceNotFound, ResourceType: "TABLE", ResourceName: name,
		Message: "no active table with this name in ledger " + tx.l.name}
}

func decodeTable(raw []byte) (*tableRecord, error) {
	var t tableRecord
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, fmt.Errorf("quill: table catalog entry: %w", err)
	}
	return &t, nil
}

func (tx *Tx) tableByID(id string) (*tableRecord, error) {
	raw, ok, err := tx.get(tableKey(tx.strand, id))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &Error{Code: CodeResourceNotFound, ResourceType: "TABLE", ResourceName: id, Message: "no table with this id"}
	}
	return decodeTable(raw)
}

// putTable writes a table's record under its id and, while it is active,
// under its name.
func (tx *Tx) putTable(t *tableRecord) {
	raw, _ := json.Marshal(t)
	tx.put(tableKey(tx.strand, t.ID), raw)
	if t.Status == TableActive {
		tx.put(tableNameKey(tx.strand, t.Name), raw)
	}
}

// catalogKey is written by every table catalog change and read by those
// that count tables, so that concurrent creations cannot pass the limits
// together.
func catalogKey(strand string) []byte { return dataPrefix(strand, 'k') }

// tables lists every table record (active and dropped).
func (tx *Tx) tables() ([]*tableRecord, error) {
	if !tx.exclusive {
		tx.usedAllTables = true
		return tx.l.cat.sorted(), nil
	}
	if _, _, err := tx.get(catalogKey(tx.strand)); err != nil {
		return nil, err
	}
	lo := dataPrefix(tx.strand, kindTable)
	var out []*tableRecord
	err := tx.scan(lo, keyspace.End(lo), func(_, v []byte) error {
		var t tableRecord
		if err := json.Unmarshal(v, &t); err != nil {
			return err
		}
		out = append(out, &t)
		return nil
	})
	return out, err
}

// Tables lists the ledger's tables, active and dropped.
func (tx *Tx) Tables() ([]TableInfo, error) {
	recs, err := tx.tables()
	if err != nil {
		return nil, err
	}
	out := make([]TableInfo, len(recs))
	for i, t := range recs {
		out[i] = TableInfo{ID: t.ID, Name: t.Name, Status: t.Status, Indexes: slices.Clone(t.Indexes)}
	}
	slices.SortFunc(out, func(a, b TableInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func (tx *Tx) checkTableLimits(recs []*tableRecord, activating bool) error {
	active := 0
	for _, t := range recs {
		if t.Status == TableActive {
			active++
		}
	}
	o := &tx.l.db.opts
	switch {
	case active >= o.MaxActiveTables:
		return &Error{Code: CodeLimitExceeded, ResourceType: "TABLE", Message: fmt.Sprintf("at most %d active tables per ledger", o.MaxActiveTables)}
	case !activating && len(recs) >= o.MaxTables:
		return &Error{Code: CodeLimitExceeded, ResourceType: "TABLE", Message: fmt.Sprintf("at most %d tables per ledger, dropped ones included", o.MaxTables)}
	}
	return nil
}

// CreateTable creates a table and returns its id.
func (tx *Tx) CreateTable(name string) (string, error) {
	id, err := tx.createTable(name)
	if err != nil {
		return "", err
	}
	_, err = tx.addStatement("CREATE TABLE " + name)
	return id, err
}

func (tx *Tx) createTable(name string) (string, error) {
	if err := validateTableName(name); err != nil {
		return "", err
	}
	if err := tx.changeCatalog(); err != nil {
		return "", err
	}
	if _, ok, err := tx.get(tableNameKey(tx.strand, name)); err != nil {
		return "", err
	} else if ok {
		return "", &Error{Code: CodeResourceAlreadyExists, ResourceType: "TABLE", ResourceName: name, Message: "an active table has this name"}
	}
	recs, err := tx.tables()
	if err != nil {
		return "", err
	}
	if err := tx.checkTableLimits(recs, false); err != nil {
		return "", err
	}
	t := &tableRecord{ID: ion.NewID(), Name: name, Status: TableActive}
	tx.putTable(t)
	tx.put(catalogKey(tx.strand), []byte(tx.id))
	return t.ID, nil
}

// DropTable makes a table inactive. Its documents stay in the journal and
// its history stays readable; UndropTable brings it back.
func (tx *Tx) DropTable(name string) error {
	if _, err := tx.dropTable(name); err != nil {
		return err
	}
	_, err := tx.addStatement("DROP TABLE " + name)
	return err
}

func (tx *Tx) dropTable(name string) (string, error) {
	if err := tx.changeCatalog(); err != nil {
		return "", err
	}
	t, err := tx.table(name)
	if err != nil {
		return "", err
	}
	t.Status = TableInactive
	tx.putTable(t)
	tx.del(tableNameKey(tx.strand, name))
	tx.put(catalogKey(tx.strand), []byte(tx.id))
	tx.touchTable(t)
	return t.ID, nil
}

// UndropTable makes a dropped table active again, by id.
func (tx *Tx) UndropTable(tableID string) error {
	if err := tx.undropTable(tableID); err != nil {
		return err
	}
	_, err := tx.addStatement(fmt.Sprintf("UNDROP TABLE \"%s\"", tableID))
	return err
}

func (tx *Tx) undropTable(tableID string) error {
	if err := ion.ValidateID(tableID); err != nil {
		return invalidParam("TableId", "%v", err)
	}
	if err := tx.changeCatalog(); err != nil {
		return err
	}
	t, err := tx.tableByID(tableID)
	if err != nil {
		return err
	}
	if t.Status == TableActive {
		return &Error{Code: CodeResourceInUse, ResourceType: "TABLE", ResourceName: t.Name, Message: "the table is active"}
	}
	if _, ok, err := tx.get(tableNameKey(tx.strand, t.Name)); err != nil {
		return err
	} else if ok {
		return &Error{Code: CodeResourceAlreadyExists, ResourceType: "TABLE", ResourceName: t.Name, Message: "another active table has this name"}
	}
	recs, err := tx.tables()
	if err != nil {
		return err
	}
	if err := tx.checkTableLimits(recs, true); err != nil {
		return err
	}
	t.Status = TableActive
	tx.putTable(t)
	tx.put(catalogKey(tx.strand), []byte(tx.id))
	tx.touchTable(t)
	return nil
}

// CreateIndex indexes a top-level field of a table for equality lookups,
// building entries for the documents already in it.
func (tx *Tx) CreateIndex(table, field string) error {
	if _, err := tx.createIndex(table, field); err != nil {
		return err
	}
	_, err := tx.addStatement(fmt.Sprintf("CREATE INDEX ON %s (%s)", table, field))
	return err
}

func (tx *Tx) createIndex(table, field string) (string, error) {
	if err := tx.changeCatalog(); err != nil {
		return "", err
	}
	t, err := tx.table(table)
	if err != nil {
		return "", err
	}
	if err := validateFieldName(field); err != nil {
		return "", err
	}
	if slices.Contains(t.Indexes, field) {
		return "", &Error{Code: CodeResourceAlreadyExists, ResourceType: "INDEX", ResourceName: table + "." + field, Message: "the field is indexed"}
	}
	if len(t.Indexes) >= tx.l.db.opts.MaxIndexesPerTable {
		return "", &Error{Code: CodeLimitExceeded, ResourceType: "INDEX", Message: fmt.Sprintf("at most %d indexes per table", tx.l.db.opts.MaxIndexesPerTable)}
	}
	docs, err := tx.scanTable(t)
	if err != nil {
		return "", err
	}
	t.Indexes = append(t.Indexes, field)
	t.TextIndexes = append(t.TextIndexes, field)
	tx.putTable(t)
	for _, d := range docs {
		if v, ok := d.Data.Get(field); ok {
			tx.put(indexEntryKey(tx.strand, t.ID, field, t.indexKey(field, v), d.ID), nil)
		}
	}
	tx.touchTable(t)
	return t.ID, nil
}

// DropIndex removes a table's index, by the id information_schema shows
// (IndexID), with its entries.
func (tx *Tx) DropIndex(table, indexID string) error {
	if _, err := tx.dropIndex(table, indexID); err != nil {
		return err
	}
	_, err := tx.addStatement(fmt.Sprintf("DROP INDEX \"%s\" ON %s WITH (purge = true)", indexID, table))
	return err
}

func (tx *Tx) dropIndex(table, indexID string) (string, error) {
	if err := tx.changeCatalog(); err != nil {
		return "", err
	}
	t, err := tx.table(table)
	if err != nil {
		return "", err
	}
	i := slices.IndexFunc(t.Indexes, func(f string) bool { return IndexID(t.ID, f) == indexID })
	if i < 0 {
		return "", &Error{Code: CodeResourceNotFound, ResourceType: "INDEX", ResourceName: indexID, Message: "no index with this id on table " + table}
	}
	field := t.Indexes[i]
	t.Indexes = slices.Delete(slices.Clone(t.Indexes), i, i+1)
	t.TextIndexes = slices.DeleteFunc(slices.Clone(t.TextIndexes), func(f string) bool { return f == field })
	tx.putTable(t)
	lo := indexFieldPrefix(tx.strand, t.ID, field)
	if err := tx.scan(lo, keyspace.End(lo), func(k, _ []byte) error {
		tx.del(k)
		return nil
	}); err != nil {
		return "", err
	}
	tx.touchTable(t)
	return t.ID, nil
}

// IndexID is the id of the index on a table's field: derived from both, so
// that it is stable without being stored.
func IndexID(tableID, field string) string {
	h := sha256.Sum256([]byte(tableID + "\x00" + field))
	return ion.FormatID(binary.BigEndian.Uint64(h[:8]), binary.BigEndian.Uint64(h[8:16]))
}

func indexEntryKey(strand, tableID, field string, key [32]byte, docID string) []byte {
	return append(indexPrefix(strand, tableID, field, key), docID...)
}

// touchTable marks a table as written, so that scans of it in concurrent
// transactions conflict. Writers do not observe the mark, so they do not
// conflict with each other through it.
func (tx *Tx) touchTable(t *tableRecord) { tx.touch(tableMark(tx.strand, t.ID)) }

// touch records that the transaction changes a journal mark.
func (tx *Tx) touch(mark []byte) {
	if tx.touched == nil {
		tx.touched = map[string]struct{}{}
	}
	tx.touched[string(mark)] = struct{}{}
}

// observeMark records, before a read that a mark covers, the mark's stamp:
// the commit conflicts if a transaction sequenced before it changed the
// mark since.
func (tx *Tx) observeMark(mark []byte) {
	if _, seen := tx.marks[string(mark)]; seen {
		return
	}
	if tx.marks == nil {
		tx.marks = map[string]uint64{}
	}
	tx.marks[string(mark)] = tx.l.strand.Mark(mark)
}

// readDoc returns the committed view of a document as the transaction
// sees it.
func (tx *Tx) readDoc(t *tableRecord, id string) (*Document, error) {
	if p, ok := tx.pending[id]; ok {
		if p.deleted || p.table.ID != t.ID {
			return nil, nil
		}
		data, err := p.data.val()
		if err != nil {
			return nil, err
		}
		d := Document{ID: id, TxID: tx.id, TxTime: tx.start, Data: data}
		if p.base != nil {
			d.Version = p.base.Version + 1
		}
		return &d, nil
	}
	raw, ok, err := tx.get(docKey(tx.strand, t.ID, id))
	if err != nil || !ok {
		return nil, err
	}
	d, err := tx.l.decodeView(id, raw)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

func validateDocumentID(id string) error {
	if err := ion.ValidateID(id); err != nil {
		return invalidParam("DocumentId", "%v", err)
	}
	return nil
}

// Insert adds a document to a table and returns its new id. doc is an
// ion.Value, Ion text or binary, or a Go struct or map.
func (tx *Tx) Insert(table string, doc any) (string, error) {
	t, err := tx.table(table)
	if err != nil {
		return "", err
	}
	data, err := tx.document(doc)
	if err != nil {
		return "", err
	}
	stmt, err := tx.addStatement("INSERT INTO "+table+" ?", data.hash)
	if err != nil {
		return "", err
	}
	id := ion.NewTimeOrderedID(tx.start)
	if err := tx.write(t, id, nil, data, false); err != nil {
		return "", err
	}
	tx.noteDocument(id, t, stmt)
	return id, nil
}

// Update replaces a document's data. The document must exist in the table.
func (tx *Tx) Update(table, id string, doc any) error {
	return tx.change(table, id, doc, false)
}

// Delete deletes a document. The document must exist in the table.
func (tx *Tx) Delete(table, id string) error { return tx.change(table, id, nil, true) }

func (tx *Tx) change(table, id string, doc any, deleted bool) error {
	t, err := tx.table(table)
	if err != nil {
		return err
	}
	if err := validateDocumentID(id); err != nil {
		return err
	}
	var data document
	text := fmt.Sprintf("DELETE FROM %s AS d BY d_id WHERE d_id = ?", table)
	params := []merkle.Hash{merkle.Hash(ion.Hash(ion.String(id)))}
	if !deleted {
		if data, err = tx.document(doc); err != nil {
			return err
		}
		text = fmt.Sprintf("UPDATE %s AS d BY d_id SET d = ? WHERE d_id = ?", table)
		params = append([]merkle.Hash{data.hash}, params...)
	}
	if err := tx.changeDoc(t, id, data, deleted); err != nil {
		return err
	}
	stmt, err := tx.addStatement(text, params...)
	if err != nil {
		return err
	}
	tx.noteDocument(id, t, stmt)
	return nil
}

// changeDoc writes a new revision (or the deletion) of an existing
// document; the caller records the statement.
func (tx *Tx) changeDoc(t *tableRecord, id string, data document, deleted bool) error {
	cur, err := tx.readDoc(t, id)
	if err != nil {
		return err
	}
	if cur == nil {
		return &Error{Code: CodeResourceNotFound, ResourceType: "DOCUMENT", ResourceName: id, Message: "not in table " + t.Name}
	}
	base := cur
	if p, ok := tx.pending[id]; ok {
		base = p.base
	}
	return tx.write(t, id, base, data, deleted)
}

// document converts, size-checks and hashes a document. Its size is that
// of the Ion binary the caller gave, or of Quill's encoding of it.
func (tx *Tx) document(doc any) (document, error) {
	if b, ok := doc.([]byte); ok {
		if sum, ok := ion.HashBinaryStruct(b); ok {
			if len(b) > tx.l.db.opts.MaxDocumentSize {
				return document{}, invalidParam("Document", "is %d bytes of Ion binary, the limit is %d", len(b), tx.l.db.opts.MaxDocumentSize)
			}
			// A copy: the caller may reuse b once Insert returns.
			return document{bin: slices.Clone(b), hash: merkle.Hash(sum)}, nil
		}
	}
	v, bin, err := toDocument("Document", doc)
	if err != nil {
		return document{}, err
	}
	if bin == nil {
		bin = ion.AppendBinary(nil, v)
	}
	if len(bin) > tx.l.db.opts.MaxDocumentSize {
		return document{}, invalidParam("Document", "is %d bytes of Ion binary, the limit is %d", len(bin), tx.l.db.opts.MaxDocumentSize)
	}
	return document{value: v, parsed: true, bin: bin, hash: merkle.Hash(ion.Hash(v))}, nil
}

// write records a document's new state and its index changes.
func (tx *Tx) write(t *tableRecord, id string, base *Document, data document, deleted bool) error {
	prev, existed := tx.pending[id]
	if !existed && len(tx.pending) >= tx.l.db.opts.MaxDocumentsPerTransaction {
		return &Error{Code: CodeLimitExceeded, ResourceType: "DOCUMENT",
			Message: fmt.Sprintf("at most %d documents per transaction", tx.l.db.opts.MaxDocumentsPerTransaction)}
	}
	// Index entries: remove those of the state being replaced, add the new.
	old, now := ion.Value{}, ion.Value{}
	if len(t.Indexes) > 0 {
		var err error
		if existed && !prev.deleted {
			if old, err = prev.data.val(); err != nil {
				return err
			}
		} else if !existed && base != nil {
			old = base.Data
		}
		if !deleted {
			if now, err = data.val(); err != nil {
				return err
			}
		}
	}
	for _, field := range t.Indexes {
		var keyBefore, keyAfter [32]byte
		before, had := old.Get(field)
		if had {
			keyBefore = t.indexKey(field, before)
			tx.del(indexEntryKey(tx.strand, t.ID, field, keyBefore, id))
		}
		after, has := now.Get(field)
		has = has && !deleted
		if has {
			keyAfter = t.indexKey(field, after)
			tx.put(indexEntryKey(tx.strand, t.ID, field, keyAfter, id), nil)
		}
		// Lookups of a value conflict with the transactions that add or
		// remove entries of it (an unchanged key changes no entry).
		unchanged := had && has && keyBefore == keyAfter
		if had && !unchanged {
			tx.markIndexValue(t, field, keyBefore)
		}
		if has && !unchanged {
			tx.markIndexValue(t, field, keyAfter)
		}
	}
	if existed {
		tx.size -= len(prev.data.bin)
	} else {
		tx.order = append(tx.order, id)
	}
	tx.size += len(data.bin)
	if tx.size > tx.l.db.opts.MaxTransactionSize {
		return &Error{Code: CodeLimitExceeded, ResourceType: "TRANSACTION",
			Message: fmt.Sprintf("the transaction writes %d bytes, the limit is %d", tx.size, tx.l.db.opts.MaxTransactionSize)}
	}
	tx.pending[id] = &pendingDoc{table: t, base: base, data: data, deleted: deleted}
	if deleted {
		tx.del(docKey(tx.strand, t.ID, id))
	}
	tx.touchTable(t)
	return nil
}

// Get returns the committed view of a document, or found=false.
func (tx *Tx) Get(table, id string) (doc Document, found bool, err error) {
	t, err := tx.table(table)
	if err != nil {
		return Document{}, false, err
	}
	if err := validateDocumentID(id); err != nil {
		return Document{}, false, err
	}
	if _, err := tx.addStatement(fmt.Sprintf("SELECT * FROM %s AS d BY d_id WHERE d_id = ?", table),
		merkle.Hash(ion.Hash(ion.String(id)))); err != nil {
		return Document{}, false, err
	}
	d, err := tx.readDoc(t, id)
	if err != nil || d == nil {
		return Document{}, false, err
	}
	return *d, true, nil
}

// Scan returns every document of a table, by id.
func (tx *Tx) Scan(table string) ([]Document, error) {
	t, err := tx.table(table)
	if err != nil {
		return nil, err
	}
	if _, err := tx.addStatement("SELECT * FROM " + table); err != nil {
		return nil, err
	}
	return tx.scanTable(t)
}

func (tx *Tx) scanTable(t *tableRecord) ([]Document, error) {
	tx.observeMark(tableMark(tx.strand, t.ID))
	lo := append(dataPrefix(tx.strand, kindDoc), t.ID...)
	var out []Document
	err := tx.scan(lo, keyspace.End(lo), func(k, v []byte) error {
		id := string(k[len(lo):])
		if p, ok := tx.pending[id]; ok {
			if d, _ := tx.readDoc(t, id); d != nil && !p.deleted {
				out = append(out, *d)
			}
			return nil
		}
		d, err := tx.l.decodeView(id, v)
		if err != nil {
			return err
		}
		out = append(out, d)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Documents inserted by this transaction have no view key yet.
	for _, id := range tx.order {
		if p := tx.pending[id]; p.table.ID == t.ID && p.base == nil && !p.deleted {
			d, _ := tx.readDoc(t, id)
			out = append(out, *d)
		}
	}
	slices.SortFunc(out, func(a, b Document) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// Lookup returns the documents of a table whose top-level field equals
// value (the same Ion value). It uses the field's index if there is one and
// scans the table otherwise.
func (tx *Tx) Lookup(table, field string, value any) ([]Document, error) {
	t, err := tx.table(table)
	if err != nil {
		return nil, err
	}
	if err := validateFieldName(field); err != nil {
		return nil, err
	}
	v, err := toValue(value)
	if err != nil {
		return nil, err
	}
	if _, err := tx.addStatement(fmt.Sprintf("SELECT * FROM %s AS d WHERE d.%s = ?", table, field), merkle.Hash(ion.Hash(v))); err != nil {
		return nil, err
	}
	if !slices.Contains(t.Indexes, field) {
		docs, err := tx.scanTable(t)
		if err != nil {
			return nil, err
		}
		return slices.DeleteFunc(docs, func(d Document) bool {
			got, ok := d.Data.Get(field)
			return !ok || !ion.Equal(got, v)
		}), nil
	}
	return tx.indexLookup(t, field, v, func(got ion.Value) bool { return ion.Equal(got, v) })
}

// markIndexValue marks a change of the entries of one indexed value (by
// its index key).
func (tx *Tx) markIndexValue(t *tableRecord, field string, key [32]byte) {
	tx.touch(indexValueMark(tx.strand, t.ID, field, key))
}

// indexLookup reads the documents the index on field keys under v's key,
// and keeps those whose value match accepts (index keys are hashes, and a
// text index keys strings and symbols alike).
func (tx *Tx) indexLookup(t *tableRecord, field string, v ion.Value, match func(ion.Value) bool) ([]Document, error) {
	h := t.indexKey(field, v)
	// The value's mark, not the table's write counter: only a transaction
	// that adds or removes an entry of this value conflicts with the lookup
	// (a change to a document found is caught by the read of its view).
	tx.observeMark(indexValueMark(tx.strand, t.ID, field, h))
	lo := indexPrefix(tx.strand, t.ID, field, h)
	var out []Document
	err := tx.scan(lo, keyspace.End(lo), func(k, _ []byte) error {
		d, err := tx.readDoc(t, string(k[len(lo):]))
		if err != nil || d == nil {
			return err
		}
		if got, ok := d.Data.Get(field); ok && match(got) {
			out = append(out, *d)
		}
		return nil
	})
	return out, err
}

// toValue converts a lookup value: an ion.Value or any Go value ion-go can
// marshal.
func toValue(value any) (ion.Value, error) {
	if v, ok := value.(ion.Value); ok {
		return v, nil
	}
	wrapped, _, err := toDocument("Value", map[string]any{"v": value})
	if err != nil {
		return ion.Value{}, err
	}
	v, _ := wrapped.Get("v")
	return v, nil
}

// errConflict is what the validation callback returns; commit maps it.
var errConflict = errors.New("read set changed")

// commit writes the transaction's block, or, for a read-only transaction,
// checks that what it read is still current.
func (tx *Tx) commit() (Receipt, error) {
	rec := Receipt{TransactionID: tx.id}
	if err := tx.ctx.Err(); err != nil {
		return rec, err
	}
	if len(tx.overlay) == 0 && len(tx.order) == 0 && len(tx.touched) == 0 {
		err := tx.validate(tx.l.db.j, tx.l.strand.Mark)
		if errors.Is(err, errConflict) {
			return rec, fmt.Errorf("%w: transaction %s", ErrOCCConflict, tx.id)
		}
		return rec, mapJournalErr(err)
	}
	jtx := &journal.Transaction{ID: tx.id, Time: tx.start, TypedInfo: tx.info()}
	if len(tx.reads) > 0 || len(tx.marks) > 0 {
		// A blind write, an insert say, has nothing to validate.
		jtx.Validate = func(r journal.ValidationReader) error { return tx.validate(r, r.Mark) }
	}
	for m := range tx.touched {
		jtx.Marks = append(jtx.Marks, []byte(m))
	}
	jtx.Revisions = make([]journal.RevisionInput, 0, len(tx.order))
	for _, id := range tx.order {
		p := tx.pending[id]
		version := int64(0)
		if p.base != nil {
			version = p.base.Version + 1
		}
		r := journal.RevisionInput{DocumentID: id, Version: version, Deleted: p.deleted}
		if !p.deleted {
			// The journal needs the value only without the binary and
			// the hash, which a transaction always has.
			r.Data, r.DataHash, r.DataBinary = p.data.value, &p.data.hash, p.data.bin
		}
		jtx.Revisions = append(jtx.Revisions, r)
	}
	keys := make([]string, 0, len(tx.overlay))
	for k := range tx.overlay {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	jtx.Writes = make([]journal.Write, 0, len(keys))
	for _, k := range keys {
		w := tx.overlay[k]
		jtx.Writes = append(jtx.Writes, journal.Write{Key: []byte(k), Value: w.value, Delete: w.delete})
	}
	jtx.Complete = tx.complete
	jr, err := tx.l.strand.Commit(tx.ctx, jtx)
	switch {
	case errors.Is(err, errConflict):
		return rec, fmt.Errorf("%w: transaction %s", ErrOCCConflict, tx.id)
	case errors.Is(err, journal.ErrInvalidTransaction):
		return rec, invalidParam("Transaction", "%v", err)
	case errors.Is(err, journal.ErrStrandNotFound):
		return rec, &Error{Code: CodeResourceNotFound, ResourceType: "LEDGER", ResourceName: tx.l.name, Message: "the ledger was deleted"}
	case err != nil:
		return rec, mapJournalErr(err)
	}
	rec.Block = journal.Address{Strand: jr.Strand, SequenceNo: jr.SequenceNo}
	rec.Written = true
	return rec, nil
}

// validate checks, for OCC, that every key the transaction read still has
// the value it saw, and every mark it observed the stamp.
func (tx *Tx) validate(r journal.Reader, mark func([]byte) uint64) error {
	for m, stamp := range tx.marks {
		if mark([]byte(m)) != stamp {
			return errConflict
		}
	}
	for k, o := range tx.reads {
		v, ok, err := r.Get([]byte(k))
		if err != nil {
			return err
		}
		if observe(v, ok) != o {
			return errConflict
		}
	}
	return nil
}

// complete writes what depends on the block's address: committed views and
// history entries. A live document's latest revision is in its view only:
// the history gets a version when a later one replaces it (the revision
// the transaction read, with its address), and a delete, which leaves no
// view, at once. An insert writes one key.
func (tx *Tx) complete(seq uint64, hashes []merkle.Hash, data []journal.DataRef) []journal.Write {
	var out []journal.Write
	for i, id := range tx.order {
		p := tx.pending[id]
		d := Document{ID: id, Address: journal.Address{Strand: tx.strand, SequenceNo: seq},
			Hash: hashes[i], TxTime: tx.start, TxID: tx.id}
		if b := p.base; b != nil {
			d.Version = b.Version + 1
			out = append(out, historyWrite(tx.strand, p.table.ID, id, b.Version, b.Address.SequenceNo, b.TxTime))
		}
		if p.deleted {
			out = append(out, historyWrite(tx.strand, p.table.ID, id, d.Version, seq, tx.start))
			continue
		}
		var ref journal.DataRef
		if data != nil {
			ref = data[i]
		}
		out = append(out, journal.Write{Key: docKey(tx.strand, p.table.ID, id), Value: encodeView(&d, p.data.bin, ref)})
	}
	return out
}

// historyWrite is the history entry of one revision: its block and txTime.
func historyWrite(strand, tableID, docID string, version int64, seq uint64, txTime time.Time) journal.Write {
	h := binary.BigEndian.AppendUint64(make([]byte, 0, 16), seq)
	h = binary.BigEndian.AppendUint64(h, uint64(txTime.UnixMilli()))
	return journal.Write{Key: historyKey(strand, tableID, docID, version), Value: h}
}

// info is the block's transactionInfo.
func (tx *Tx) info() *journal.TransactionInfo {
	info := &journal.TransactionInfo{Statements: tx.statements}
	if len(tx.docOrder) > 0 {
		info.Documents = make([]journal.DocumentInfo, len(tx.docOrder))
		for i, id := range tx.docOrder {
			info.Documents[i] = *tx.docs[id]
		}
	}
	return info
}
