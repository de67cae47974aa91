package journal

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/quilldb/quill/internal/memo"
	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/merkle"
)

// TransactionInfo is a block's transactionInfo as QLDB writes it, in typed
// form: the journal hashes it from field digests, those of statement texts
// and tables kept between transactions, and writes it into the block body
// without building an Ion value (Transaction.TypedInfo). Its Ion form is
// Ion().
type TransactionInfo struct {
	Statements []StatementInfo
	// Documents are the documents the transaction wrote, in the order of
	// transactionInfo.documents; each id at most once.
	Documents []DocumentInfo
}

// StatementInfo is one entry of transactionInfo.statements.
type StatementInfo struct {
	Statement string
	StartTime time.Time // kept to the millisecond, UTC
	Digest    merkle.Hash
	text      *statementText // set by NewStatementInfo, else looked up
}

// DocumentInfo is one entry of transactionInfo.documents: the document
// with this id, of this table, written by these statements (indexes into
// TransactionInfo.Statements).
type DocumentInfo struct {
	ID                 string
	TableName, TableID string
	Statements         []int
}

// statementText is what a statement's text contributes to hashes, kept
// per text.
type statementText struct {
	hash  merkle.Hash // ion.Hash of the text as a string
	field [32]byte    // the field digest of statement: text
}

var statementTexts = memo.New[*statementText](4096)

func digestText(text string) (*statementText, error) {
	return statementTexts.Get(text, func() (*statementText, error) {
		if !utf8.ValidString(text) {
			return nil, fmt.Errorf("statement %q is not valid UTF-8", text)
		}
		return &statementText{hash: merkle.Hash(ion.Hash(ion.String(text))),
			field: ion.FieldDigest("statement", ion.String(text))}, nil
	})
}

// NewStatementInfo returns the entry of a statement that started at start
// with parameters of the given Ion hashes. Its digest is computed as QLDB's
// drivers compute statementDigest: H(text) folded with dot over the
// parameters' hashes (docs/formats.md). A text that is not UTF-8 is an
// error.
func NewStatementInfo(text string, start time.Time, params ...merkle.Hash) (StatementInfo, error) {
	st, err := digestText(text)
	if err != nil {
		return StatementInfo{}, err
	}
	d := st.hash
	for _, p := range params {
		d = merkle.Dot(d, p)
	}
	return StatementInfo{Statement: text, StartTime: start, Digest: d, text: st}, nil
}

// tableDigests are the field digests a table contributes to the entries of
// its documents, kept per table id (a table's id and name never change).
type tableDigests struct {
	name     string
	nameHash [32]byte // the field digest of tableName: name
	idHash   [32]byte // the field digest of tableId: id
}

var tables = memo.New[*tableDigests](4096)

func digestTable(id, name string) (*tableDigests, error) {
	compute := func() (*tableDigests, error) {
		if !utf8.ValidString(id) || !utf8.ValidString(name) {
			return nil, fmt.Errorf("table %q (%q) is not valid UTF-8", name, id)
		}
		return &tableDigests{name: name, nameHash: ion.FieldDigest("tableName", ion.String(name)),
			idHash: ion.FieldDigest("tableId", ion.String(id))}, nil
	}
	td, err := tables.Get(id, compute)
	if err == nil && td.name != name {
		return compute() // a caller reusing an id for another name: not kept
	}
	return td, err
}

// firstStatementOnly is the digest of statements: [0], the entry of a
// document in a transaction of one statement.
var firstStatementOnly = ion.FieldDigest("statements", ion.List(ion.Int(0)))

func statementIndexes(indexes []int) ion.Value {
	idx := make([]ion.Value, len(indexes))
	for i, s := range indexes {
		idx[i] = ion.Int(int64(s))
	}
	return ion.List(idx...)
}

// digests returns the kept digests of a statement's text.
func (s *StatementInfo) digests() (*statementText, error) {
	if s.text != nil {
		return s.text, nil
	}
	return digestText(s.Statement)
}

