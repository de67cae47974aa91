package partiql

import "github.com/quilldb/quill/ion"

// Statement is a parsed PartiQL statement: one of *CreateTable,
// *DropTable, *UndropTable, *CreateIndex, *DropIndex, *Insert, *Select,
// *Update (UPDATE and the FROM-DML forms) and *Delete.
type Statement interface{ statement() }

// CreateTable is CREATE TABLE name.
type CreateTable struct{ Name string }

// DropTable is DROP TABLE name.
type DropTable struct{ Name string }

// UndropTable is UNDROP TABLE "tableId".
type UndropTable struct{ TableID string }

// CreateIndex is CREATE INDEX ON table (field).
type CreateIndex struct{ Table, Field string }

// DropIndex is DROP INDEX "indexId" ON table WITH (purge = true).
type DropIndex struct{ IndexID, Table string }

// Insert is INSERT INTO table VALUE v, INSERT INTO table << v, ... >> or
// INSERT INTO table ?; Value yields a struct or a collection of structs.
type Insert struct {
	Table string
	Value Expr
	// Single is set for the VALUE form, whose value is one document even if
	// it is a list.
	Single bool
}

// Select is a SELECT query.
type Select struct {
	// Value is the expression of SELECT VALUE, nil otherwise.
	Value Expr
	// Items are the projections of SELECT a, b.c AS d, e.*; empty for *.
	Items []SelectItem
	Star  bool
	From  []*FromItem
	Where Expr
}

// SelectItem is one projection: Expr AS Alias, or Expr.* when Star.
type SelectItem struct {
	Expr  Expr
	Alias string
	Star  bool
	pos   int
}

// JoinKind says how a FROM item joins the items before it.
type JoinKind int

// Join kinds. Commas, CROSS JOIN and INNER JOIN ... ON are the same join
// with and without a condition.
const (
	JoinCross JoinKind = iota
	JoinInner
)

// FromItem is one source of a FROM clause with its variables.
type FromItem struct {
	Source Source
	Alias  string // AS alias; the table's name when omitted
	At     string // AT position variable
	By     string // BY document-id variable
	Join   JoinKind
	On     Expr // INNER JOIN ... ON condition
}

// Source is what a FROM item ranges over: *TableSource, *HistorySource,
// *SubquerySource or *ExprSource.
type Source interface{ source() }

// TableSource is a table by name: a user view, a committed view
// (_ql_committed_name) or information_schema.user_tables.
type TableSource struct {
	Name string
	// Committed is set for _ql_committed_ views; Name is then the table's.
	Committed bool
	// UserTables is set for information_schema.user_tables.
	UserTables bool
}

// HistorySource is history(table [, start [, end]]); Table is a name, or
// a table id when ByID.
type HistorySource struct {
	Table      string
	ByID       bool
	Start, End Expr // nil when omitted
}

// SubquerySource is a nested SELECT used as a source.
type SubquerySource struct{ Query *Select }

// ExprSource is any other expression: a path into an earlier variable, a
// bag or list literal, a parameter.
type ExprSource struct{ Expr Expr }

// Update is UPDATE table ... and FROM table ...: for each document that
// matches Where, the operations in order.
type Update struct {
	Target *FromItem
	Ops    []UpdateOp
	Where  Expr
}

// UpdateOp is one SET, REMOVE or INSERT INTO of an update.
type UpdateOp struct {
	Kind  UpdateKind
	Path  Expr
	Value Expr // SET and INSERT INTO
	At    Expr // INSERT INTO ... AT, nil when absent
}

// UpdateKind names an update operation.
type UpdateKind int

// The update operations.
const (
	OpSet UpdateKind = iota
	OpRemove
	OpInsertInto
)

// Delete is DELETE FROM table [AS a] [BY id] [WHERE ...].
type Delete struct {
	Target *FromItem
	Where  Expr
}

