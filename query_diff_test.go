package quill

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/quilldb/quill/ion"
	"github.com/stretchr/testify/require"
)

// A differential test of the PartiQL subset: random documents in a real
// ledger (with indexes, so that index and id access paths are used), random
// WHERE clauses, and each answer compared with a naive evaluator written
// here, independently of package partiql, over the same documents.

// naiveValue is a field's value in the naive model; missing is absent.
type naiveValue struct {
	missing bool
	null    bool
	kind    string // "num", "str", "bool"
	num     float64
	str     string
	sym     bool // a text written as an Ion symbol
	b       bool
}

func (v naiveValue) ion() string {
	switch {
	case v.null:
		return "null"
	case v.kind == "num":
		if v.num == float64(int64(v.num)) {
			return fmt.Sprint(int64(v.num))
		}
		return fmt.Sprintf("%ge0", v.num)
	case v.kind == "str" && v.sym:
		return v.str
	case v.kind == "str":
		return fmt.Sprintf("%q", v.str)
	}
	return fmt.Sprint(v.b)
}

// partiqlLiteral writes the value as a PartiQL literal.
func (v naiveValue) partiql() string {
	switch {
	case v.null:
		return "NULL"
	case v.kind == "str" && v.sym:
		return "`" + v.str + "`"
	case v.kind == "str":
		return "'" + v.str + "'"
	case v.kind == "num" && v.num != float64(int64(v.num)):
		return fmt.Sprintf("`%ge0`", v.num)
	}
	return v.ion()
}

type tri int

const (
	tUnknown tri = iota
	tFalse
	tTrue
)

func triOf(b bool) tri {
	if b {
		return tTrue
	}
	return tFalse
}

func naiveCompare(a, b naiveValue) (int, bool) {
	if a.missing || b.missing || a.null || b.null || a.kind != b.kind {
		return 0, false
	}
	switch a.kind {
	case "num":
		switch {
		case a.num < b.num:
			return -1, true
		case a.num > b.num:
			return 1, true
		}
		return 0, true
	case "str":
		return strings.Compare(a.str, b.str), true
	}
	switch {
	case a.b == b.b:
		return 0, true
	case !a.b:
		return -1, true
	}
	return 1, true
}

func naiveEqual(a, b naiveValue) tri {
	if a.missing || b.missing || a.null || b.null {
		return tUnknown
	}
	c, ok := naiveCompare(a, b)
	return triOf(ok && c == 0)
}

func naiveAnd(a, b tri) tri {
	switch {
	case a == tFalse || b == tFalse:
		return tFalse
	case a == tTrue && b == tTrue:
		return tTrue
	}
	return tUnknown
}

func naiveOr(a, b tri) tri {
	switch {
	case a == tTrue || b == tTrue:
		return tTrue
	case a == tFalse && b == tFalse:
		return tFalse
	}
	return tUnknown
}

func naiveNot(a tri) tri {
	switch a {
	case tTrue:
		return tFalse
	case tFalse:
		return tTrue
	}
	return tUnknown
}

// pred is a random condition with its PartiQL text and its naive meaning.
type pred struct {
	text string
	eval func(doc map[string]naiveValue) tri
}

var diffFields = []string{"s", "b", "n", "m"}

func randomValue(r *rand.Rand, field string) naiveValue {
	switch r.IntN(12) {
	case 0:
		return naiveValue{missing: true}
	case 1:
		return naiveValue{null: true}
	}
	switch field {
	case "s":
		// Strings and symbols compare by text (and the index finds both).
		return naiveValue{kind: "str", str: []string{"x", "y", "z"}[r.IntN(3)], sym: r.IntN(4) == 0}
	case "b":
		return naiveValue{kind: "bool", b: r.IntN(2) == 0}
	case "n":
		return naiveValue{kind: "num", num: float64(r.IntN(5))}
	}
	// m mixes types: numbers (some with a half, as floats), strings, bools.
	switch r.IntN(4) {
	case 0:
		return naiveValue{kind: "num", num: float64(r.IntN(4))}
	case 1:
		return naiveValue{kind: "num", num: float64(r.IntN(4)) + 0.5}
	case 2:
		return naiveValue{kind: "str", str: []string{"x", "y", "2"}[r.IntN(3)]}
	}
	return naiveValue{kind: "bool", b: r.IntN(2) == 0}
}

