package ion

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// agreesWithIonGo requires the fast text path, if it takes text, to give
// exactly ion-go's values: the same Ion data model (same hashes, which
// tell 1.0 from 1.00 and a day from a midnight) and Equal. It reports
// whether the fast path took the text.
func agreesWithIonGo(t testing.TB, text []byte) bool {
	t.Helper()
	fast, ok := parseTextFast(text)
	if !ok {
		return false
	}
	ref, err := parseTextIonGo(text)
	require.NoError(t, err, "the fast path read %q, which ion-go rejects", text)
	require.Len(t, fast, len(ref), "values in %q", text)
	for i := range ref {
		require.True(t, Equal(ref[i], fast[i]), "value %d of %q: ion-go %s, fast %s", i, text, ref[i], fast[i])
		require.Equal(t, Hash(ref[i]), Hash(fast[i]), "value %d of %q", i, text)
	}
	return true
}

// fastTextSamples are texts the fast path must take, in the shapes QLDB
// and Quill write, and texts it must leave to ion-go.
var (
	fastTextSamples = []string{
		`{blockAddress:{strandId:"JdxjkR9bSYB5jMHWcI464T",sequenceNo:1234},hash:{{eSt+a0HTAXWmQK5wJOGdD1dQ4BRbCjX7RgcX5yHD3K4=}},` +
			`data:{VIN:"1N4AL11D75C109151",Year:2011,Amount:90.25,When:2019-06-05T21:00:00Z},` +
			`metadata:{id:"3Qv67yjXEwB9SjmvkuG6Cp",version:0,txTime:2019-06-05T20:53:32.123Z,txId:"HgXAkLjAtV0HQ4lNYdzX60"}}`,
		`{blockAddress:{strandId:"s",sequenceNo:1},hash:{{ eSt+a0HTAXWm QK5wJOGdD1dQ4BRbCjX7RgcX5yHD3K4= }}}`,
		`[{{aGVsbG8=}}, {{}}, "a\"b\\c\n\u00e9\U0001F600\x41", 'quoted sym', sym, a::b::'c'::[1, -2, 0]]`,
		`{'a b':1, "c d":2.50, e: null.int, f: null, g: true, h: false, i: null.struct, j: 2007-02-23T12:14:33.079-08:00}`,
		`2007T 2007-02T 2007-02-23 2007-02-23T 2007-02-23T12:14Z 2007-02-23T12:14:33-00:00 0.0 -0.0 1d10 -5D-3 9223372036854775807`,
		"{\n  a : [ 1 ,2 ] ,\tb:{ }\r\n}",
	}
	ionGoOnlySamples = []string{
		`(a b c)`, `1e10`, `nan`, `+inf`, `-inf`, `0x1F`, `1_000`, `-0`, `9223372036854775808`, `'''long'''`,
		`{{"clob"}}`, `$ion_symbol_table::{symbols:["a"]} $10`, `'$ion_symbol_table'::{symbols:["a"]}`,
		`/* c */ 1`, `[1,]`, `{a:1,}`, `"a\` + "\n" + `b"`, `"\ud83d\ude00"`, `a :: b`, `$ion_1_0 1`,
		`{null:1}`, `2007-02-23t`, "\"\x01\"", `{a:1}{b:2}`,
	}
)

func TestFastTextPathAgreesWithIonGo(t *testing.T) {
	for _, s := range fastTextSamples {
		require.True(t, agreesWithIonGo(t, []byte(s)), "the fast path should read %q", s)
	}
	for _, s := range ionGoOnlySamples {
		require.False(t, agreesWithIonGo(t, []byte(s)), "the fast path should leave %q to ion-go", s)
	}
	// Random values as Quill writes them, compact and pretty.
	taken, n := 0, 3000
	if testing.Short() {
		n = 300
	}
	for seed := range uint64(n) {
		v := genFromSeed(seed).value(0)
		if agreesWithIonGo(t, AppendText(nil, v)) {
			taken++
		}
	}
	t.Logf("the fast path read %d of %d random values", taken, n)
	require.Greater(t, taken, n/3, "the fast path should read most of what Quill writes")
}

func TestFastTextPathErrorsAreIonGos(t *testing.T) {
	for _, s := range []string{`{a:`, `[1 2]`, `"unterminated`, `{{not base64!}}`, `2007-13-01`, `{a 1}`} {
		_, fastErr := ParseAll([]byte(s))
		_, refErr := parseTextIonGo([]byte(s))
		require.Error(t, refErr, "%q", s)
		require.Equal(t, refErr.Error(), fastErr.Error(), "%q", s)
	}
}

func FuzzFastTextPathAgreesWithIonGo(f *testing.F) {
	for _, s := range append(append([]string{}, fastTextSamples...), ionGoOnlySamples...) {
		f.Add([]byte(s))
	}
	if data, err := os.ReadFile("testdata/ion-hash/ion_hash_tests.ion"); err == nil {
		f.Add(data[:min(len(data), 4096)])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		agreesWithIonGo(t, data)
	})
}
