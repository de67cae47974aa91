package quill

import (
	"time"

	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/merkle"
)

// statement is one entry of a block's transactionInfo.statements.
type statement struct {
	text   string
	start  time.Time
	digest merkle.Hash
}

// newStatement computes the statement digest as the QLDB drivers do:
// H(statement text) folded with dot over H(parameter) for each parameter.
// QLDB never published a block of a parameterised statement, so this rule
// is the spec's most likely one (docs/formats.md).
func newStatement(text string, start time.Time, params []merkle.Hash) statement {
	d := merkle.Hash(ion.Hash(ion.String(text)))
	for _, p := range params {
		d = merkle.Dot(d, p)
	}
	return statement{text: text, start: start, digest: d}
}

// The field names of transactionInfo, made once.
var (
	symStatement, symStartTime, symStatementDigest = ion.Sym("statement"), ion.Sym("startTime"), ion.Sym("statementDigest")
	symStatements, symDocuments, symTableName      = ion.Sym("statements"), ion.Sym("documents"), ion.Sym("tableName")
	symTableID                                     = ion.Sym("tableId")
)

func (s statement) ion() ion.Value {
	return ion.StructOf([]ion.Field{
		{Name: symStatement, Value: ion.String(s.text)},
		{Name: symStartTime, Value: ion.SystemTime(s.start)},
		{Name: symStatementDigest, Value: ion.Blob(s.digest[:])}})
}
