package partiql

import (
	"math/big"
	"slices"
	"strconv"
	"strings"

	amzion "github.com/amazon-ion/ion-go/ion"
	"github.com/quilldb/quill/ion"
)

// Parsed is a parsed statement with the number of parameters it takes.
type Parsed struct {
	Statement Statement
	Params    int
	Text      string
}

// Parse parses one PartiQL statement (a trailing semicolon is allowed).
// Errors are *Error values that locate the offending token.
func Parse(src string) (*Parsed, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{src: src, toks: toks}
	stmt, err := p.statement()
	if err != nil {
		return nil, err
	}
	if p.peek().kind == tokOp && p.peek().text == ";" {
		p.next()
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, errToken(src, t, "unexpected token after the end of the statement")
	}
	return &Parsed{Statement: stmt, Params: p.params, Text: src}, nil
}

// reserved words cannot be aliases or bare identifiers.
var reserved = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`SELECT FROM WHERE AS AT BY AND OR NOT IN IS NULL MISSING
		BETWEEN LIKE ESCAPE VALUE INSERT INTO UPDATE SET REMOVE DELETE CREATE DROP UNDROP TABLE
		INDEX ON JOIN INNER CROSS LEFT RIGHT FULL OUTER WITH TRUE FALSE CAST EXTRACT GROUP ORDER
		LIMIT OFFSET HAVING UNION INTERSECT EXCEPT DISTINCT EXEC PIVOT UNPIVOT LET`) {
		reserved[w] = true
	}
}

type parser struct {
	src    string
	toks   []token
	i      int
	params int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) peekAt(k int) token {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return p.toks[len(p.toks)-1]
}
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *parser) errExpected(what string) error {
	t := p.peek()
	if t.kind == tokEOF {
		return errAt(p.src, t.pos, "expected "+what+", found the end of the statement")
	}
	return errToken(p.src, t, "expected "+what)
}

func (p *parser) isKeyword(kw string) bool { return p.peek().keyword(kw) }

func (p *parser) acceptKeyword(kw string) bool {
	if p.isKeyword(kw) {
		p.next()
		return true
	}
	return false
}

func (p *parser) expectKeyword(kw string) error {
	if !p.acceptKeyword(kw) {
		return p.errExpected(kw)
	}
	return nil
}

func (p *parser) isOp(op string) bool {
	t := p.peek()
	return t.kind == tokOp && t.text == op
}

func (p *parser) acceptOp(op string) bool {
	if p.isOp(op) {
		p.next()
		return true
	}
	return false
}

func (p *parser) expectOp(op string) error {
	if !p.acceptOp(op) {
		return p.errExpected("'" + op + "'")
	}
	return nil
}

// name reads a table, field or variable name: a non-reserved identifier or
// a quoted identifier.
func (p *parser) name(what string) (string, error) {
	t := p.peek()
	switch {
	case t.kind == tokQuoted:
		p.next()
		return t.text, nil
	case t.kind == tokIdent && !reserved[strings.ToUpper(t.text)]:
		p.next()
		return t.text, nil
	}
	return "", p.errExpected(what)
}

func (p *parser) statement() (Statement, error) {
	t := p.peek()
	switch {
	case t.keyword("SELECT"):
		return p.selectQuery()
	case t.keyword("CREATE"):
		return p.create()
	case t.keyword("DROP"):
		return p.drop()
	case t.keyword("UNDROP"):
		p.next()
		if err := p.expectKeyword("TABLE"); err != nil {
			return nil, err
		}
		id, err := p.stringOrName("a table id")
		if err != nil {
			return nil, err
		}
		return &UndropTable{TableID: id}, nil
	case t.keyword("INSERT"):
		return p.insert()
	case t.keyword("UPDATE"):
		return p.update()
	case t.keyword("FROM"):
		return p.fromDML()
	case t.keyword("DELETE"):
		return p.delete()
	case t.keyword("EXEC"):
		return nil, errToken(p.src, t, "stored procedures (EXEC, such as redact_revision) are not supported by Quill")
	case t.kind == tokEOF:
		return nil, errAt(p.src, t.pos, "the statement is empty")
	}
	return nil, errToken(p.src, t, "expected a statement: SELECT, INSERT, UPDATE, FROM, DELETE, CREATE, DROP or UNDROP")
}

