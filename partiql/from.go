package partiql

import (
	"time"

	"github.com/quilldb/quill/ion"
)

// bindFrom binds the FROM items from i on, left to right (a nested-loop
// join), and calls fn with each complete row of variables. conds are the
// WHERE clause's conjuncts, from which each table item picks its access
// path.
func (x *executor) bindFrom(items []*FromItem, i int, e *env, conds []Expr, fn func(*env) error) error {
	if i == len(items) {
		return fn(e)
	}
	item := items[i]
	all := conds
	if item.On != nil {
		all = append(conjuncts(item.On), conds...)
	}
	return x.source(item, e, all, len(items) == 1, func(ne *env) error {
		if item.On != nil {
			v, err := x.eval(item.On, ne)
			if err != nil {
				return err
			}
			if truthValue(v) != isTrue {
				return nil
			}
		}
		return x.bindFrom(items, i+1, ne, conds, fn)
	})
}

// source produces the bindings of one FROM item.
func (x *executor) source(item *FromItem, e *env, conds []Expr, single bool, fn func(*env) error) error {
	switch src := item.Source.(type) {
	case *TableSource:
		switch {
		case src.UserTables:
			rows, err := x.store.UserTables()
			if err != nil {
				return err
			}
			return x.each(item, e, listOf(rows), fn)
		case !src.Committed && e.bound(src.Name):
			// A name bound by an earlier item: range over its value.
			v, _ := e.lookup(src.Name)
			return x.each(item, e, v, fn)
		}
		return x.tableDocs(item, src, e, conds, single, func(d Document) error {
			v := some(d.Data)
			if src.Committed {
				v = some(d.Committed())
			}
			return fn(e.bind(item.Alias, v, binding{item.By, some(ion.String(d.ID))}, binding{item.At, missing}))
		})
	case *HistorySource:
		return x.history(item, src, e, conds, single, fn)
	case *SubquerySource:
		rows, err := x.query(src.Query, e)
		if err != nil {
			return err
		}
		return x.each(item, e, listOf(rows), fn)
	case *ExprSource:
		v, err := x.eval(src.Expr, e)
		if err != nil {
			return err
		}
		return x.each(item, e, v, fn)
	}
	return errorf("unsupported source %T", item.Source)
}

func listOf(rows []ion.Value) value { return some(ion.List(rows...)) }

// each ranges over a collection's elements (binding AT to the position),
// or binds a single value once; MISSING binds nothing.
func (x *executor) each(item *FromItem, e *env, v value, fn func(*env) error) error {
	if v.missing {
		return nil
	}
	if item.By != "" {
		return errorf("BY %s: only a table's documents have ids", item.By)
	}
	if !v.IsNull() && (v.Type() == ion.ListType || v.Type() == ion.SexpType) {
		for i, el := range v.Elems() {
			if err := fn(e.bind(item.Alias, some(el), binding{item.At, some(ion.Int(int64(i)))})); err != nil {
				return err
			}
		}
		return nil
	}
	return fn(e.bind(item.Alias, v, binding{item.At, missing}))
}

// tableDocs reads a table's documents through the best access path the
// conditions allow: a document id bound with BY, then an equality on an
// indexed top-level field, else a scan. Conditions are evaluated again on
// every document, so the path only decides what is read.
func (x *executor) tableDocs(item *FromItem, src *TableSource, e *env, conds []Expr, single bool, fn func(Document) error) error {
	read := func(d Document) error {
		x.stats.DocumentsRead++
		return fn(d)
	}
	if item.By != "" {
		for _, c := range conds {
			if v, ok, err := x.equalityWith(c, e, func(side Expr) bool { return isIdent(side, item.By) }); err != nil || ok {
				if err != nil || len(v) != 1 || !isText(v[0]) {
					return err
				}
				x.stats.IDLookups++
				d, found, err := x.store.Get(src.Name, textOf(v[0]))
				if err != nil || !found {
					return err
				}
				return read(d)
			}
		}
	}
	for _, c := range conds {
		var field string
		vals, ok, err := x.equalityWith(c, e, func(side Expr) bool {
			f, ok := fieldOf(item, src, side, e, single)
			if ok {
				field = f
			}
			return ok
		})
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		var keys []ion.Value
		for _, v := range vals {
			k := lookupKeys(v)
			if k == nil {
				keys = nil
				break
			}
			keys = append(keys, k...)
		}
		if keys == nil && len(vals) > 0 {
			continue
		}
		seen := map[string]bool{}
		indexed := true
		for _, k := range keys {
			x.stats.IndexLookups++
			used, err := x.store.Lookup(src.Name, field, k, func(d Document) error {
				if seen[d.ID] {
					return nil
				}
				seen[d.ID] = true
				return read(d)
			})
			if err != nil {
				return err
			}
			if !used {
				x.stats.IndexLookups--
				indexed = false
				break
			}
		}
		if indexed {
			return nil
		}
	}
	x.stats.TableScans++
	return x.store.Scan(src.Name, read)
}

// lookupKeys are the values an index is asked for to find every value
// equal to v: a text (Store.Lookup finds strings and symbols alike) or a
// bool. Numbers and timestamps compare by value, which no finite set of
// exact keys covers, so they are not looked up (nil).
func lookupKeys(v ion.Value) []ion.Value {
	switch {
	case v.IsNull():
		return nil
	case isText(v), v.Type() == ion.BoolType:
		return []ion.Value{v}
	}
	return nil
}

