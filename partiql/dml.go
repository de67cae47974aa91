package partiql

import (
	"slices"
	"strconv"

	"github.com/quilldb/quill/ion"
)

func documentIDRow(id string) ion.Value { return ion.Struct(ion.F("documentId", ion.String(id))) }

// insert adds each document the value yields: a struct, or every struct of
// a list or bag (not with VALUE, whose value is one document).
func (x *executor) insert(in *Insert) ([]ion.Value, error) {
	v, err := x.eval(in.Value, &env{})
	if err != nil {
		return nil, err
	}
	docs := []ion.Value{v.Value}
	if !v.missing && !v.IsNull() && !in.Single && (v.Type() == ion.ListType || v.Type() == ion.SexpType) {
		docs = v.Elems()
	}
	if v.missing {
		return nil, x.errAt(in.Value, "the value to insert is MISSING")
	}
	for i, d := range docs {
		if d.IsNull() || d.Type() != ion.StructType {
			what := "the value"
			if len(docs) > 1 || !in.Single && v.Type() == ion.ListType {
				what = "element " + strconv.Itoa(i) + " of the value"
			}
			return nil, x.errAt(in.Value, what+" to insert is "+typeName(some(d))+"; a document must be a struct")
		}
	}
	out := make([]ion.Value, 0, len(docs))
	for _, d := range docs {
		id, err := x.store.Insert(in.Table, d)
		if err != nil {
			return nil, err
		}
		x.stats.DocumentsWritten++
		out = append(out, documentIDRow(id))
	}
	return out, nil
}

// target collects the documents of an UPDATE, FROM or DELETE before any
// is changed, so that changes never feed back into the selection.
func (x *executor) target(item *FromItem, where Expr) ([]Document, []*env, error) {
	var docs []Document
	var envs []*env
	src := item.Source.(*TableSource)
	scope := &env{}
	err := x.tableDocs(item, src, scope, conjuncts(where), true, func(d Document) error {
		e := scope.bind(item.Alias, some(d.Data), binding{item.By, some(ion.String(d.ID))})
		if where != nil {
			v, err := x.eval(where, e)
			if err != nil {
				return err
			}
			if truthValue(v) != isTrue {
				return nil
			}
		}
		docs = append(docs, d)
		envs = append(envs, e)
		return nil
	})
	return docs, envs, err
}

func (x *executor) delete(d *Delete) ([]ion.Value, error) {
	docs, _, err := x.target(d.Target, d.Where)
	if err != nil {
		return nil, err
	}
	out := make([]ion.Value, 0, len(docs))
	for _, doc := range docs {
		if err := x.store.Delete(d.Target.Source.(*TableSource).Name, doc.ID); err != nil {
			return nil, err
		}
		x.stats.DocumentsWritten++
		out = append(out, documentIDRow(doc.ID))
	}
	return out, nil
}

func (x *executor) update(u *Update) ([]ion.Value, error) {
	for _, op := range u.Ops {
		// Checked before any document is read, so that the statement fails
		// even on an empty table.
		root := op.Path
		if p, ok := root.(*Path); ok {
			root = p.Root
		}
		if id, ok := root.(*Ident); ok && u.Target.By != "" && id.Name == u.Target.By {
			return nil, x.errAt(op.Path, "the document id cannot be changed")
		}
	}
	docs, envs, err := x.target(u.Target, u.Where)
	if err != nil {
		return nil, err
	}
	table := u.Target.Source.(*TableSource).Name
	out := make([]ion.Value, 0, len(docs))
	for i, doc := range docs {
		data := doc.Data
		for _, op := range u.Ops {
			// Each operation sees the document as the previous ones left it.
			e := envs[i].bind(u.Target.Alias, some(data))
			if data, err = x.apply(op, data, u.Target, e); err != nil {
				return nil, err
			}
		}
		if err := x.store.Update(table, doc.ID, data); err != nil {
			return nil, err
		}
		x.stats.DocumentsWritten++
		out = append(out, documentIDRow(doc.ID))
	}
	return out, nil
}

// pathStep is an evaluated step of an update path: a field name or a
// list position.
type pathStep struct {
	field string
	index int
	isIdx bool
}

// updatePath resolves an update operation's path to steps inside the
// document: alias.a.b, or a.b for the document's field a.
func (x *executor) updatePath(p Expr, item *FromItem, e *env) ([]pathStep, error) {
	var root *Ident
	var steps []Step
	switch p := p.(type) {
	case *Ident:
		root = p
	case *Path:
		root, _ = p.Root.(*Ident)
		steps = p.Steps
	}
	if root == nil {
		return nil, x.errAt(p, "expected a path into the document")
	}
	if root.Name == item.By && item.By != "" {
		return nil, x.errAt(p, "the document id cannot be changed")
	}
	if root.Name != item.Alias {
		steps = append([]Step{{Field: root.Name}}, steps...)
	}
	if len(steps) == 0 {
		return nil, x.errAt(p, "an update names a field of the document, not the whole document")
	}
	out := make([]pathStep, 0, len(steps))
	for _, s := range steps {
		if s.Index == nil {
			out = append(out, pathStep{field: s.Field})
			continue
		}
		v, err := x.eval(s.Index, e)
		if err != nil {
			return nil, err
		}
		switch {
		case !v.absent() && isText(v.Value):
			out = append(out, pathStep{field: textOf(v.Value)})
		case !v.absent() && v.Type() == ion.IntType:
			n, ok := v.Int64()
			if !ok || n < 0 {
				return nil, x.errAt(p, "a list position must be a non-negative integer")
			}
			out = append(out, pathStep{index: int(n), isIdx: true})
		default:
			return nil, x.errAt(p, "a path step must be a field name or a position, got "+typeName(v))
		}
	}
	return out, nil
}