func randomPred(r *rand.Rand, depth int) pred {
	if depth > 0 && r.IntN(3) > 0 {
		a, b := randomPred(r, depth-1), randomPred(r, depth-1)
		switch r.IntN(3) {
		case 0:
			return pred{"(" + a.text + " AND " + b.text + ")", func(d map[string]naiveValue) tri { return naiveAnd(a.eval(d), b.eval(d)) }}
		case 1:
			return pred{"(" + a.text + " OR " + b.text + ")", func(d map[string]naiveValue) tri { return naiveOr(a.eval(d), b.eval(d)) }}
		}
		return pred{"NOT " + a.text, func(d map[string]naiveValue) tri { return naiveNot(a.eval(d)) }}
	}
	f := diffFields[r.IntN(len(diffFields))]
	ref := "t." + f
	if r.IntN(2) == 0 {
		ref = f // unqualified: a field of the only FROM item
	}
	c := randomValue(r, f)
	for c.missing {
		c = randomValue(r, f)
	}
	c2 := randomValue(r, f)
	for c2.missing {
		c2 = randomValue(r, f)
	}
	switch r.IntN(8) {
	case 0:
		return pred{ref + " = " + c.partiql(), func(d map[string]naiveValue) tri { return naiveEqual(d[f], c) }}
	case 1:
		return pred{ref + " <> " + c.partiql(), func(d map[string]naiveValue) tri { return naiveNot(naiveEqual(d[f], c)) }}
	case 2, 3:
		op := []string{"<", ">", "<=", ">="}[r.IntN(4)]
		return pred{ref + " " + op + " " + c.partiql(), func(d map[string]naiveValue) tri {
			cmp, ok := naiveCompare(d[f], c)
			if !ok {
				return tUnknown
			}
			return triOf(map[string]bool{"<": cmp < 0, ">": cmp > 0, "<=": cmp <= 0, ">=": cmp >= 0}[op])
		}}
	case 4:
		return pred{ref + " IN (" + c.partiql() + ", " + c2.partiql() + ")", func(d map[string]naiveValue) tri {
			return naiveOr(naiveEqual(d[f], c), naiveEqual(d[f], c2))
		}}
	case 5:
		return pred{ref + " IS NULL", func(d map[string]naiveValue) tri { return triOf(d[f].missing || d[f].null) }}
	case 6:
		return pred{ref + " IS NOT MISSING", func(d map[string]naiveValue) tri { return triOf(!d[f].missing) }}
	}
	return pred{ref + " BETWEEN " + c.partiql() + " AND " + c2.partiql(), func(d map[string]naiveValue) tri {
		lo, ok1 := naiveCompare(d[f], c)
		hi, ok2 := naiveCompare(d[f], c2)
		return naiveAnd(map[bool]tri{true: triOf(lo >= 0), false: tUnknown}[ok1], map[bool]tri{true: triOf(hi <= 0), false: tUnknown}[ok2])
	}}
}

func TestPartiQLAgreesWithANaiveEvaluator(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, nil)
	l := newLedger(t, db, "l")
	run1(t, l, "CREATE TABLE T")
	run1(t, l, "CREATE INDEX ON T (s)")
	run1(t, l, "CREATE INDEX ON T (b)")
	r := rand.New(rand.NewPCG(uint64(len(t.Name())), 42))
	var docs []map[string]naiveValue
	for k := range 120 {
		doc := map[string]naiveValue{}
		fields := []string{fmt.Sprintf("k:%d", k)}
		for _, f := range diffFields {
			v := randomValue(r, f)
			doc[f] = v
			if !v.missing {
				fields = append(fields, f+":"+v.ion())
			}
		}
		docs = append(docs, doc)
		v, err := ion.ParseText("{" + strings.Join(fields, ",") + "}")
		require.NoError(t, err)
		require.NoError(t, l.Execute(ctx, func(tx *Tx) error {
			_, err := tx.Query("INSERT INTO T ?", v)
			return err
		}))
	}
	for i := range 400 {
		p := randomPred(r, 3)
		stmt := "SELECT VALUE t.k FROM T AS t WHERE " + p.text
		want := []string{}
		for k, d := range docs {
			if p.eval(d) == tTrue {
				want = append(want, fmt.Sprint(k))
			}
		}
		got := run1(t, l, stmt)
		slices.Sort(got)
		slices.Sort(want)
		require.Equal(t, want, got, "query %d: %s", i, stmt)
		count := run1(t, l, "SELECT VALUE COUNT(*) FROM T AS t WHERE "+p.text)
		require.Equal(t, []string{fmt.Sprint(len(want))}, count, stmt)
	}
}
