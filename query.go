package quill

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/quilldb/quill/internal/memo"
	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/journal"
	"github.com/quilldb/quill/merkle"
	"github.com/quilldb/quill/partiql"
)

// Query runs one PartiQL statement in the transaction (package partiql
// lists the subset) with its parameters and returns its rows. The
// statement is recorded in the block's transactionInfo with its text and
// its statement digest. A statement that fails changes nothing: its writes
// are undone and the transaction may go on.
//
// Inside Execute, a statement that changes the catalog (CREATE TABLE, ...)
// makes Execute run the function again under the catalog lock, like
// CreateTable does.
func (tx *Tx) Query(statement string, params ...ion.Value) (*partiql.Result, error) {
	parsed, err := parseStatement(statement)
	if err != nil {
		return nil, err
	}
	return tx.query(parsed, params)
}

func (tx *Tx) query(parsed *partiql.Parsed, params []ion.Value) (*partiql.Result, error) {
	if err := tx.ctx.Err(); err != nil {
		return nil, err
	}
	hashes := make([]merkle.Hash, len(params))
	for i, p := range params {
		hashes[i] = merkle.Hash(ion.Hash(p))
	}
	_, reads := parsed.Statement.(*partiql.Select)
	var save savepoint
	if !reads {
		save = tx.savepoint()
	}
	stmt, err := tx.addStatement(parsed.Text, hashes...)
	if err != nil {
		return nil, err
	}
	res, err := partiql.Execute(parsed, params, &txStore{tx: tx, stmt: stmt})
	if err != nil {
		if reads {
			tx.statements = tx.statements[:stmt]
		} else {
			tx.rollback(save)
		}
		return nil, err
	}
	return res, nil
}

// parsed statements are kept by text: applications run the same few
// statements with different parameters.
var parsedStatements = memo.New[*partiql.Parsed](1024)

func parseStatement(text string) (*partiql.Parsed, error) {
	return parsedStatements.Get(text, func() (*partiql.Parsed, error) { return partiql.Parse(text) })
}

// savepoint is what a statement may change in a transaction, so that a
// failed statement can be undone. Reads are not undone: an extra read only
// makes the OCC check stricter.
type savepoint struct {
	statements     int
	docs           map[string]*journal.DocumentInfo
	docOrder       int
	overlay        map[string]overlayWrite
	touched        map[string]struct{}
	pending        map[string]*pendingDoc
	order          int
	size           int
	catalogChanged bool
}

func (tx *Tx) savepoint() savepoint {
	docs := make(map[string]*journal.DocumentInfo, len(tx.docs))
	for id, d := range tx.docs {
		c := *d
		c.Statements = slices.Clone(d.Statements)
		docs[id] = &c
	}
	return savepoint{statements: len(tx.statements), docs: docs, docOrder: len(tx.docOrder),
		overlay: maps.Clone(tx.overlay), touched: maps.Clone(tx.touched), pending: maps.Clone(tx.pending), order: len(tx.order),
		size: tx.size, catalogChanged: tx.catalogChanged}
}

func (tx *Tx) rollback(s savepoint) {
	tx.statements = tx.statements[:s.statements]
	tx.docs, tx.docOrder = s.docs, tx.docOrder[:s.docOrder]
	tx.overlay, tx.touched, tx.pending, tx.order = s.overlay, s.touched, s.pending, tx.order[:s.order]
	tx.size, tx.catalogChanged = s.size, s.catalogChanged
}

// txStore is partiql.Store over a transaction, for one statement.
type txStore struct {
	tx   *Tx
	stmt int
}

func (s *txStore) Scan(table string, fn func(partiql.Document) error) error {
	t, err := s.tx.table(table)
	if err != nil {
		return err
	}
	docs, err := s.tx.scanTable(t)
	if err != nil {
		return err
	}
	for _, d := range docs {
		if err := fn(partiqlDoc(d)); err != nil {
			return err
		}
	}
	return nil
}

func partiqlDoc(d Document) partiql.Document {
	return partiql.Document{ID: d.ID, Data: d.Data, Committed: d.Committed}
}