func (x *executor) apply(op UpdateOp, doc ion.Value, item *FromItem, e *env) (ion.Value, error) {
	steps, err := x.updatePath(op.Path, item, e)
	if err != nil {
		return doc, err
	}
	var v value
	if op.Value != nil {
		if v, err = x.eval(op.Value, e); err != nil {
			return doc, err
		}
	}
	var at value
	if op.At != nil {
		if at, err = x.eval(op.At, e); err != nil {
			return doc, err
		}
	}
	res, err := modify(doc, steps, func(cur value) (value, error) {
		switch op.Kind {
		case OpSet:
			if v.missing {
				return missing, nil // SET to MISSING removes, as in PartiQL
			}
			return v, nil
		case OpRemove:
			return missing, nil
		}
		return insertInto(cur, v, at, op.At != nil)
	}, op.Kind == OpSet)
	if err != nil {
		return doc, x.errAt(op.Path, messageOf(err))
	}
	return res, nil
}

// insertInto adds a value to a list (at the end or at a position) or to a
// struct (under the AT key, which must be new).
func insertInto(cur, v, at value, hasAt bool) (value, error) {
	if v.missing {
		return cur, errorf("the value to insert is MISSING")
	}
	switch {
	case cur.absent():
		return cur, errorf("INSERT INTO needs an existing list or struct at the path")
	case cur.Type() == ion.ListType || cur.Type() == ion.SexpType:
		elems := slices.Clone(cur.Elems())
		pos := len(elems)
		if hasAt {
			n, ok := at.Int64()
			if at.absent() || at.Type() != ion.IntType || !ok || n < 0 || n > int64(len(elems)) {
				return cur, errorf("AT must be a position from 0 to %d in this list", len(elems))
			}
			pos = int(n)
		}
		elems = slices.Insert(elems, pos, v.Value)
		if cur.Type() == ion.SexpType {
			return some(ion.Sexp(elems...).WithAnnotations(cur.Annotations()...)), nil
		}
		return some(ion.List(elems...).WithAnnotations(cur.Annotations()...)), nil
	case cur.Type() == ion.StructType:
		if !hasAt || at.absent() || !isText(at.Value) {
			return cur, errorf("INSERT INTO a struct needs AT 'fieldName'")
		}
		name := textOf(at.Value)
		if _, exists := cur.Get(name); exists {
			return cur, errorf("the struct already has a field %q", name)
		}
		fields := append(slices.Clone(cur.Fields()), ion.F(name, v.Value))
		return some(ion.Struct(fields...).WithAnnotations(cur.Annotations()...)), nil
	}
	return cur, errorf("INSERT INTO needs a list or a struct at the path, got %s", typeName(cur))
}

// modify rebuilds doc with the value at steps replaced by change(current);
// a MISSING result removes it. create makes missing structs on the way
// (for SET); otherwise a missing step leaves the document unchanged for
// REMOVE and is an error for INSERT INTO.
func modify(doc ion.Value, steps []pathStep, change func(value) (value, error), create bool) (ion.Value, error) {
	s := steps[0]
	rest := steps[1:]
	if s.isIdx {
		if doc.IsNull() || doc.Type() != ion.ListType && doc.Type() != ion.SexpType {
			return doc, errorf("position [%d] needs a list, got %s", s.index, typeName(some(doc)))
		}
		elems := slices.Clone(doc.Elems())
		if s.index >= len(elems) {
			if len(rest) == 0 {
				nv, err := change(missing)
				if err != nil || nv.missing {
					return doc, err
				}
			}
			return doc, errorf("position [%d] is past the end of a list of %d", s.index, len(elems))
		}
		var nv value
		var err error
		if len(rest) == 0 {
			nv, err = change(some(elems[s.index]))
		} else {
			var child ion.Value
			child, err = modify(elems[s.index], rest, change, create)
			nv = some(child)
		}
		if err != nil {
			return doc, err
		}
		if nv.missing {
			elems = slices.Delete(elems, s.index, s.index+1)
		} else {
			elems[s.index] = nv.Value
		}
		if doc.Type() == ion.SexpType {
			return ion.Sexp(elems...).WithAnnotations(doc.Annotations()...), nil
		}
		return ion.List(elems...).WithAnnotations(doc.Annotations()...), nil
	}
	if doc.IsNull() || doc.Type() != ion.StructType {
		return doc, errorf("field %q needs a struct, got %s", s.field, typeName(some(doc)))
	}
	fields := slices.Clone(doc.Fields())
	i := slices.IndexFunc(fields, func(f ion.Field) bool { t, _ := f.Name.Text(); return t == s.field })
	cur := missing
	if i >= 0 {
		cur = some(fields[i].Value)
	}
	var nv value
	var err error
	switch {
	case len(rest) == 0:
		nv, err = change(cur)
	case cur.missing && !create:
		return doc, nil // nothing to remove below a missing field
	default:
		base := cur.Value
		if cur.missing {
			base = ion.Struct()
		}
		var child ion.Value
		child, err = modify(base, rest, change, create)
		nv = some(child)
	}
	if err != nil {
		return doc, err
	}
	switch {
	case nv.missing && i >= 0:
		fields = slices.Delete(fields, i, i+1)
	case nv.missing:
	case i >= 0:
		fields[i] = ion.Field{Name: fields[i].Name, Value: nv.Value}
	default:
		fields = append(fields, ion.F(s.field, nv.Value))
	}
	return ion.Struct(fields...).WithAnnotations(doc.Annotations()...), nil
}