func (p *parser) stringOrName(what string) (string, error) {
	if t := p.peek(); t.kind == tokString {
		p.next()
		return t.text, nil
	}
	return p.name(what)
}

func (p *parser) create() (Statement, error) {
	p.next()
	switch {
	case p.acceptKeyword("TABLE"):
		name, err := p.name("a table name")
		if err != nil {
			return nil, err
		}
		if t := p.peek(); t.keyword("WITH") {
			return nil, errToken(p.src, t, "tags at table creation (WITH (aws_tags = ...)) are not supported by Quill")
		}
		return &CreateTable{Name: name}, nil
	case p.acceptKeyword("INDEX"):
		if err := p.expectKeyword("ON"); err != nil {
			return nil, err
		}
		table, err := p.name("a table name")
		if err != nil {
			return nil, err
		}
		if err := p.expectOp("("); err != nil {
			return nil, err
		}
		ft := p.peek()
		field, err := p.name("a top-level field name")
		if err != nil {
			return nil, err
		}
		if p.isOp(".") || p.isOp("[") {
			return nil, errToken(p.src, ft, "an index covers one top-level field, not a path")
		}
		if err := p.expectOp(")"); err != nil {
			return nil, err
		}
		return &CreateIndex{Table: table, Field: field}, nil
	}
	return nil, p.errExpected("TABLE or INDEX")
}

func (p *parser) drop() (Statement, error) {
	p.next()
	switch {
	case p.acceptKeyword("TABLE"):
		name, err := p.name("a table name")
		if err != nil {
			return nil, err
		}
		return &DropTable{Name: name}, nil
	case p.acceptKeyword("INDEX"):
		id, err := p.stringOrName("an index id")
		if err != nil {
			return nil, err
		}
		if err := p.expectKeyword("ON"); err != nil {
			return nil, err
		}
		table, err := p.name("a table name")
		if err != nil {
			return nil, err
		}
		// QLDB requires WITH (purge = true): dropping an index is final.
		if !p.isKeyword("WITH") {
			return nil, p.errExpected("WITH (purge = true)")
		}
		p.next()
		if err := p.expectOp("("); err != nil {
			return nil, err
		}
		if t := p.peek(); t.kind != tokIdent || t.text != "purge" {
			return nil, p.errExpected("purge (lower case)")
		}
		p.next()
		if err := p.expectOp("="); err != nil {
			return nil, err
		}
		if !p.acceptKeyword("TRUE") {
			return nil, p.errExpected("true")
		}
		if err := p.expectOp(")"); err != nil {
			return nil, err
		}
		return &DropIndex{IndexID: id, Table: table}, nil
	}
	return nil, p.errExpected("TABLE or INDEX")
}

func (p *parser) insert() (Statement, error) {
	p.next()
	if err := p.expectKeyword("INTO"); err != nil {
		return nil, err
	}
	table, err := p.name("a table name")
	if err != nil {
		return nil, err
	}
	if p.isKeyword("AS") || p.isKeyword("SELECT") {
		return nil, errToken(p.src, p.peek(), "INSERT takes VALUE v, a bag << ... >> or a parameter; aliases and INSERT ... SELECT are not supported")
	}
	single := p.acceptKeyword("VALUE")
	v, err := p.expr()
	if err != nil {
		return nil, err
	}
	return &Insert{Table: table, Value: v, Single: single}, nil
}

func (p *parser) update() (Statement, error) {
	p.next()
	target, err := p.dmlTarget()
	if err != nil {
		return nil, err
	}
	ops, err := p.updateOps()
	if err != nil {
		return nil, err
	}
	u := &Update{Target: target, Ops: ops}
	if p.acceptKeyword("WHERE") {
		if u.Where, err = p.expr(); err != nil {
			return nil, err
		}
	}
	return u, nil
}

