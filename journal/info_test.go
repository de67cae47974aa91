package journal

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/merkle"
	"github.com/stretchr/testify/require"
)

// randomTypedTransaction makes a transaction with a typed transactionInfo
// of every shape: statements with and without parameters, texts seen
// before and new ones, documents of several tables changed by one or
// several statements, deletes, no documents at all.
func randomTypedTransaction(t *testing.T, rng *rand.Rand) *Transaction {
	texts := []string{"INSERT INTO Person ?", "UPDATE Person SET x = ? WHERE y = 'ü'", "SELECT * FROM Person", "DELETE FROM Car"}
	tables := [][2]string{{"5PLf9SXwndd63lPaSIa0O6", "Person"}, {"JUJgkIcNbhS2goq8RqLuZ4", "Car"}, {"IiPT4brpZCqCq3f4MTHbYy", "Ünïcode_table"}}
	start := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(1e9)) * time.Microsecond)
	info := &TransactionInfo{}
	for i := range 1 + rng.IntN(4) {
		var params []merkle.Hash
		for range rng.IntN(3) {
			params = append(params, merkle.Hash(ion.Hash(ion.Int(rng.Int64()))))
		}
		text := texts[rng.IntN(len(texts))]
		if rng.IntN(4) == 0 {
			text = fmt.Sprintf("SELECT * FROM T%d", rng.IntN(100000)) // a text not seen before
		}
		s, err := NewStatementInfo(text, start.Add(time.Duration(i*rng.IntN(5000))*time.Millisecond), params...)
		require.NoError(t, err)
		if rng.IntN(5) == 0 {
			s.text = nil // made by hand, not by NewStatementInfo
		}
		info.Statements = append(info.Statements, s)
	}
	tx := &Transaction{ID: ion.NewID(), Time: start, TypedInfo: info}
	for range rng.IntN(5) {
		tbl := tables[rng.IntN(len(tables))]
		d := DocumentInfo{ID: ion.NewTimeOrderedID(start), TableID: tbl[0], TableName: tbl[1]}
		for range 1 + rng.IntN(3) {
			d.Statements = append(d.Statements, rng.IntN(len(info.Statements)))
		}
		info.Documents = append(info.Documents, d)
		rev := RevisionInput{DocumentID: d.ID, Version: rng.Int64N(1000), Deleted: rng.IntN(4) == 0}
		if !rev.Deleted {
			doc := ion.Struct(ion.F("n", ion.Int(rng.Int64())), ion.F("s", ion.String("ü")))
			h := merkle.Hash(ion.Hash(doc))
			rev.DataHash, rev.DataBinary = &h, ion.AppendBinary(nil, doc)
			if rng.IntN(8) == 0 {
				// Data inside the body: the body is built from values.
				rev.Data, rev.DataBinary = doc, nil
			}
		}
		tx.Revisions = append(tx.Revisions, rev)
	}
	return tx
}

// A typed transactionInfo is hashed from field digests and its body
// written without values: both must be what the Ion value gives, the
// hash ion.Hash of it, the body byte for byte the encoder's.
func TestTypedInfoIsHashedAndWrittenAsItsIonValue(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for round := range 500 {
		tx := randomTypedTransaction(t, rng)
		typed, err := prepare(tx, time.Time{}, -1)
		require.NoError(t, err)
		asValue := *tx
		asValue.TypedInfo, asValue.Info = nil, tx.TypedInfo.Ion()
		valued, err := prepare(&asValue, time.Time{}, -1)
		require.NoError(t, err)
		require.Equal(t, merkle.Hash(ion.Hash(asValue.Info)), typed.entries[len(typed.entries)-1], "round %d", round)
		require.Equal(t, valued.entries, typed.entries, "round %d", round)
		require.Equal(t, valued.revHashes, typed.revHashes, "round %d", round)
		require.Equal(t, valued.skeleton, typed.skeleton, "round %d", round)
		require.Equal(t, valued.body, typed.body, "round %d", round)
		require.Equal(t, valued.dataRefs, typed.dataRefs, "round %d", round)
	}
}

// Revision metadata is hashed from field digests: the hashes must be those
// of QLDB's rule, H(metadata) dot H(data), with metadata as a value.
func TestRevisionHashesFollowQLDBsRule(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100 {
		tx := randomTypedTransaction(t, rng)
		p, err := prepare(tx, time.Time{}, -1)
		require.NoError(t, err)
		for i, r := range tx.Revisions {
			meta := merkle.Hash(ion.Hash(ion.Struct(ion.F("id", ion.String(r.DocumentID)), ion.F("version", ion.Int(r.Version)),
				ion.F("txTime", ion.SystemTime(tx.Time)), ion.F("txId", ion.String(tx.ID)))))
			want := meta
			if !r.Deleted {
				want = merkle.Dot(meta, *r.DataHash)
			}
			require.Equal(t, want, p.revHashes[i])
		}
	}
}

func TestTypedInfoIsChecked(t *testing.T) {
	ok, err := NewStatementInfo("SELECT 1", time.Now())
	require.NoError(t, err)
	_, err = NewStatementInfo("SELECT '\xff'", time.Now())
	require.ErrorContains(t, err, "not valid UTF-8")
	id := ion.NewID()
	for name, c := range map[string]struct {
		tx   Transaction
		want string
	}{
		"both":            {Transaction{Info: ion.Struct(), TypedInfo: &TransactionInfo{}}, "Info or TypedInfo, not both"},
		"statement utf-8": {Transaction{TypedInfo: &TransactionInfo{Statements: []StatementInfo{{Statement: "\xff"}}}}, "statements[0]: statement"},
		"document id":     {Transaction{TypedInfo: &TransactionInfo{Statements: []StatementInfo{ok}, Documents: []DocumentInfo{{ID: "short", TableID: id, TableName: "T", Statements: []int{0}}}}}, "documents[0]: ion: invalid id"},
		"twice": {Transaction{TypedInfo: &TransactionInfo{Statements: []StatementInfo{ok}, Documents: []DocumentInfo{
			{ID: id, TableID: id, TableName: "T", Statements: []int{0}}, {ID: id, TableID: id, TableName: "T", Statements: []int{0}}}}}, "documents[1]: document " + id + " is listed twice"},
		"statement index": {Transaction{TypedInfo: &TransactionInfo{Statements: []StatementInfo{ok}, Documents: []DocumentInfo{{ID: id, TableID: id, TableName: "T", Statements: []int{1}}}}}, "documents[0]: statement 1 does not exist"},
		"table utf-8":     {Transaction{TypedInfo: &TransactionInfo{Statements: []StatementInfo{ok}, Documents: []DocumentInfo{{ID: id, TableID: ion.NewID(), TableName: "\xff", Statements: []int{0}}}}}, "is not valid UTF-8"},
	} {
		_, err := prepare(&c.tx, time.Now(), -1)
		require.ErrorIs(t, err, ErrInvalidTransaction, name)
		require.ErrorContains(t, err, c.want, name)
	}
}

// repeats answers alike whether it scans (few ids) or keeps a map (many).
func TestRepeatsFindsTheFirstRepeatInBothModes(t *testing.T) {
	for _, n := range []int{2, 8, 9, 40} {
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprint("id", i)
		}
		ids[n-1] = ids[n/2-1] // the last repeats one in the middle
		r := newRepeats(n, func(i int) string { return ids[i] })
		for i := range n {
			require.Equal(t, i == n-1, r.at(i), "n %d, id %d", n, i)
		}
	}
}