// Lookup finds the documents whose field equals v through the index: a
// string or a symbol finds both a string and a symbol of its text (with
// the same annotations), as PartiQL's = compares them; anything else is
// found exactly.
func (s *txStore) Lookup(table, field string, v ion.Value, fn func(partiql.Document) error) (bool, error) {
	t, err := s.tx.table(table)
	if err != nil {
		return false, err
	}
	if !slices.Contains(t.Indexes, field) {
		return false, nil
	}
	keys := []ion.Value{v}
	match := func(got ion.Value) bool { return ion.Equal(got, v) }
	if text, ok := textOf(v); ok {
		match = func(got ion.Value) bool {
			g, ok := textOf(got)
			return ok && g == text && slices.Equal(got.Annotations(), v.Annotations())
		}
		if !slices.Contains(t.TextIndexes, field) {
			// An index from before text keys: strings and symbols have
			// different keys.
			keys = []ion.Value{ion.String(text).WithAnnotations(v.Annotations()...),
				ion.SymbolValue(ion.Sym(text)).WithAnnotations(v.Annotations()...)}
		}
	}
	for _, k := range keys {
		docs, err := s.tx.indexLookup(t, field, k, match)
		if err != nil {
			return true, err
		}
		for _, d := range docs {
			if err := fn(partiqlDoc(d)); err != nil {
				return true, err
			}
		}
	}
	return true, nil
}

// textOf returns the text of a non-null string or symbol.
func textOf(v ion.Value) (string, bool) {
	switch {
	case v.IsNull():
		return "", false
	case v.Type() == ion.StringType:
		return v.Text(), true
	case v.Type() == ion.SymbolType:
		return v.SymbolToken().Text()
	}
	return "", false
}

func (s *txStore) Get(table, id string) (partiql.Document, bool, error) {
	t, err := s.tx.table(table)
	if err != nil {
		return partiql.Document{}, false, err
	}
	if ion.ValidateID(id) != nil {
		return partiql.Document{}, false, nil // no document has such an id
	}
	d, err := s.tx.readDoc(t, id)
	if err != nil || d == nil {
		return partiql.Document{}, false, err
	}
	return partiqlDoc(*d), true, nil
}

func (s *txStore) History(q partiql.HistoryQuery, fn func(partiql.Document) error) error {
	recs, err := s.tx.tables()
	if err != nil {
		return err
	}
	tableID := ""
	for _, t := range recs {
		switch {
		case q.ByID && t.ID == q.Table:
			tableID = t.ID
		case !q.ByID && t.Name == q.Table && (tableID == "" || t.Status == TableActive):
			tableID = t.ID
		}
	}
	if tableID == "" {
		what := "name"
		if q.ByID {
			what = "id"
		}
		return &Error{Code: CodeResourceNotFound, ResourceType: "TABLE", ResourceName: q.Table, Message: "no table with this " + what + " in ledger " + s.tx.l.name}
	}
	if q.DocumentID != "" && ion.ValidateID(q.DocumentID) != nil {
		return nil
	}
	end := q.End
	if !end.IsZero() {
		end = end.Add(time.Millisecond) // history's end is inclusive; txTime has millisecond precision
	}
	return s.tx.l.scanTableHistory(s.tx.ctx, tableID, q.DocumentID, q.Start, end, func(d Document) error {
		return fn(partiqlDoc(d))
	})
}

func (s *txStore) UserTables() ([]ion.Value, error) {
	infos, err := s.tx.Tables()
	if err != nil {
		return nil, err
	}
	rows := make([]ion.Value, 0, len(infos))
	for _, t := range infos {
		indexes := make([]ion.Value, 0, len(t.Indexes))
		for _, f := range t.Indexes {
			indexes = append(indexes, ion.Struct(
				ion.F("indexId", ion.String(IndexID(t.ID, f))),
				ion.F("expr", ion.String("["+f+"]")),
				ion.F("status", ion.String("ONLINE"))))
		}
		rows = append(rows, ion.Struct(
			ion.F("tableId", ion.String(t.ID)),
			ion.F("name", ion.String(t.Name)),
			ion.F("indexes", ion.List(indexes...)),
			ion.F("status", ion.String(t.Status))))
	}
	return rows, nil
}

