package partiql

import (
	"math/big"
	"regexp"
	"strings"

	"github.com/quilldb/quill/ion"
)

// eval evaluates an expression in an environment.
func (x *executor) eval(ex Expr, e *env) (value, error) {
	switch ex := ex.(type) {
	case *Literal:
		return some(ex.Value), nil
	case *MissingLit:
		return missing, nil
	case *Param:
		return some(x.params[ex.N]), nil
	case *Ident:
		return e.resolve(ex.Name), nil
	case *Path:
		v, err := x.eval(ex.Root, e)
		if err != nil {
			return missing, err
		}
		for _, s := range ex.Steps {
			if v, err = x.step(v, s, e); err != nil || v.missing {
				return v, err
			}
		}
		return v, nil
	case *Binary:
		return x.binary(ex, e)
	case *Unary:
		v, err := x.eval(ex.X, e)
		if err != nil {
			return missing, err
		}
		switch ex.Op {
		case "NOT":
			switch truthValue(v) {
			case isTrue:
				return some(ion.Bool(false)), nil
			case isFalse:
				return some(ion.Bool(true)), nil
			}
			return some(ion.Null()), nil
		case "-":
			if v.absent() {
				return v, nil
			}
			if !isNumber(v.Value) {
				return missing, x.errAt(ex, "unary minus needs a number, got "+typeName(v))
			}
			n, _ := negate(v.Value)
			return some(n), nil
		}
		if v.absent() || isNumber(v.Value) {
			return v, nil
		}
		return missing, x.errAt(ex, "unary plus needs a number, got "+typeName(v))
	case *In:
		return x.in(ex, e)
	case *Is:
		v, err := x.eval(ex.X, e)
		if err != nil {
			return missing, err
		}
		r := v.absent()
		if ex.Missing {
			r = v.missing
		}
		return some(ion.Bool(r != ex.Not)), nil
	case *Between:
		v, err := x.eval(ex.X, e)
		if err != nil {
			return missing, err
		}
		lo, err := x.eval(ex.Lo, e)
		if err != nil {
			return missing, err
		}
		hi, err := x.eval(ex.Hi, e)
		if err != nil {
			return missing, err
		}
		t := and(cmpTruth(">=", v, lo), cmpTruth("<=", v, hi))
		if ex.Not {
			t = not(t)
		}
		return t.value(), nil
	case *Like:
		return x.like(ex, e)
	case *Call:
		return x.call(ex, e)
	case *Cast:
		v, err := x.eval(ex.X, e)
		if err != nil {
			return missing, err
		}
		return x.cast(ex, v)
	case *Extract:
		v, err := x.eval(ex.X, e)
		if err != nil {
			return missing, err
		}
		return x.extract(ex, v)
	case *StructLit:
		fields := make([]ion.Field, 0, len(ex.Keys))
		for i, k := range ex.Keys {
			kv, err := x.eval(k, e)
			if err != nil {
				return missing, err
			}
			if kv.missing || !isText(kv.Value) {
				return missing, x.errAt(k, "a struct's field name must be a string, got "+typeName(kv))
			}
			v, err := x.eval(ex.Values[i], e)
			if err != nil {
				return missing, err
			}
			if !v.missing {
				fields = append(fields, ion.F(textOf(kv.Value), v.Value))
			}
		}
		return some(ion.Struct(fields...)), nil
	case *ListLit:
		elems := make([]ion.Value, 0, len(ex.Elems))
		for _, el := range ex.Elems {
			v, err := x.eval(el, e)
			if err != nil {
				return missing, err
			}
			if !v.missing {
				elems = append(elems, v.Value)
			}
		}
		return some(ion.List(elems...)), nil
	case *Subquery:
		rows, err := x.query(ex.Query, e)
		if err != nil {
			return missing, err
		}
		return some(ion.List(rows...)), nil
	}
	return missing, errorf("unsupported expression %T", ex)
}

func (x *executor) errAt(ex Expr, msg string) error { return errAt(x.src, ex.position(), msg) }

