package partiql

import (
	"fmt"
	"time"

	"github.com/quilldb/quill/ion"
)

// Document is a document as a Store hands it to the executor.
type Document struct {
	ID   string
	Data ion.Value // the user view; absent for a deleting revision in history
	// Committed returns the committed view {blockAddress, hash, data,
	// metadata}; it is called only when a query needs it.
	Committed func() ion.Value
}

// HistoryQuery selects revisions for history(): of a table given by name,
// or by id when ByID, optionally of one document, committed from Start to
// End inclusive (zero times mean unbounded).
type HistoryQuery struct {
	Table      string
	ByID       bool
	DocumentID string
	Start, End time.Time
}

// Store is what statements read and write: the root package implements it
// over a transaction. Each method fails with an error that names what is
// wrong (a missing table, a limit); the executor passes it through.
type Store interface {
	// Scan calls fn with every document of an active table.
	Scan(table string, fn func(Document) error) error
	// Lookup calls fn with the documents whose top-level field equals v
	// through an index: for a string or a symbol, every string or symbol
	// of its text (with the same annotations); otherwise exactly v (the
	// same Ion value). indexed is false, and fn is not called, when the
	// field has no index.
	Lookup(table, field string, v ion.Value, fn func(Document) error) (indexed bool, err error)
	// Get returns a document of an active table by id.
	Get(table, id string) (Document, bool, error)
	// History calls fn with each committed revision the query selects; the
	// document's Committed view carries its metadata.
	History(q HistoryQuery, fn func(Document) error) error
	// UserTables returns information_schema.user_tables' rows.
	UserTables() ([]ion.Value, error)

	Insert(table string, data ion.Value) (id string, err error)
	Update(table, id string, data ion.Value) error
	Delete(table, id string) error

	CreateTable(name string) (tableID string, err error)
	DropTable(name string) (tableID string, err error)
	UndropTable(tableID string) error
	CreateIndex(table, field string) (tableID string, err error)
	DropIndex(table, indexID string) (tableID string, err error)

	// Now is the time UTCNOW() returns.
	Now() time.Time
}

// Stats counts what a statement did, for QLDB's ConsumedIOs and for tests
// that check access paths.
type Stats struct {
	DocumentsRead    int64
	DocumentsWritten int64
	IndexLookups     int64 // index reads (Lookup answered by an index)
	IDLookups        int64 // reads by document id (BY)
	TableScans       int64
}

// Result is what a statement returns: its rows, as QLDB returns them.
type Result struct {
	Values []ion.Value
	Stats  Stats
}

// Execute runs a parsed statement with its parameters against a store.
func Execute(p *Parsed, params []ion.Value, s Store) (*Result, error) {
	if len(params) != p.Params {
		return nil, errorf("the statement has %d parameter(s) (?) and %d value(s) were given", p.Params, len(params))
	}
	x := &executor{params: params, store: s, src: p.Text}
	vals, err := x.statement(p.Statement)
	if err != nil {
		return nil, err
	}
	return &Result{Values: vals, Stats: x.stats}, nil
}

type executor struct {
	params []ion.Value
	store  Store
	stats  Stats
	src    string
}

func (x *executor) statement(st Statement) ([]ion.Value, error) {
	tableID := func(id string, err error) ([]ion.Value, error) {
		if err != nil {
			return nil, err
		}
		return []ion.Value{ion.Struct(ion.F("tableId", ion.String(id)))}, nil
	}
	switch st := st.(type) {
	case *CreateTable:
		return tableID(x.store.CreateTable(st.Name))
	case *DropTable:
		return tableID(x.store.DropTable(st.Name))
	case *UndropTable:
		return tableID(st.TableID, x.store.UndropTable(st.TableID))
	case *CreateIndex:
		return tableID(x.store.CreateIndex(st.Table, st.Field))
	case *DropIndex:
		return tableID(x.store.DropIndex(st.Table, st.IndexID))
	case *Insert:
		return x.insert(st)
	case *Select:
		return x.query(st, nil)
	case *Update:
		return x.update(st)
	case *Delete:
		return x.delete(st)
	}
	return nil, errorf("unsupported statement %T", st)
}

// Environments.

type binding struct {
	name string
	v    value
}

// env is one scope of variables. items are the values of its FROM items
// under their aliases, in order: SELECT * merges them, and unqualified
// names resolve to their fields.
type env struct {
	parent *env
	vars   []binding
	items  []binding
	group  []*env // the rows of an aggregate query
}