func (s *txStore) Insert(table string, data ion.Value) (string, error) {
	t, err := s.tx.table(table)
	if err != nil {
		return "", err
	}
	doc, err := s.tx.document(data)
	if err != nil {
		return "", err
	}
	id := ion.NewTimeOrderedID(s.tx.start)
	if err := s.tx.write(t, id, nil, doc, false); err != nil {
		return "", err
	}
	s.tx.noteDocument(id, t, s.stmt)
	return id, nil
}

func (s *txStore) Update(table, id string, data ion.Value) error {
	t, err := s.tx.table(table)
	if err != nil {
		return err
	}
	doc, err := s.tx.document(data)
	if err != nil {
		return err
	}
	if err := s.tx.changeDoc(t, id, doc, false); err != nil {
		return err
	}
	s.tx.noteDocument(id, t, s.stmt)
	return nil
}

func (s *txStore) Delete(table, id string) error {
	t, err := s.tx.table(table)
	if err != nil {
		return err
	}
	if err := s.tx.changeDoc(t, id, document{}, true); err != nil {
		return err
	}
	s.tx.noteDocument(id, t, s.stmt)
	return nil
}

func (s *txStore) CreateTable(name string) (string, error) { return s.tx.createTable(name) }
func (s *txStore) DropTable(name string) (string, error)   { return s.tx.dropTable(name) }
func (s *txStore) UndropTable(tableID string) error        { return s.tx.undropTable(tableID) }
func (s *txStore) CreateIndex(table, field string) (string, error) {
	return s.tx.createIndex(table, field)
}
func (s *txStore) DropIndex(table, indexID string) (string, error) {
	return s.tx.dropIndex(table, indexID)
}
func (s *txStore) Now() time.Time { return s.tx.l.db.opts.Journal.Clock() }

// Transaction is an interactive transaction: statements arrive one at a
// time (from a QLDB session, a shell) and the caller decides when to
// commit. Unlike Execute it never runs anything again: an OCC conflict
// fails Commit (or the statement that finds the catalog changed) and the
// caller starts over, as QLDB's drivers do.
//
// It holds no lock between calls. A transaction that only uses the catalog
// checks at each statement and at commit that no catalog change has
// committed since it began; one that changes the catalog reads the
// catalog through the store (recorded for OCC) and takes the catalog lock
// exclusively only to commit. A Transaction is safe for use by one
// goroutine at a time.
type Transaction struct {
	l        *Ledger
	tx       *Tx
	cat      *catalog // the catalog the transaction began with
	deadline time.Time
	done     bool
	mu       sync.Mutex
}

// Begin starts an interactive transaction. It expires
// Options.TransactionTimeout after Begin.
func (l *Ledger) Begin(ctx context.Context) (*Transaction, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	cat, err := l.catalog(ctx)
	if err != nil {
		return nil, err
	}
	tx := newTx(ctx, l)
	tx.trackTables = true
	return &Transaction{l: l, tx: tx, cat: cat, deadline: tx.start.Add(l.db.opts.TransactionTimeout)}, nil
}

// ID returns the transaction id its block will carry.
func (t *Transaction) ID() string { return t.tx.id }

// Deadline returns when the transaction expires.
func (t *Transaction) Deadline() time.Time { return t.deadline }

// Expired reports whether the transaction has run past its deadline (by
// the DB's clock, the one Begin measured it with).
func (t *Transaction) Expired() bool { return !t.l.db.opts.Journal.Clock().Before(t.deadline) }

func (t *Transaction) usable() error {
	switch {
	case t.done:
		return ErrTransactionClosed
	case t.Expired():
		t.done = true
		return fmt.Errorf("%w: transaction %s ran for more than %v", ErrTransactionExpired, t.tx.id, t.l.db.opts.TransactionTimeout)
	}
	return t.l.check()
}

// catalogStillValid is called under the catalog lock when the catalog has
// changed since the transaction last looked: the change concerns the
// transaction only if a table it resolved (or found missing) is not the
// same now, or if it listed the tables. If not, it moves on to the new
// catalog; so a CREATE TABLE does not fail every transaction in flight.
func (t *Transaction) catalogStillValid() bool {
	cur := t.l.cat
	if cur == t.cat {
		return true
	}
	if cur == nil || t.tx.usedAllTables {
		return false
	}
	for name, was := range t.tx.usedTables {
		now := cur.byName[name]
		if (was == nil) != (now == nil) || was != nil && !sameTable(was, now) {
			return false
		}
	}
	t.cat = cur
	return true
}