func (p *parser) fromDML() (Statement, error) {
	p.next()
	target, err := p.dmlTarget()
	if err != nil {
		return nil, err
	}
	u := &Update{Target: target}
	if p.acceptKeyword("WHERE") {
		if u.Where, err = p.expr(); err != nil {
			return nil, err
		}
	}
	if u.Ops, err = p.updateOps(); err != nil {
		return nil, err
	}
	return u, nil
}

func (p *parser) delete() (Statement, error) {
	p.next()
	if err := p.expectKeyword("FROM"); err != nil {
		return nil, err
	}
	target, err := p.dmlTarget()
	if err != nil {
		return nil, err
	}
	d := &Delete{Target: target}
	if p.acceptKeyword("WHERE") {
		if d.Where, err = p.expr(); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// dmlTarget reads the table of an UPDATE, FROM or DELETE with its AS and
// BY variables.
func (p *parser) dmlTarget() (*FromItem, error) {
	name, err := p.name("a table name")
	if err != nil {
		return nil, err
	}
	item := &FromItem{Source: &TableSource{Name: name}, Alias: name}
	if err := p.variables(item, false); err != nil {
		return nil, err
	}
	return item, nil
}

func (p *parser) updateOps() ([]UpdateOp, error) {
	var ops []UpdateOp
	for {
		switch {
		case p.acceptKeyword("SET"):
			for {
				path, err := p.path()
				if err != nil {
					return nil, err
				}
				if err := p.expectOp("="); err != nil {
					return nil, err
				}
				v, err := p.expr()
				if err != nil {
					return nil, err
				}
				ops = append(ops, UpdateOp{Kind: OpSet, Path: path, Value: v})
				if !p.acceptOp(",") {
					break
				}
			}
		case p.acceptKeyword("REMOVE"):
			path, err := p.path()
			if err != nil {
				return nil, err
			}
			ops = append(ops, UpdateOp{Kind: OpRemove, Path: path})
		case p.isKeyword("INSERT"):
			p.next()
			if err := p.expectKeyword("INTO"); err != nil {
				return nil, err
			}
			path, err := p.path()
			if err != nil {
				return nil, err
			}
			if err := p.expectKeyword("VALUE"); err != nil {
				return nil, err
			}
			v, err := p.expr()
			if err != nil {
				return nil, err
			}
			op := UpdateOp{Kind: OpInsertInto, Path: path, Value: v}
			if p.acceptKeyword("AT") {
				if op.At, err = p.expr(); err != nil {
					return nil, err
				}
			}
			ops = append(ops, op)
		default:
			if len(ops) == 0 {
				return nil, p.errExpected("SET, REMOVE or INSERT INTO")
			}
			return ops, nil
		}
	}
}

// path reads the target of an update operation: a name followed by steps.
func (p *parser) path() (Expr, error) {
	t := p.peek()
	name, err := p.name("a path")
	if err != nil {
		return nil, err
	}
	return p.postfix(&Ident{Name: name, Pos: t.pos})
}

func (p *parser) selectQuery() (*Select, error) {
	if err := p.expectKeyword("SELECT"); err != nil {
		return nil, err
	}
	s := &Select{}
	if t := p.peek(); t.keyword("DISTINCT") || t.keyword("ALL") {
		return nil, errToken(p.src, t, "SELECT DISTINCT and SELECT ALL are not supported by Quill")
	}
	switch {
	case p.acceptKeyword("VALUE"):
		v, err := p.expr()
		if err != nil {
			return nil, err
		}
		s.Value = v
	case p.acceptOp("*"):
		s.Star = true
	default:
		for {
			item, err := p.selectItem()
			if err != nil {
				return nil, err
			}
			s.Items = append(s.Items, item)
			if !p.acceptOp(",") {
				break
			}
		}
	}
	if err := p.expectKeyword("FROM"); err != nil {
		return nil, err
	}
	if err := p.from(s); err != nil {
		return nil, err
	}
	if p.acceptKeyword("WHERE") {
		w, err := p.expr()
		if err != nil {
			return nil, err
		}
		s.Where = w
	}
	for _, kw := range []string{"GROUP", "ORDER", "LIMIT", "OFFSET", "HAVING", "UNION", "INTERSECT", "EXCEPT", "LET"} {
		if t := p.peek(); t.keyword(kw) {
			return nil, errToken(p.src, t, kw+" is not supported by Quill (nor documented by QLDB)")
		}
	}
	return s, nil
}

func (p *parser) selectItem() (SelectItem, error) {
	pos := p.peek().pos
	e, err := p.expr()
	if err != nil {
		return SelectItem{}, err
	}
	item := SelectItem{Expr: e, pos: pos}
	if path, ok := e.(*Path); ok && len(path.Steps) > 0 && path.Steps[len(path.Steps)-1].Field == "*" {
		// x.* projects the fields of x.
		path.Steps = path.Steps[:len(path.Steps)-1]
		item.Star = true
		if len(path.Steps) == 0 {
			item.Expr = path.Root
		}
		return item, nil
	}
	if p.acceptKeyword("AS") {
		if item.Alias, err = p.name("an alias"); err != nil {
			return SelectItem{}, err
		}
	} else if t := p.peek(); t.kind == tokQuoted || t.kind == tokIdent && !reserved[strings.ToUpper(t.text)] {
		item.Alias = p.next().text
	}
	return item, nil
}

func (p *parser) from(s *Select) error {
	item, err := p.fromItem()
	if err != nil {
		return err
	}
	s.From = append(s.From, item)
	for {
		switch {
		case p.acceptOp(","):
			item, err := p.fromItem()
			if err != nil {
				return err
			}
			s.From = append(s.From, item)
		case p.isKeyword("CROSS"):
			p.next()
			if err := p.expectKeyword("JOIN"); err != nil {
				return err
			}
			item, err := p.fromItem()
			if err != nil {
				return err
			}
			s.From = append(s.From, item)
		case p.isKeyword("INNER") || p.isKeyword("JOIN"):
			if p.acceptKeyword("INNER") {
				if err := p.expectKeyword("JOIN"); err != nil {
					return err
				}
			} else {
				p.next()
			}
			item, err := p.fromItem()
			if err != nil {
				return err
			}
			item.Join = JoinInner
			if err := p.expectKeyword("ON"); err != nil {
				return err
			}
			if item.On, err = p.expr(); err != nil {
				return err
			}
			s.From = append(s.From, item)
		case p.isKeyword("LEFT") || p.isKeyword("RIGHT") || p.isKeyword("FULL") || p.isKeyword("OUTER"):
			return errToken(p.src, p.peek(), "outer joins are not supported by Quill; use INNER JOIN or a cross join")
		default:
			return nil
		}
	}
}

func (p *parser) fromItem() (*FromItem, error) {
	t := p.peek()
	item := &FromItem{}
	switch {
	case t.kind == tokOp && t.text == "(" && p.peekAt(1).keyword("SELECT"):
		p.next()
		q, err := p.selectQuery()
		if err != nil {
			return nil, err
		}
		if err := p.expectOp(")"); err != nil {
			return nil, err
		}
		item.Source = &SubquerySource{Query: q}
	case t.kind == tokIdent && strings.EqualFold(t.text, "history") && p.peekAt(1).kind == tokOp && p.peekAt(1).text == "(":
		h, err := p.history()
		if err != nil {
			return nil, err
		}
		item.Source = h
	default:
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		item.Source = p.classifySource(e)
		if ts, ok := item.Source.(*TableSource); ok && !ts.UserTables {
			item.Alias = ts.Name
			if ts.Committed {
				item.Alias = committedPrefix + ts.Name
			}
		}
	}
	return item, p.variables(item, true)
}

const committedPrefix = "_ql_committed_"

// classifySource tells a table name from an expression source. A bare
// name is a table (the executor turns it into a variable when an earlier
// item binds that name).
func (p *parser) classifySource(e Expr) Source {
	switch e := e.(type) {
	case *Ident:
		if name, ok := strings.CutPrefix(e.Name, committedPrefix); ok && name != "" {
			return &TableSource{Name: name, Committed: true}
		}
		return &TableSource{Name: e.Name}
	case *Path:
		if root, ok := e.Root.(*Ident); ok && strings.EqualFold(root.Name, "information_schema") &&
			len(e.Steps) == 1 && e.Steps[0].Index == nil && strings.EqualFold(e.Steps[0].Field, "user_tables") {
			return &TableSource{Name: "information_schema.user_tables", UserTables: true}
		}
	}
	return &ExprSource{Expr: e}
}

func (p *parser) history() (*HistorySource, error) {
	p.next()
	p.next() // (
	h := &HistorySource{}
	if t := p.peek(); t.kind == tokString {
		p.next()
		h.Table, h.ByID = t.text, true
	} else {
		name, err := p.name("a table name or a quoted table id")
		if err != nil {
			return nil, err
		}
		h.Table = name
	}
	for _, slot := range []*Expr{&h.Start, &h.End} {
		if !p.acceptOp(",") {
			break
		}
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		*slot = e
	}
	if err := p.expectOp(")"); err != nil {
		return nil, err
	}
	return h, nil
}

// variables reads [AS] alias, AT var (if positions: only a FROM clause of a
// SELECT has them) and BY var in any order.
func (p *parser) variables(item *FromItem, positions bool) error {
	for {
		t := p.peek()
		var slot *string
		var what string
		switch {
		case t.keyword("AS"):
			slot, what = &item.Alias, "an alias"
		case t.keyword("AT") && !positions:
			return errToken(p.src, t, "AT cannot be used on the table of an UPDATE, FROM or DELETE")
		case t.keyword("AT"):
			slot, what = &item.At, "a position variable"
		case t.keyword("BY"):
			slot, what = &item.By, "a document id variable"
		case t.kind == tokQuoted || t.kind == tokIdent && !reserved[strings.ToUpper(t.text)]:
			p.next()
			item.Alias = t.text
			continue
		default:
			return nil
		}
		p.next()
		name, err := p.name(what)
		if err != nil {
			return err
		}
		*slot = name
	}
}

// Expressions, from the loosest operator to the tightest.

func (p *parser) expr() (Expr, error) { return p.or() }

func (p *parser) or() (Expr, error) {
	return p.leftAssoc(p.and, func(t token) (string, bool) { return "OR", t.keyword("OR") })
}

func (p *parser) and() (Expr, error) {
	return p.leftAssoc(p.not, func(t token) (string, bool) { return "AND", t.keyword("AND") })
}

// leftAssoc parses operand (op operand)*, folding to the left, for the
// binary operators match accepts (it returns the operator's name).
func (p *parser) leftAssoc(operand func() (Expr, error), match func(token) (string, bool)) (Expr, error) {
	l, err := operand()
	if err != nil {
		return nil, err
	}
	for {
		op, ok := match(p.peek())
		if !ok {
			return l, nil
		}
		t := p.next()
		r, err := operand()
		if err != nil {
			return nil, err
		}
		l = &Binary{Op: op, L: l, R: r, Pos: t.pos}
	}
}

// operator matches a punctuation operator among ops.
func operator(ops ...string) func(token) (string, bool) {
	return func(t token) (string, bool) {
		return t.text, t.kind == tokOp && slices.Contains(ops, t.text)
	}
}

func (p *parser) not() (Expr, error) {
	if p.isKeyword("NOT") {
		t := p.next()
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		return &Unary{Op: "NOT", X: x, Pos: t.pos}, nil
	}
	return p.comparison()
}

func (p *parser) comparison() (Expr, error) {
	l, err := p.concat()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		switch {
		case t.kind == tokOp && (t.text == "=" || t.text == "<>" || t.text == "!=" || t.text == "<" || t.text == ">" || t.text == "<=" || t.text == ">="):
			p.next()
			r, err := p.concat()
			if err != nil {
				return nil, err
			}
			op := t.text
			if op == "!=" {
				op = "<>"
			}
			l = &Binary{Op: op, L: l, R: r, Pos: t.pos}
		case t.keyword("IS"):
			p.next()
			is := &Is{X: l, Pos: t.pos, Not: p.acceptKeyword("NOT")}
			switch {
			case p.acceptKeyword("NULL"):
			case p.acceptKeyword("MISSING"):
				is.Missing = true
			default:
				return nil, p.errExpected("NULL or MISSING")
			}
			l = is
		case t.keyword("NOT") && (p.peekAt(1).keyword("IN") || p.peekAt(1).keyword("BETWEEN") || p.peekAt(1).keyword("LIKE")):
			p.next()
			if l, err = p.predicate(l, true); err != nil {
				return nil, err
			}
		case t.keyword("IN") || t.keyword("BETWEEN") || t.keyword("LIKE"):
			if l, err = p.predicate(l, false); err != nil {
				return nil, err
			}
		default:
			return l, nil
		}
	}
}

func (p *parser) predicate(x Expr, not bool) (Expr, error) {
	t := p.next()
	switch {
	case t.keyword("IN"):
		in := &In{X: x, Not: not, Pos: t.pos}
		if p.isOp("(") && p.peekAt(1).keyword("SELECT") {
			p.next()
			q, err := p.selectQuery()
			if err != nil {
				return nil, err
			}
			if err := p.expectOp(")"); err != nil {
				return nil, err
			}
			in.Sub = q
			return in, nil
		}
		if p.acceptOp("(") {
			for !p.isOp(")") {
				e, err := p.expr()
				if err != nil {
					return nil, err
				}
				in.List = append(in.List, e)
				if !p.acceptOp(",") {
					break
				}
			}
			if err := p.expectOp(")"); err != nil {
				return nil, err
			}
			return in, nil
		}
		e, err := p.concat() // a list, a bag or a parameter
		if err != nil {
			return nil, err
		}
		in.Coll = e
		return in, nil
	case t.keyword("BETWEEN"):
		lo, err := p.concat()
		if err != nil {
			return nil, err
		}
		if err := p.expectKeyword("AND"); err != nil {
			return nil, err
		}
		hi, err := p.concat()
		if err != nil {
			return nil, err
		}
		return &Between{X: x, Lo: lo, Hi: hi, Not: not, Pos: t.pos}, nil
	default: // LIKE
		pat, err := p.concat()
		if err != nil {
			return nil, err
		}
		l := &Like{X: x, Pattern: pat, Not: not, Pos: t.pos}
		if p.acceptKeyword("ESCAPE") {
			if l.Escape, err = p.concat(); err != nil {
				return nil, err
			}
		}
		return l, nil
	}
}

func (p *parser) concat() (Expr, error) { return p.leftAssoc(p.additive, operator("||")) }

func (p *parser) additive() (Expr, error) { return p.leftAssoc(p.multiplicative, operator("+", "-")) }

func (p *parser) multiplicative() (Expr, error) {
	return p.leftAssoc(p.unary, operator("*", "/", "%"))
}

func (p *parser) unary() (Expr, error) {
	if p.isOp("-") || p.isOp("+") {
		t := p.next()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		if lit, ok := x.(*Literal); ok && t.text == "-" {
			if neg, ok := negate(lit.Value); ok {
				return &Literal{Value: neg, Pos: t.pos}, nil
			}
		}
		return &Unary{Op: t.text, X: x, Pos: t.pos}, nil
	}
	x, err := p.primary()
	if err != nil {
		return nil, err
	}
	return p.postfix(x)
}

// postfix reads the path steps after a primary expression.
func (p *parser) postfix(x Expr) (Expr, error) {
	var steps []Step
	for {
		switch {
		case p.isOp("."):
			p.next()
			t := p.peek()
			switch {
			case t.kind == tokOp && t.text == "*":
				p.next()
				steps = append(steps, Step{Field: "*"})
			case t.kind == tokIdent || t.kind == tokQuoted:
				p.next()
				steps = append(steps, Step{Field: t.text})
			default:
				return nil, p.errExpected("a field name after '.'")
			}
		case p.isOp("["):
			p.next()
			if p.isOp("*") {
				return nil, errToken(p.src, p.peek(), "path wildcards [*] are not supported by Quill")
			}
			idx, err := p.expr()
			if err != nil {
				return nil, err
			}
			if err := p.expectOp("]"); err != nil {
				return nil, err
			}
			if lit, ok := idx.(*Literal); ok && lit.Value.Type() == ion.StringType {
				steps = append(steps, Step{Field: lit.Value.Text()})
			} else {
				steps = append(steps, Step{Index: idx})
			}
		default:
			if len(steps) == 0 {
				return x, nil
			}
			for _, s := range steps[:len(steps)-1] {
				if s.Field == "*" && s.Index == nil {
					return nil, errAt(p.src, x.position(), "'.*' may only end a projection")
				}
			}
			return &Path{Root: x, Steps: steps, Pos: x.position()}, nil
		}
	}
}

func (p *parser) primary() (Expr, error) {
	t := p.peek()
	switch t.kind {
	case tokParam:
		p.next()
		p.params++
		return &Param{N: p.params - 1, Pos: t.pos}, nil
	case tokString:
		p.next()
		return &Literal{Value: ion.String(t.text), Pos: t.pos}, nil
	case tokNumber:
		p.next()
		v, err := parseNumber(t.text)
		if err != nil {
			return nil, errToken(p.src, t, err.Error())
		}
		return &Literal{Value: v, Pos: t.pos}, nil
	case tokIon:
		p.next()
		v, err := ion.ParseText(t.text)
		if err != nil {
			return nil, errToken(p.src, t, "not a valid Ion value: "+err.Error())
		}
		return &Literal{Value: v, Pos: t.pos}, nil
	case tokQuoted:
		p.next()
		return &Ident{Name: t.text, Pos: t.pos}, nil
	case tokAtIdent:
		p.next()
		return &Ident{Name: t.text, Pos: t.pos}, nil
	case tokOp:
		switch t.text {
		case "(":
			p.next()
			if p.isKeyword("SELECT") {
				q, err := p.selectQuery()
				if err != nil {
					return nil, err
				}
				if err := p.expectOp(")"); err != nil {
					return nil, err
				}
				return &Subquery{Query: q, Pos: t.pos}, nil
			}
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			if err := p.expectOp(")"); err != nil {
				return nil, err
			}
			return e, nil
		case "{":
			return p.structLit()
		case "[":
			return p.listLit("]", false)
		case "<<":
			return p.listLit(">>", true)
		}
	case tokIdent:
		upper := strings.ToUpper(t.text)
		switch upper {
		case "TRUE", "FALSE":
			p.next()
			return &Literal{Value: ion.Bool(upper == "TRUE"), Pos: t.pos}, nil
		case "NULL":
			p.next()
			return &Literal{Value: ion.Null(), Pos: t.pos}, nil
		case "MISSING":
			p.next()
			return &MissingLit{Pos: t.pos}, nil
		case "CAST":
			return p.cast()
		case "EXTRACT":
			return p.extract()
		}
		if p.peekAt(1).kind == tokOp && p.peekAt(1).text == "(" && !reserved[upper] {
			return p.call()
		}
		if reserved[upper] {
			return nil, errToken(p.src, t, "unexpected keyword")
		}
		p.next()
		return &Ident{Name: t.text, Pos: t.pos}, nil
	case tokEOF:
		return nil, errAt(p.src, t.pos, "expected an expression, found the end of the statement")
	}
	return nil, errToken(p.src, t, "expected an expression")
}

func (p *parser) structLit() (Expr, error) {
	t := p.next()
	s := &StructLit{Pos: t.pos}
	for !p.isOp("}") {
		var k Expr
		if kt := p.peek(); kt.kind == tokIdent && p.peekAt(1).kind == tokOp && p.peekAt(1).text == ":" {
			// An unquoted name as a key, as Ion text writes it.
			p.next()
			k = &Literal{Value: ion.String(kt.text), Pos: kt.pos}
		} else {
			var err error
			if k, err = p.expr(); err != nil {
				return nil, err
			}
		}
		if err := p.expectOp(":"); err != nil {
			return nil, err
		}
		v, err := p.expr()
		if err != nil {
			return nil, err
		}
		s.Keys, s.Values = append(s.Keys, k), append(s.Values, v)
		if !p.acceptOp(",") {
			break
		}
	}
	if err := p.expectOp("}"); err != nil {
		return nil, err
	}
	return s, nil
}

func (p *parser) listLit(closing string, bag bool) (Expr, error) {
	t := p.next()
	l := &ListLit{Bag: bag, Pos: t.pos}
	for !p.isOp(closing) {
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		l.Elems = append(l.Elems, e)
		if !p.acceptOp(",") {
			break
		}
	}
	if err := p.expectOp(closing); err != nil {
		return nil, err
	}
	return l, nil
}

func (p *parser) call() (Expr, error) {
	t := p.next()
	p.next() // (
	c := &Call{Name: strings.ToUpper(t.text), Pos: t.pos}
	if c.Name == "COUNT" && p.isOp("*") {
		p.next()
		c.Star = true
		return c, p.expectOp(")")
	}
	if t := p.peek(); t.keyword("DISTINCT") {
		return nil, errToken(p.src, t, "DISTINCT in aggregates is not supported by Quill")
	}
	for !p.isOp(")") {
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		c.Args = append(c.Args, e)
		if !p.acceptOp(",") {
			break
		}
	}
	if err := p.expectOp(")"); err != nil {
		return nil, err
	}
	if !knownFunction(c.Name) {
		return nil, errToken(p.src, t, "unknown function "+c.Name+" (Quill supports "+strings.Join(functionNames(), ", ")+")")
	}
	return c, nil
}

func (p *parser) cast() (Expr, error) {
	t := p.next()
	if err := p.expectOp("("); err != nil {
		return nil, err
	}
	x, err := p.expr()
	if err != nil {
		return nil, err
	}
	if err := p.expectKeyword("AS"); err != nil {
		return nil, err
	}
	tt := p.next()
	if tt.kind != tokIdent {
		return nil, errToken(p.src, tt, "expected a type name")
	}
	typ := strings.ToUpper(tt.text)
	if !castTypes[typ] {
		return nil, errToken(p.src, tt, "CAST supports "+strings.Join(castTypeNames(), ", "))
	}
	return &Cast{X: x, Type: typ, Pos: t.pos}, p.expectOp(")")
}

func (p *parser) extract() (Expr, error) {
	t := p.next()
	if err := p.expectOp("("); err != nil {
		return nil, err
	}
	pt := p.next()
	part := strings.ToUpper(pt.text)
	if pt.kind != tokIdent || !dateParts[part] {
		return nil, errToken(p.src, pt, "expected a date part: year, month, day, hour, minute, second, timezone_hour or timezone_minute")
	}
	if err := p.expectKeyword("FROM"); err != nil {
		return nil, err
	}
	x, err := p.expr()
	if err != nil {
		return nil, err
	}
	return &Extract{Part: part, X: x, Pos: t.pos}, p.expectOp(")")
}

func parseNumber(text string) (ion.Value, error) {
	switch {
	case strings.ContainsAny(text, "eE"):
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return ion.Value{}, err
		}
		return ion.Float(f), nil
	case strings.Contains(text, "."):
		d, err := amzion.ParseDecimal(text)
		if err != nil {
			return ion.Value{}, err
		}
		return ion.DecimalOf(d), nil
	}
	n, ok := new(big.Int).SetString(text, 10)
	if !ok {
		return ion.Value{}, strconv.ErrSyntax
	}
	return ion.BigInt(n), nil
}

// negate folds the sign into a numeric literal.
func negate(v ion.Value) (ion.Value, bool) {
	switch v.Type() {
	case ion.IntType:
		return ion.BigInt(new(big.Int).Neg(v.BigInt())), true
	case ion.DecimalType:
		return ion.DecimalOf(v.DecimalValue().Neg()), true
	case ion.FloatType:
		return ion.Float(-v.FloatValue()), true
	}
	return ion.Value{}, false
}