// step follows one path step; a step into the wrong kind of value is
// MISSING, as in PartiQL's permissive mode.
func (x *executor) step(v value, s Step, e *env) (value, error) {
	if v.absent() {
		return missing, nil
	}
	if s.Index == nil {
		if v.Type() != ion.StructType {
			return missing, nil
		}
		f, ok := v.Get(s.Field)
		if !ok {
			return missing, nil
		}
		return some(f), nil
	}
	idx, err := x.eval(s.Index, e)
	if err != nil {
		return missing, err
	}
	switch {
	case !idx.absent() && isText(idx.Value):
		return x.step(v, Step{Field: textOf(idx.Value)}, e)
	case !idx.absent() && idx.Type() == ion.IntType && (v.Type() == ion.ListType || v.Type() == ion.SexpType):
		i, ok := idx.Int64()
		if !ok || i < 0 || i >= int64(v.Len()) {
			return missing, nil
		}
		return some(v.Index(int(i))), nil
	}
	return missing, nil
}

func and(a, b truth) truth {
	switch {
	case a == isFalse || b == isFalse:
		return isFalse
	case a == isTrue && b == isTrue:
		return isTrue
	}
	return unknown
}

func or(a, b truth) truth {
	switch {
	case a == isTrue || b == isTrue:
		return isTrue
	case a == isFalse && b == isFalse:
		return isFalse
	}
	return unknown
}

func not(t truth) truth {
	switch t {
	case isTrue:
		return isFalse
	case isFalse:
		return isTrue
	}
	return unknown
}

// cmpTruth compares two values; null, missing or incomparable types are
// unknown.
func cmpTruth(op string, a, b value) truth {
	if a.absent() || b.absent() {
		return unknown
	}
	switch op {
	case "=":
		return truthOf(equalValues(a.Value, b.Value))
	case "<>":
		return truthOf(!equalValues(a.Value, b.Value))
	}
	c, ok := compareValues(a.Value, b.Value)
	if !ok {
		return unknown
	}
	switch op {
	case "<":
		return truthOf(c < 0)
	case ">":
		return truthOf(c > 0)
	case "<=":
		return truthOf(c <= 0)
	}
	return truthOf(c >= 0)
}

func (x *executor) binary(b *Binary, e *env) (value, error) {
	l, err := x.eval(b.L, e)
	if err != nil {
		return missing, err
	}
	switch b.Op {
	case "AND":
		if truthValue(l) == isFalse {
			return some(ion.Bool(false)), nil
		}
	case "OR":
		if truthValue(l) == isTrue {
			return some(ion.Bool(true)), nil
		}
	}
	r, err := x.eval(b.R, e)
	if err != nil {
		return missing, err
	}
	switch b.Op {
	case "AND":
		return and(truthValue(l), truthValue(r)).value(), nil
	case "OR":
		return or(truthValue(l), truthValue(r)).value(), nil
	case "=", "<>", "<", ">", "<=", ">=":
		return cmpTruth(b.Op, l, r).value(), nil
	case "||":
		if l.missing || r.missing {
			return missing, nil
		}
		if l.IsNull() || r.IsNull() {
			return some(ion.Null()), nil
		}
		if !isText(l.Value) || !isText(r.Value) {
			return missing, x.errAt(b, "|| concatenates strings, got "+typeName(l)+" and "+typeName(r))
		}
		return some(ion.String(textOf(l.Value) + textOf(r.Value))), nil
	}
	if l.missing || r.missing {
		return missing, nil
	}
	if l.IsNull() || r.IsNull() {
		return some(ion.Null()), nil
	}
	if !isNumber(l.Value) || !isNumber(r.Value) {
		return missing, x.errAt(b, "operator "+b.Op+" needs numbers, got "+typeName(l)+" and "+typeName(r))
	}
	v, err := arithmetic(b.Op, l.Value, r.Value)
	if err != nil {
		return missing, x.errAt(b, messageOf(err))
	}
	return some(v), nil
}