// equalityWith recognises `side = other` (either way round) and `side IN
// (a, b)` where match(side) and other does not depend on this FROM item;
// it returns the values other evaluates to. A null or missing value makes
// an empty list with ok set: nothing equals it.
func (x *executor) equalityWith(c Expr, e *env, match func(Expr) bool) ([]ion.Value, bool, error) {
	var others []Expr
	switch c := c.(type) {
	case *Binary:
		if c.Op != "=" {
			return nil, false, nil
		}
		switch {
		case match(c.L) && independent(c.R, e):
			others = []Expr{c.R}
		case match(c.R) && independent(c.L, e):
			others = []Expr{c.L}
		default:
			return nil, false, nil
		}
	case *In:
		if c.Not || c.Sub != nil || c.Coll != nil || !match(c.X) {
			return nil, false, nil
		}
		for _, el := range c.List {
			if !independent(el, e) {
				return nil, false, nil
			}
		}
		others = c.List
	default:
		return nil, false, nil
	}
	var vals []ion.Value
	for _, o := range others {
		v, err := x.eval(o, e)
		if err != nil {
			return nil, false, err
		}
		if !v.absent() {
			vals = append(vals, v.Value)
		}
	}
	return vals, true, nil
}

func isIdent(e Expr, name string) bool {
	id, ok := e.(*Ident)
	return ok && id.Name == name
}

// fieldOf recognises a top-level field of the item's documents: alias.f
// (alias.data.f in a committed view), or a bare f (data.f) when the item
// is the only one.
func fieldOf(item *FromItem, src *TableSource, side Expr, e *env, single bool) (string, bool) {
	switch s := side.(type) {
	case *Ident:
		if single && !src.Committed && s.Name != item.Alias && s.Name != item.By && !e.bound(s.Name) {
			return s.Name, true
		}
	case *Path:
		root, ok := s.Root.(*Ident)
		if !ok {
			return "", false
		}
		steps := s.Steps
		switch {
		case root.Name == item.Alias:
			if src.Committed {
				if len(steps) != 2 || steps[0].Index != nil || steps[0].Field != "data" {
					return "", false
				}
				steps = steps[1:]
			}
		case single && src.Committed && root.Name == "data" && !e.bound("data"):
		default:
			return "", false
		}
		if len(steps) == 1 && steps[0].Index == nil {
			return steps[0].Field, true
		}
	}
	return "", false
}

// independent reports whether an expression can be evaluated before the
// current FROM item is bound: it uses only literals, parameters and
// variables already bound.
func independent(x Expr, e *env) bool {
	switch x := x.(type) {
	case *Literal, *Param, *MissingLit:
		return true
	case *Ident:
		return e.bound(x.Name)
	case *Path:
		if !independent(x.Root, e) {
			return false
		}
		for _, s := range x.Steps {
			if s.Index != nil && !independent(s.Index, e) {
				return false
			}
		}
		return true
	case *Binary:
		return independent(x.L, e) && independent(x.R, e)
	case *Unary:
		return independent(x.X, e)
	case *Call:
		if aggregates[x.Name] {
			return false
		}
		for _, a := range x.Args {
			if !independent(a, e) {
				return false
			}
		}
		return true
	case *Cast:
		return independent(x.X, e)
	case *ListLit:
		for _, el := range x.Elems {
			if !independent(el, e) {
				return false
			}
		}
		return true
	}
	return false
}

// history reads history(table, start, end); an equality on metadata.id
// in the conditions narrows it to one document.
func (x *executor) history(item *FromItem, src *HistorySource, e *env, conds []Expr, single bool, fn func(*env) error) error {
	if item.By != "" {
		return errorf("BY cannot be used on history(); filter on metadata.id")
	}
	q := HistoryQuery{Table: src.Table, ByID: src.ByID}
	for i, slot := range []*time.Time{&q.Start, &q.End} {
		arg := []Expr{src.Start, src.End}[i]
		if arg == nil {
			continue
		}
		v, err := x.eval(arg, e)
		if err != nil {
			return err
		}
		if v.absent() {
			continue
		}
		if v.Type() != ion.TimestampType {
			return errorf("history(): the %s time must be a timestamp, got %s", []string{"start", "end"}[i], typeName(v))
		}
		*slot = v.Time()
	}
	for _, c := range conds {
		vals, ok, err := x.equalityWith(c, e, func(side Expr) bool { return isMetadataID(side, item.Alias, single, e) })
		if err != nil {
			return err
		}
		if ok && len(vals) == 1 && isText(vals[0]) {
			q.DocumentID = textOf(vals[0])
			break
		}
		if ok && len(vals) == 0 {
			return nil
		}
	}
	x.stats.TableScans++
	return x.store.History(q, func(d Document) error {
		x.stats.DocumentsRead++
		return fn(e.bind(item.Alias, some(d.Committed()), binding{item.At, missing}))
	})
}

// isMetadataID recognises alias.metadata.id, or metadata.id alone.
func isMetadataID(side Expr, alias string, single bool, e *env) bool {
	p, ok := side.(*Path)
	if !ok {
		return false
	}
	root, ok := p.Root.(*Ident)
	if !ok {
		return false
	}
	steps := p.Steps
	switch {
	case alias != "" && root.Name == alias:
	case single && root.Name == "metadata" && !e.bound("metadata"):
		steps = append([]Step{{Field: "metadata"}}, steps...)
	default:
		return false
	}
	return len(steps) == 2 && steps[0].Index == nil && steps[0].Field == "metadata" && steps[1].Index == nil && steps[1].Field == "id"
}
