package partiql

import (
	"strings"
	"testing"

	"github.com/quilldb/quill/ion"
	"github.com/stretchr/testify/require"
)

// run executes a statement with Ion-text parameters and returns the rows
// as Ion text, sorted (results are bags).
func run(t *testing.T, s *memStore, stmt string, params ...string) ([]string, Stats) {
	t.Helper()
	rows, stats, err := tryRun(s, stmt, params...)
	require.NoError(t, err, stmt)
	return rows, stats
}

func tryRun(s *memStore, stmt string, params ...string) ([]string, Stats, error) {
	p, err := Parse(stmt)
	if err != nil {
		return nil, Stats{}, err
	}
	vals := make([]ion.Value, len(params))
	for i, text := range params {
		v, err := ion.ParseText(text)
		if err != nil {
			return nil, Stats{}, err
		}
		vals[i] = v
	}
	res, err := Execute(p, vals, s)
	if err != nil {
		return nil, Stats{}, err
	}
	out := make([]string, len(res.Values))
	for i, v := range res.Values {
		out[i] = strings.TrimSpace(v.String())
	}
	return sortedStrings(out), res.Stats, nil
}

func sortedStrings(s []string) []string {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}

func tutorialStore(t *testing.T) *memStore {
	s := newMemStore()
	for _, stmt := range []string{"CREATE TABLE Person", "CREATE TABLE Vehicle", "CREATE TABLE VehicleRegistration",
		"CREATE INDEX ON Person (GovId)", "CREATE INDEX ON Vehicle (VIN)", "CREATE INDEX ON VehicleRegistration (VIN)"} {
		run(t, s, stmt)
	}
	run(t, s, "INSERT INTO Person ?", `[{FirstName:"Raul",GovId:"P1",Age:30},{FirstName:"Brent",GovId:"P2",Age:41.0}]`)
	run(t, s, "INSERT INTO Vehicle << {'VIN': 'V1', 'Make': 'Tesla', 'Year': 2012}, {'VIN': 'V2', 'Make': 'Ford', 'Year': 2015} >>")
	run(t, s, `INSERT INTO VehicleRegistration VALUE {'VIN': 'V1', 'Owners': {'PrimaryOwner': {'PersonId': 'doc0001'}, 'SecondaryOwners': []}}`)
	run(t, s, `INSERT INTO VehicleRegistration VALUE {'VIN': 'V2', 'Owners': {'PrimaryOwner': {'PersonId': 'doc0002'}, 'SecondaryOwners': []}}`)
	return s
}

