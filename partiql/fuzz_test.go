package partiql

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/quilldb/quill/ion"
)

// FuzzParse feeds the parser arbitrary text: it must never panic, every
// refusal must be an *Error placed inside the statement, and whatever
// parses must run against a store without panicking (with null for each
// parameter).
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"SELECT * FROM Person AS p WHERE p.GovId = ?",
		"SELECT VALUE COUNT(*) FROM t",
		"SELECT Vehicle FROM Vehicle INNER JOIN VehicleRegistration AS r ON Vehicle.VIN = r.VIN WHERE r.Owners.PrimaryOwner.PersonId = ?",
		"FROM VehicleRegistration AS v WHERE v.VIN = ? INSERT INTO v.Owners.SecondaryOwners VALUE ?",
		"UPDATE DriversLicense AS d SET d.ValidFromDate = ?, d.ValidToDate = ? WHERE d.LicenseNumber = ?",
		"SELECT data.Owners.PrimaryOwner, metadata.version FROM history(VehicleRegistration, `2019-06-05T20:53:321d`, `2019-06-05T21:00:00Z`) AS h WHERE h.metadata.id = ?",
		"INSERT INTO t << {'a': [1, 2.5, `{{AQID}}`], 'b': {'c': NULL}}, ? >>",
		"DROP INDEX \"4tPW3fUhaVhDinRgKRLhGU\" ON t WITH (purge = true)",
		"SELECT VALUE [SUBSTRING('hello', 2, 3), CAST('12' AS INT), DATE_ADD(day, 1, `2019T`)] FROM << 0 >> AS x AT i",
		"DELETE FROM t AS d BY id WHERE id IN ('a', 'b') AND d.x LIKE 'a%' ESCAPE '!'",
		"SELECT * FROM t WHERE a BETWEEN 1 AND -2 OR NOT b IS MISSING -- comment",
		"SELECT x FROM (SELECT a AS x FROM t) /* nested */",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, src string) {
		p, err := Parse(src)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("%q: error %T is not *partiql.Error: %v", src, err, err)
			}
			lines := strings.Count(src, "\n") + 1
			if pe.Line < 1 || pe.Line > lines || pe.Column < 1 {
				t.Fatalf("%q: error placed at line %d column %d: %v", src, pe.Line, pe.Column, err)
			}
			if utf8.ValidString(src) && !utf8.ValidString(pe.Error()) {
				t.Fatalf("%q: message is not UTF-8", src)
			}
			return
		}
		s := newMemStore()
		_, _ = s.CreateTable("t")
		_, _ = s.Insert("t", ion.Struct(ion.F("a", ion.Int(1)), ion.F("b", ion.List(ion.String("x")))))
		params := make([]ion.Value, p.Params)
		_, _ = Execute(p, params, s)
	})
}