func sameTable(a, b *tableRecord) bool {
	return a.ID == b.ID && a.Name == b.Name && a.Status == b.Status &&
		slices.Equal(a.Indexes, b.Indexes) && slices.Equal(a.TextIndexes, b.TextIndexes)
}

// errCatalogChanged is the OCC conflict of a transaction that began before
// a catalog change committed.
func (t *Transaction) errCatalogChanged() error {
	return fmt.Errorf("%w: transaction %s: the table catalog changed since it began", ErrOCCConflict, t.tx.id)
}

// Execute runs one PartiQL statement (see Tx.Query).
func (t *Transaction) Execute(ctx context.Context, statement string, params ...ion.Value) (*partiql.Result, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.usable(); err != nil {
		return nil, err
	}
	parsed, err := parseStatement(statement)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithDeadline(ctx, t.deadline)
	defer cancel()
	t.tx.ctx = ctx
	if !t.tx.exclusive {
		res, err := t.sharedStatement(parsed, params)
		if !errors.Is(err, errCatalogLock) {
			return res, err
		}
		if err := t.upgrade(); err != nil {
			return nil, err
		}
	}
	return t.tx.query(parsed, params)
}

// sharedStatement runs a statement while the transaction uses the
// in-memory catalog, under the shared catalog lock.
func (t *Transaction) sharedStatement(parsed *partiql.Parsed, params []ion.Value) (*partiql.Result, error) {
	t.l.catalogMu.RLock()
	defer t.l.catalogMu.RUnlock()
	if !t.catalogStillValid() {
		t.done = true
		return nil, t.errCatalogChanged()
	}
	res, err := t.tx.query(parsed, params)
	if t.tx.wantsCatalogLock {
		t.tx.wantsCatalogLock = false
		return nil, errCatalogLock
	}
	return res, err
}

// upgrade switches the transaction to reading the catalog from the store:
// from now on its table reads are recorded for OCC, and the read of the
// catalog key makes any later catalog change conflict with it.
func (t *Transaction) upgrade() error {
	t.l.catalogMu.Lock()
	defer t.l.catalogMu.Unlock()
	if !t.catalogStillValid() {
		t.done = true
		return t.errCatalogChanged()
	}
	t.tx.exclusive = true
	_, _, err := t.tx.get(catalogKey(t.tx.strand))
	return err
}

// Commit commits the transaction: it writes its block, or, when it only
// read, checks that what it read is still current. It fails with an error
// wrapping ErrOCCConflict when another transaction changed what it read.
// The transaction is over afterwards, whatever the outcome.
func (t *Transaction) Commit(ctx context.Context) (Receipt, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.usable(); err != nil {
		return Receipt{TransactionID: t.tx.id}, err
	}
	t.done = true
	ctx, cancel := context.WithDeadline(ctx, t.deadline)
	defer cancel()
	t.tx.ctx = ctx
	if t.tx.exclusive {
		t.l.catalogMu.Lock()
		defer t.l.catalogMu.Unlock()
	} else {
		t.l.catalogMu.RLock()
		defer t.l.catalogMu.RUnlock()
	}
	if !t.catalogStillValid() {
		return Receipt{TransactionID: t.tx.id}, t.errCatalogChanged()
	}
	rec, err := t.tx.commit()
	if t.tx.catalogChanged {
		_ = t.l.loadCatalog(context.WithoutCancel(ctx)) // as in attempt: the next transaction loads it if this fails
	}
	if errors.Is(err, context.DeadlineExceeded) && t.Expired() {
		err = fmt.Errorf("%w: transaction %s", ErrTransactionExpired, t.tx.id)
	}
	return rec, err
}

// Abort ends the transaction without writing anything.
func (t *Transaction) Abort() {
	t.mu.Lock()
	t.done = true
	t.mu.Unlock()
}