func TestSelectForms(t *testing.T) {
	s := tutorialStore(t)
	cases := []struct {
		name, stmt string
		params     []string
		want       []string
	}{
		{"star", "SELECT * FROM Person AS p WHERE p.GovId = ?", []string{`"P1"`}, []string{`{FirstName:"Raul",GovId:"P1",Age:30}`}},
		{"value", "SELECT VALUE v.Make FROM Vehicle AS v", nil, []string{`"Ford"`, `"Tesla"`}},
		{"unqualified", "SELECT FirstName FROM Person WHERE Age = 41", nil, []string{`{FirstName:"Brent"}`}},
		{"numbers by value", "SELECT VALUE FirstName FROM Person WHERE Age >= 30.0 AND Age < 41.5", nil, []string{`"Brent"`, `"Raul"`}},
		{"by id", "SELECT p.FirstName FROM Person AS p BY pid WHERE pid = ?", []string{`"doc0002"`}, []string{`{FirstName:"Brent"}`}},
		{"project by var", "SELECT pid FROM Person AS p BY pid WHERE p.GovId = 'P1'", nil, []string{`{pid:"doc0001"}`}},
		{"nested path", "SELECT Owners.PrimaryOwner.PersonId FROM VehicleRegistration AS v WHERE v.VIN = ?", []string{`"V2"`}, []string{`{PersonId:"doc0002"}`}},
		{"join", "SELECT Vehicle FROM Vehicle INNER JOIN VehicleRegistration AS r ON Vehicle.VIN = r.VIN WHERE r.Owners.PrimaryOwner.PersonId = ?",
			[]string{`"doc0001"`}, []string{`{Vehicle:{VIN:"V1",Make:"Tesla",Year:2012}}`}},
		{"cross join count", "SELECT COUNT(*) FROM Person AS a, Person AS b", nil, []string{`{_1:4}`}},
		{"in", "SELECT VALUE GovId FROM Person WHERE GovId IN (?, 'P9')", []string{`"P2"`}, []string{`"P2"`}},
		{"is missing", "SELECT VALUE GovId FROM Person WHERE Nope IS MISSING AND Nope IS NULL", nil, []string{`"P1"`, `"P2"`}},
		{"between like", "SELECT VALUE Make FROM Vehicle WHERE Year BETWEEN 2010 AND 2013 OR Make LIKE 'F_r%'", nil, []string{`"Ford"`, `"Tesla"`}},
		{"aggregates", "SELECT COUNT(*) AS n, SUM(Year) AS s, MIN(Make) AS lo, MAX(Year) AS hi, AVG(Year) AS a FROM Vehicle", nil,
			[]string{`{n:2,s:4027,lo:"Ford",hi:2015,a:2013.5}`}},
		{"subquery source", "SELECT VALUE x.Make FROM (SELECT v.Make FROM Vehicle AS v WHERE v.Year > 2014) AS x", nil, []string{`"Ford"`}},
		{"user tables", "SELECT VALUE name FROM information_schema.user_tables WHERE status = 'ACTIVE'", nil, []string{`"Person"`, `"Vehicle"`, `"VehicleRegistration"`}},
		{"index expr", "SELECT VALUE indexes[0] FROM information_schema.user_tables WHERE name = 'Vehicle'", nil, []string{`{expr:"[VIN]"}`}},
		{"committed", "SELECT metadata.id FROM _ql_committed_Vehicle WHERE data.VIN = 'V2'", nil, []string{`{id:"doc0004"}`}},
		{"utcnow", "SELECT VALUE CHAR_LENGTH(UPPER('abc')) FROM << 0 >>", nil, []string{`3`}},
		{"functions", "SELECT VALUE [SUBSTRING('hello', 2, 3), COALESCE(NULL, MISSING, 'x'), SIZE([1,2]), CAST('12' AS INT), LOWER('A') || 'b'] FROM << 0 >>", nil,
			[]string{`["ell","x",2,12,"ab"]`}},
		{"at", "SELECT VALUE i FROM [10, 20] AS v AT i WHERE v = 20", nil, []string{`1`}},
		{"quoted ident", `SELECT VALUE "Make" FROM "Vehicle" WHERE VIN = 'V1'`, nil, []string{`"Tesla"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, _ := run(t, s, c.stmt, c.params...)
			require.Equal(t, sortedStrings(c.want), got)
		})
	}
}

func TestAccessPaths(t *testing.T) {
	s := tutorialStore(t)
	_, st := run(t, s, "SELECT * FROM Person AS p WHERE p.GovId = ?", `"P1"`)
	require.Equal(t, Stats{DocumentsRead: 1, IndexLookups: 1}, st, "indexed equality reads through the index")
	_, st = run(t, s, "SELECT * FROM Person AS p WHERE p.FirstName = ?", `"Raul"`)
	require.Equal(t, int64(1), st.TableScans, "an unindexed field scans")
	_, st = run(t, s, "SELECT p.* FROM Person AS p BY pid WHERE pid = ?", `"doc0001"`)
	require.Equal(t, Stats{DocumentsRead: 1, IDLookups: 1}, st)
	_, st = run(t, s, "SELECT Vehicle FROM Vehicle INNER JOIN VehicleRegistration AS r ON Vehicle.VIN = r.VIN")
	require.Equal(t, int64(1), st.TableScans, "the inner side of the join goes through the VIN index")
	require.Equal(t, int64(2), st.IndexLookups)
}

func TestDML(t *testing.T) {
	s := tutorialStore(t)
	run(t, s, "UPDATE Person AS p SET p.Age = 31, p.Address.City = 'Oslo' WHERE p.GovId = 'P1'")
	got, _ := run(t, s, "SELECT VALUE p FROM Person AS p WHERE p.GovId = 'P1'")
	require.Equal(t, []string{`{FirstName:"Raul",GovId:"P1",Age:31,Address:{City:"Oslo"}}`}, got)
	run(t, s, "FROM VehicleRegistration AS v WHERE v.VIN = ? INSERT INTO v.Owners.SecondaryOwners VALUE ?", `"V1"`, `{PersonId:"doc0002"}`)
	got, _ = run(t, s, "SELECT VALUE Owners.SecondaryOwners FROM VehicleRegistration WHERE VIN = 'V1'")
	require.Equal(t, []string{`[{PersonId:"doc0002"}]`}, got)
	run(t, s, "UPDATE Person REMOVE Address WHERE GovId = 'P1'")
	got, _ = run(t, s, "SELECT VALUE Address FROM Person")
	require.Empty(t, got)
	got, _ = run(t, s, "DELETE FROM Person AS p WHERE p.GovId = 'P2'")
	require.Equal(t, []string{`{documentId:"doc0002"}`}, got)
	got, _ = run(t, s, "SELECT VALUE COUNT(*) FROM Person")
	require.Equal(t, []string{"1"}, got)
	got, _ = run(t, s, "SELECT h.metadata.version FROM history(Person) AS h WHERE h.metadata.id = 'doc0001'")
	require.Equal(t, []string{"{version:0}", "{version:1}", "{version:2}"}, got)
}

func TestErrorsQuoteTheToken(t *testing.T) {
	for stmt, want := range map[string]string{
		"SELECT * FORM t":                  "line 1, column 10, at 'FORM': expected FROM",
		"SELECT * FROM t WHERE":            "expected an expression, found the end of the statement",
		"SELECT * FROM t ORDER BY a":       "ORDER is not supported",
		"SELECT a FROM t\nWHERE b = 'x":    "line 2, column 11: the string literal is not closed",
		"DROP INDEX \"i\" ON t":            "expected WITH (purge = true)",
		"SELECT FOO(a) FROM t":             "unknown function FOO",
		"CREATE INDEX ON t (a.b)":          "an index covers one top-level field",
		"SELECT * FROM t LEFT JOIN u ON 1": "outer joins are not supported",
		"UPDATE A AT A":                    "line 1, column 10, at 'AT': AT cannot be used on the table of an UPDATE",
		"DELETE FROM t AS d AT i":          "line 1, column 20, at 'AT': AT cannot be used",
	} {
		_, err := Parse(stmt)
		require.ErrorContains(t, err, want, stmt)
	}
}

func TestFormatPatternsAreRefused(t *testing.T) {
	_, _, err := tryRun(newMemStore(), "SELECT VALUE TO_STRING(`2019-01-01T`, 'MMMM d, y') FROM << 0 >>")
	require.ErrorContains(t, err, "format pattern is not supported")
	got, _ := run(t, newMemStore(), "SELECT VALUE TO_STRING(TO_TIMESTAMP('2019-01-01T')) FROM << 0 >>")
	require.Equal(t, []string{`"2019-01-01"`}, got)
}

func TestHugeDecimalExponentsAreRefusedNotComputed(t *testing.T) {
	s := tutorialStore(t)
	got, _ := run(t, s, "SELECT VALUE FirstName FROM Person WHERE Age = `1d999999999`")
	require.Empty(t, got, "incomparable, so unknown")
	_, _, err := tryRun(s, "SELECT VALUE Age + `1d-999999999` FROM Person")
	require.ErrorContains(t, err, "exponent is beyond")
}