func (x *executor) in(in *In, e *env) (value, error) {
	v, err := x.eval(in.X, e)
	if err != nil {
		return missing, err
	}
	var cands []ion.Value
	switch {
	case in.Sub != nil:
		rows, err := x.query(in.Sub, e)
		if err != nil {
			return missing, err
		}
		for _, r := range rows {
			// A row of one column stands for its value, as in SQL.
			if r.Type() == ion.StructType && r.Len() == 1 {
				r = r.Fields()[0].Value
			}
			cands = append(cands, r)
		}
	case in.Coll != nil:
		c, err := x.eval(in.Coll, e)
		if err != nil {
			return missing, err
		}
		if c.absent() || (c.Type() != ion.ListType && c.Type() != ion.SexpType) {
			return missing, x.errAt(in, "IN needs a list, a bag or a subquery, got "+typeName(c))
		}
		cands = c.Elems()
	default:
		for _, el := range in.List {
			c, err := x.eval(el, e)
			if err != nil {
				return missing, err
			}
			if c.missing {
				cands = append(cands, ion.Null())
				continue
			}
			cands = append(cands, c.Value)
		}
	}
	t := isFalse
	for _, c := range cands {
		t = or(t, cmpTruth("=", v, some(c)))
	}
	if in.Not {
		t = not(t)
	}
	return t.value(), nil
}

func (x *executor) like(l *Like, e *env) (value, error) {
	v, err := x.eval(l.X, e)
	if err != nil {
		return missing, err
	}
	p, err := x.eval(l.Pattern, e)
	if err != nil {
		return missing, err
	}
	esc := ""
	if l.Escape != nil {
		ev, err := x.eval(l.Escape, e)
		if err != nil {
			return missing, err
		}
		if ev.absent() || !isText(ev.Value) || len([]rune(textOf(ev.Value))) != 1 {
			return missing, x.errAt(l, "ESCAPE takes a single character")
		}
		esc = textOf(ev.Value)
	}
	if v.absent() || p.absent() {
		return some(ion.Null()), nil
	}
	if !isText(v.Value) || !isText(p.Value) {
		return missing, x.errAt(l, "LIKE compares strings, got "+typeName(v)+" and "+typeName(p))
	}
	re, err := likeRegexp(textOf(p.Value), esc)
	if err != nil {
		return missing, x.errAt(l, err.Error())
	}
	return some(ion.Bool(re.MatchString(textOf(v.Value)) != l.Not)), nil
}