// hash validates ti, what its Ion value's encoding needs (UTF-8 text,
// documents' ids as symbols, each once) and what QLDB's form implies
// (statement indexes that exist), and returns ion.Hash(ti.Ion()) made from
// field digests: for a one-statement one-document transaction 6 SHA-256s
// instead of 12, and no value built.
func (ti *TransactionInfo) hash() (merkle.Hash, error) {
	stmts := make([][][32]byte, len(ti.Statements))
	for i := range ti.Statements {
		s := &ti.Statements[i]
		text, err := s.digests()
		if err != nil {
			return merkle.Hash{}, fmt.Errorf("statements[%d]: %w", i, err)
		}
		stmts[i] = [][32]byte{text.field,
			ion.SystemTimeFieldDigest("startTime", s.StartTime),
			ion.FieldDigest("statementDigest", ion.Blob(s.Digest[:]))}
	}
	fields := make([][32]byte, 1, 2)
	fields[0] = ion.StructListFieldDigest("statements", stmts...)
	if len(ti.Documents) == 0 {
		return merkle.Hash(ion.StructHash(fields...)), nil
	}
	docs := make([][32]byte, len(ti.Documents))
	listed := newRepeats(len(ti.Documents), func(i int) string { return ti.Documents[i].ID })
	for i, d := range ti.Documents {
		if err := ion.ValidateID(d.ID); err != nil {
			return merkle.Hash{}, fmt.Errorf("documents[%d]: %w", i, err)
		}
		if listed.at(i) {
			return merkle.Hash{}, fmt.Errorf("documents[%d]: document %s is listed twice", i, d.ID)
		}
		table, err := digestTable(d.TableID, d.TableName)
		if err != nil {
			return merkle.Hash{}, fmt.Errorf("documents[%d]: %w", i, err)
		}
		for _, s := range d.Statements {
			if s < 0 || s >= len(ti.Statements) {
				return merkle.Hash{}, fmt.Errorf("documents[%d]: statement %d does not exist", i, s)
			}
		}
		idx := firstStatementOnly
		if len(d.Statements) != 1 || d.Statements[0] != 0 {
			idx = ion.FieldDigest("statements", statementIndexes(d.Statements))
		}
		docs[i] = ion.StructFieldDigest(d.ID, table.nameHash, table.idHash, idx)
	}
	fields = append(fields, ion.StructFieldDigest("documents", docs...))
	return merkle.Hash(ion.StructHash(fields...)), nil
}

// repeats tells, for each of a list of ids in turn, whether it repeats an
// earlier one: by scanning the earlier ones while the list is short (a
// transaction writes a document or two: no map to allocate), by a map
// beyond. at must be asked for every index, in order.
type repeats struct {
	id   func(i int) string
	seen map[string]bool
}

func newRepeats(n int, id func(i int) string) repeats {
	r := repeats{id: id}
	if n > 8 {
		r.seen = make(map[string]bool, n)
	}
	return r
}

func (r repeats) at(i int) bool {
	id := r.id(i)
	if r.seen != nil {
		seen := r.seen[id]
		r.seen[id] = true
		return seen
	}
	for j := range i {
		if r.id(j) == id {
			return true
		}
	}
	return false
}

// write writes ti into a block body, as Ion() would be encoded. Its
// documents' ids must be the writer's first local symbols, in order.
func (ti *TransactionInfo) write(w *ion.BinaryWriter) {
	w.BeginStruct()
	w.FieldSID(sidStatements)
	w.BeginList()
	for _, s := range ti.Statements {
		w.BeginStruct()
		w.FieldSID(sidStatement)
		w.String(s.Statement)
		w.FieldSID(sidStartTime)
		w.SystemTime(s.StartTime)
		w.FieldSID(sidStatementDigest)
		w.Blob(s.Digest[:])
		w.End()
	}
	w.End()
	if len(ti.Documents) > 0 {
		w.FieldSID(sidDocuments)
		w.BeginStruct()
		for i, d := range ti.Documents {
			w.FieldSID(w.LocalSID(i))
			w.BeginStruct()
			w.FieldSID(sidTableName)
			w.String(d.TableName)
			w.FieldSID(sidTableID)
			w.String(d.TableID)
			w.FieldSID(sidStatements)
			w.BeginList()
			for _, s := range d.Statements {
				w.Int(int64(s))
			}
			w.End()
			w.End()
		}
		w.End()
	}
	w.End()
}

// Ion returns transactionInfo as an Ion value: {statements: [{statement,
// startTime, statementDigest}, ...], documents: {id: {tableName, tableId,
// statements: [index, ...]}, ...}}, documents only if there are some.
func (ti *TransactionInfo) Ion() ion.Value {
	stmts := make([]ion.Value, len(ti.Statements))
	for i, s := range ti.Statements {
		stmts[i] = ion.StructOf([]ion.Field{
			{Name: symStatement, Value: ion.String(s.Statement)},
			{Name: symStartTime, Value: ion.SystemTime(s.StartTime)},
			{Name: symStatementDigest, Value: ion.Blob(s.Digest[:])}})
	}
	fields := make([]ion.Field, 1, 2)
	fields[0] = ion.Field{Name: symStatements, Value: ion.List(stmts...)}
	if len(ti.Documents) > 0 {
		docs := make([]ion.Field, len(ti.Documents))
		for i, d := range ti.Documents {
			docs[i] = ion.Field{Name: ion.Sym(d.ID), Value: ion.StructOf([]ion.Field{
				{Name: symTableName, Value: ion.String(d.TableName)},
				{Name: symTableID, Value: ion.String(d.TableID)},
				{Name: symStatements, Value: statementIndexes(d.Statements)}})}
		}
		fields = append(fields, ion.Field{Name: symDocuments, Value: ion.StructOf(docs)})
	}
	return ion.StructOf(fields)
}

// The field names of transactionInfo, made once.
var (
	symStatement, symStartTime, symStatementDigest = ion.Sym("statement"), ion.Sym("startTime"), ion.Sym("statementDigest")
	symStatements, symDocuments, symTableName      = ion.Sym("statements"), ion.Sym("documents"), ion.Sym("tableName")
	symTableID                                     = ion.Sym("tableId")
)