func (e *env) lookup(name string) (value, bool) {
	for s := e; s != nil; s = s.parent {
		for i := len(s.vars) - 1; i >= 0; i-- {
			if s.vars[i].name == name {
				return s.vars[i].v, true
			}
		}
	}
	return missing, false
}

func (e *env) bound(name string) bool {
	_, ok := e.lookup(name)
	return ok
}

// resolve is an identifier's value: a variable, else a field of the
// innermost FROM value that has one, else MISSING.
func (e *env) resolve(name string) value {
	if v, ok := e.lookup(name); ok {
		return v
	}
	for s := e; s != nil; s = s.parent {
		for _, b := range s.items {
			if !b.v.missing && b.v.Type() == ion.StructType {
				if f, ok := b.v.Get(name); ok {
					return some(f)
				}
			}
		}
	}
	return missing
}

// bind returns a copy of e with a FROM item's variables added.
func (e *env) bind(alias string, v value, extra ...binding) *env {
	n := &env{parent: e.parent}
	n.vars = append(append(append(n.vars, e.vars...), binding{alias, v}), extra...)
	n.items = append(append(n.items, e.items...), binding{alias, v})
	return n
}

// Queries.

func (x *executor) query(q *Select, outer *env) ([]ion.Value, error) {
	aggregate := q.Value != nil && hasAggregate(q.Value)
	for _, it := range q.Items {
		aggregate = aggregate || hasAggregate(it.Expr)
	}
	if aggregate {
		if err := checkAggregateRefs(q); err != nil {
			return nil, err
		}
	}
	var out []ion.Value
	var rows []*env
	scope := &env{parent: outer}
	err := x.bindFrom(q.From, 0, scope, conjuncts(q.Where), func(e *env) error {
		if q.Where != nil {
			v, err := x.eval(q.Where, e)
			if err != nil {
				return err
			}
			if truthValue(v) != isTrue {
				return nil
			}
		}
		if aggregate {
			rows = append(rows, e)
			return nil
		}
		row, ok, err := x.project(q, e)
		if err != nil || !ok {
			return err
		}
		out = append(out, row)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if aggregate {
		g := &env{parent: outer, group: rows}
		if rows == nil {
			g.group = []*env{}
		}
		row, ok, err := x.project(q, g)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, row)
		}
	}
	return out, nil
}

// project builds one result row; ok is false when SELECT VALUE yields
// MISSING.
func (x *executor) project(q *Select, e *env) (ion.Value, bool, error) {
	if q.Value != nil {
		v, err := x.eval(q.Value, e)
		if err != nil || v.missing {
			return ion.Value{}, false, err
		}
		return v.Value, true, nil
	}
	var fields []ion.Field
	if q.Star {
		for _, b := range e.items {
			fields = appendStar(fields, b.v, b.name)
		}
		return ion.Struct(fields...), true, nil
	}
	for i, it := range q.Items {
		v, err := x.eval(it.Expr, e)
		if err != nil {
			return ion.Value{}, false, err
		}
		if it.Star {
			fields = appendStar(fields, v, "")
			continue
		}
		if v.missing {
			continue
		}
		fields = append(fields, ion.F(itemName(it, i), v.Value))
	}
	return ion.Struct(fields...), true, nil
}

// appendStar adds the fields of a struct, or the value itself under name
// when it is not a struct.
func appendStar(fields []ion.Field, v value, name string) []ion.Field {
	switch {
	case v.missing:
		return fields
	case v.Type() == ion.StructType && !v.IsNull():
		return append(fields, v.Fields()...)
	case name != "":
		return append(fields, ion.F(name, v.Value))
	}
	return fields
}

// itemName is a projection's field name: its alias, the last field of its
// path, or _N for its position.
func itemName(it SelectItem, i int) string {
	if it.Alias != "" {
		return it.Alias
	}
	switch e := it.Expr.(type) {
	case *Ident:
		return e.Name
	case *Path:
		if last := e.Steps[len(e.Steps)-1]; last.Index == nil {
			return last.Field
		}
	}
	return fmt.Sprintf("_%d", i+1)
}

// conjuncts splits a condition at its top-level ANDs.
func conjuncts(e Expr) []Expr {
	if b, ok := e.(*Binary); ok && b.Op == "AND" {
		return append(conjuncts(b.L), conjuncts(b.R)...)
	}
	if e == nil {
		return nil
	}
	return []Expr{e}
}