// likeRegexp translates a LIKE pattern: % is any run of characters, _ one
// character, and the escape character makes the next one literal.
func likeRegexp(pattern, esc string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("(?s)^")
	rs := []rune(pattern)
	for i := 0; i < len(rs); i++ {
		c := string(rs[i])
		switch {
		case esc != "" && c == esc:
			if i+1 == len(rs) {
				return nil, errorf("the LIKE pattern ends with its escape character")
			}
			i++
			b.WriteString(regexp.QuoteMeta(string(rs[i])))
		case c == "%":
			b.WriteString(".*")
		case c == "_":
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(c))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// Aggregates.

var aggregates = map[string]bool{"COUNT": true, "SUM": true, "AVG": true, "MIN": true, "MAX": true}

// hasAggregate reports whether an expression calls an aggregate outside a
// subquery.
func hasAggregate(ex Expr) bool {
	found := false
	walk(ex, func(e Expr) bool {
		if c, ok := e.(*Call); ok && aggregates[c.Name] {
			found = true
			return false
		}
		_, sub := e.(*Subquery)
		return !sub
	})
	return found
}

// checkAggregateRefs refuses projections that mix aggregates with columns:
// without GROUP BY (which Quill does not support) they have no single value.
func checkAggregateRefs(q *Select) error {
	exprs := []Expr{q.Value}
	if q.Star {
		return errorf("SELECT * cannot be combined with aggregates")
	}
	for _, it := range q.Items {
		exprs = append(exprs, it.Expr)
	}
	for _, ex := range exprs {
		var bad Expr
		walk(ex, func(e Expr) bool {
			switch e := e.(type) {
			case *Call:
				return !aggregates[e.Name]
			case *Ident:
				if bad == nil {
					bad = e
				}
			case *Subquery:
				return false
			}
			return true
		})
		if bad != nil {
			return errorf("%s is used outside an aggregate function; without GROUP BY (not supported) every projection must be an aggregate", bad.(*Ident).Name)
		}
	}
	return nil
}

// walk visits an expression tree depth first; visit returns false to skip
// a node's children.
func walk(ex Expr, visit func(Expr) bool) {
	if ex == nil || !visit(ex) {
		return
	}
	switch ex := ex.(type) {
	case *Path:
		walk(ex.Root, visit)
		for _, s := range ex.Steps {
			walk(s.Index, visit)
		}
	case *Binary:
		walk(ex.L, visit)
		walk(ex.R, visit)
	case *Unary:
		walk(ex.X, visit)
	case *In:
		walk(ex.X, visit)
		walk(ex.Coll, visit)
		for _, el := range ex.List {
			walk(el, visit)
		}
	case *Is:
		walk(ex.X, visit)
	case *Between:
		walk(ex.X, visit)
		walk(ex.Lo, visit)
		walk(ex.Hi, visit)
	case *Like:
		walk(ex.X, visit)
		walk(ex.Pattern, visit)
		walk(ex.Escape, visit)
	case *Call:
		for _, a := range ex.Args {
			walk(a, visit)
		}
	case *Cast:
		walk(ex.X, visit)
	case *Extract:
		walk(ex.X, visit)
	case *StructLit:
		for i := range ex.Keys {
			walk(ex.Keys[i], visit)
			walk(ex.Values[i], visit)
		}
	case *ListLit:
		for _, el := range ex.Elems {
			walk(el, visit)
		}
	}
}

func (x *executor) aggregate(c *Call, e *env) (value, error) {
	if e.group == nil {
		return missing, x.errAt(c, c.Name+" is an aggregate: it may appear only in the projection")
	}
	if c.Star {
		return some(ion.Int(int64(len(e.group)))), nil
	}
	if len(c.Args) != 1 {
		return missing, x.errAt(c, c.Name+" takes one argument")
	}
	var vals []ion.Value
	for _, row := range e.group {
		v, err := x.eval(c.Args[0], row)
		if err != nil {
			return missing, err
		}
		if !v.absent() {
			vals = append(vals, v.Value)
		}
	}
	switch c.Name {
	case "COUNT":
		return some(ion.Int(int64(len(vals)))), nil
	case "MIN", "MAX":
		if len(vals) == 0 {
			return some(ion.Null()), nil
		}
		best := vals[0]
		for _, v := range vals[1:] {
			cmp, ok := compareValues(v, best)
			if !ok {
				return missing, x.errAt(c, c.Name+" cannot order "+v.Type().String()+" and "+best.Type().String())
			}
			if c.Name == "MIN" && cmp < 0 || c.Name == "MAX" && cmp > 0 {
				best = v
			}
		}
		return some(best), nil
	}
	// SUM and AVG.
	if len(vals) == 0 {
		return some(ion.Null()), nil
	}
	sum := ion.Int(0)
	for _, v := range vals {
		if !isNumber(v) {
			return missing, x.errAt(c, c.Name+" needs numbers, got "+v.Type().String())
		}
		s, err := arithmetic("+", sum, v)
		if err != nil {
			return missing, err
		}
		sum = s
	}
	if c.Name == "SUM" {
		return some(sum), nil
	}
	n := ion.BigInt(big.NewInt(int64(len(vals))))
	if sum.Type() == ion.IntType {
		r, _ := rat(sum)
		return some(ratDecimal(r.Quo(r, big.NewRat(int64(len(vals)), 1)))), nil
	}
	avg, err := arithmetic("/", sum, n)
	if err != nil {
		return missing, err
	}
	return some(avg), nil
}