func (*CreateTable) statement() {}
func (*DropTable) statement()   {}
func (*UndropTable) statement() {}
func (*CreateIndex) statement() {}
func (*DropIndex) statement()   {}
func (*Insert) statement()      {}
func (*Select) statement()      {}
func (*Update) statement()      {}
func (*Delete) statement()      {}

func (*TableSource) source()    {}
func (*HistorySource) source()  {}
func (*SubquerySource) source() {}
func (*ExprSource) source()     {}

// Expr is an expression.
type Expr interface{ position() int }

type (
	// Literal is a constant.
	Literal struct {
		Value ion.Value
		Pos   int
	}
	// MissingLit is the literal MISSING.
	MissingLit struct{ Pos int }
	// Param is the Nth ? of the statement, from 0.
	Param struct {
		N   int
		Pos int
	}
	// Ident is a variable or, when no variable has its name, a field of the
	// FROM clause's values.
	Ident struct {
		Name string
		Pos  int
	}
	// Path is Root followed by field and index steps.
	Path struct {
		Root  Expr
		Steps []Step
		Pos   int
	}
	// Binary is L Op R for arithmetic, comparison, concatenation, AND, OR.
	Binary struct {
		Op   string
		L, R Expr
		Pos  int
	}
	// Unary is NOT X or -X.
	Unary struct {
		Op  string
		X   Expr
		Pos int
	}
	// In is X [NOT] IN (a, b), X [NOT] IN (SELECT ...) or X [NOT] IN
	// followed by a list, bag or parameter (Coll).
	In struct {
		X    Expr
		List []Expr
		Sub  *Select
		Coll Expr
		Not  bool
		Pos  int
	}
	// Is is X IS [NOT] NULL|MISSING.
	Is struct {
		X       Expr
		Missing bool
		Not     bool
		Pos     int
	}
	// Between is X [NOT] BETWEEN Lo AND Hi.
	Between struct {
		X, Lo, Hi Expr
		Not       bool
		Pos       int
	}
	// Like is X [NOT] LIKE Pattern [ESCAPE Escape].
	Like struct {
		X, Pattern, Escape Expr
		Not                bool
		Pos                int
	}
	// Call is a function or aggregate call; Star is COUNT(*).
	Call struct {
		Name string // upper case
		Args []Expr
		Star bool
		Pos  int
	}
	// Cast is CAST(X AS Type).
	Cast struct {
		X    Expr
		Type string // upper case
		Pos  int
	}
	// Extract is EXTRACT(Part FROM X).
	Extract struct {
		Part string // upper case
		X    Expr
		Pos  int
	}
	// StructLit is {k: v, ...}.
	StructLit struct {
		Keys, Values []Expr
		Pos          int
	}
	// ListLit is [a, b] or, when Bag, << a, b >>.
	ListLit struct {
		Elems []Expr
		Bag   bool
		Pos   int
	}
	// Subquery is a SELECT used as an expression (a bag of its rows).
	Subquery struct {
		Query *Select
		Pos   int
	}
)

// Step is one step of a path: .Field or [Index].
type Step struct {
	Field string
	Index Expr // nil for a field step
}

func (e *Literal) position() int    { return e.Pos }
func (e *MissingLit) position() int { return e.Pos }
func (e *Param) position() int      { return e.Pos }
func (e *Ident) position() int      { return e.Pos }
func (e *Path) position() int       { return e.Pos }
func (e *Binary) position() int     { return e.Pos }
func (e *Unary) position() int      { return e.Pos }
func (e *In) position() int         { return e.Pos }
func (e *Is) position() int         { return e.Pos }
func (e *Between) position() int    { return e.Pos }
func (e *Like) position() int       { return e.Pos }
func (e *Call) position() int       { return e.Pos }
func (e *Cast) position() int       { return e.Pos }
func (e *Extract) position() int    { return e.Pos }
func (e *StructLit) position() int  { return e.Pos }
func (e *ListLit) position() int    { return e.Pos }
func (e *Subquery) position() int   { return e.Pos }
