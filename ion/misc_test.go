package ion

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestNewIDHasQLDBsFormat(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := NewID()
		require.NoError(t, ValidateID(id))
		hi, lo, err := ParseID(id)
		require.NoError(t, err)
		require.Equal(t, id, FormatID(hi, lo))
		require.False(t, seen[id], "duplicate id %s", id)
		seen[id] = true
	}
}

func TestRealIDsDecodeAsTwoHalves(t *testing.T) {
	for _, id := range []string{"KmA3ZZca7vAIiJAK9S5Iwl", "0007KbqoyqAIch6XRbQ4iA", "LNQETY3bjjRJRHUOlZITtI",
		"8UyXulxccYLAsbN1aon7e4", "IiPT4brpZCqCq3f4MTHbYy", "JUJgkIcNbhS2goq8RqLuZ4"} {
		hi, lo, err := ParseID(id)
		require.NoError(t, err, id)
		require.Equal(t, id, FormatID(hi, lo))
	}
	require.Equal(t, "LygHa16AHYFLygHa16AHYF", FormatID(math.MaxUint64, math.MaxUint64))
	_, _, err := ParseID("LygHa16AHYGLygHa16AHYF")
	require.ErrorContains(t, err, "exceeds 64 bits")
	require.NoError(t, ValidateID("LygHa16AHYGLygHa16AHYF"), "the API accepts any 22 alphanumerics")
}

func TestValidateIDNamesTheRule(t *testing.T) {
	var idErr *IDError
	err := ValidateID("short")
	require.ErrorAs(t, err, &idErr)
	require.Contains(t, err.Error(), "must be 22 characters, has 5")
	err = ValidateID("KmA3ZZca7vAIiJAK9S5Iw-")
	require.ErrorContains(t, err, `character 22 ('-') is not a letter or digit`)
}

func TestSystemTimeIsMillisecondsUTC(t *testing.T) {
	local := time.FixedZone("", 2*3600)
	for _, c := range []struct {
		in   time.Time
		text string
	}{
		{time.Date(2019, 9, 16, 21, 37, 5, 360_999_999, local), "2019-09-16T19:37:05.360Z"},
		{time.Date(2019, 9, 16, 19, 37, 5, 0, time.UTC), "2019-09-16T19:37:05.000Z"},
		{time.Date(2019, 9, 16, 19, 37, 5, 7_000_000, time.UTC), "2019-09-16T19:37:05.007Z"},
	} {
		v := SystemTime(c.in)
		require.Equal(t, c.text, v.String())
		require.True(t, IsSystemTime(v))
		parsed := mustParse(t, c.text)
		require.Equal(t, Hash(parsed), Hash(v), "hash of %s", c.text)
		require.True(t, IsSystemTime(parsed))
	}
	for _, text := range []string{"2019-09-16T19:37:05Z", "2019-09-16T19:37:05.360-00:00",
		"2019-09-16T19:37:05.360+01:00", "2019-09-16T19:37:05.3600Z", "2019-09-16"} {
		require.False(t, IsSystemTime(mustParse(t, text)), text)
	}
}

func TestJSONDownConversion(t *testing.T) {
	cases := []struct{ ion, json string }{
		{`null.int`, `null`},
		{`ann::true`, `true`},
		{`-12345678901234567890123`, `-12345678901234567890123`},
		{`1.5e0`, `1.5`},
		{`-0e0`, `-0`},
		{`nan`, `null`},
		{`+inf`, `null`},
		{`90.25`, `90.25`},
		{`12345.`, `12345`},
		{`5d2`, `5e2`},
		{`-0.`, `-0`},
		{`0.012345`, `0.012345`},
		{`2019-09-16T19:37:05.360Z`, `"2019-09-16T19:37:05.360Z"`},
		{`2017-08-21`, `"2017-08-21"`},
		{`sym`, `"sym"`},
		{`$0`, `null`},
		{"\"a\\\"b\\\\c\\n\\x01é\"", `"a\"b\\c\n\u0001é"`},
		{`{{AQID}}`, `"AQID"`},
		{`{{"hi"}}`, `"aGk="`},
		{`(a b)`, `["a","b"]`},
		{`{a:1,a:2,'x y':[]}`, `{"a":1,"a":2,"x y":[]}`},
	}
	for _, c := range cases {
		got, err := MarshalJSON(mustParse(t, c.ion))
		require.NoError(t, err)
		require.Equal(t, c.json, string(got), "JSON of %s", c.ion)
		require.True(t, json.Valid(got), "%s is not valid JSON", got)
	}
}

func TestJSONOfAQLDBBlockIsValidJSON(t *testing.T) {
	v := mustParse(t, `{blockAddress:{strandId:"KmA3ZZca7vAIiJAK9S5Iwl",sequenceNo:100},blockTimestamp:2019-09-16T19:37:05.360Z,blockHash:{{NoChM92yKRuJAb/jeLd1VnYn4DHiWIf071ACfic9uHc=}},data:{PendingPenaltyTicketAmount:90.25,ValidFromDate:2017-08-21}}`)
	got, err := MarshalJSON(v)
	require.NoError(t, err)
	var decoded map[string]any
	require.NoError(t, json.Unmarshal(got, &decoded))
	require.Equal(t, "NoChM92yKRuJAb/jeLd1VnYn4DHiWIf071ACfic9uHc=", decoded["blockHash"])
	require.Equal(t, 90.25, decoded["data"].(map[string]any)["PendingPenaltyTicketAmount"])
}

func TestValidateRejectsInvalidUTF8WithAPath(t *testing.T) {
	require.NoError(t, mustParse(t, `{a:[1,"é"],b:c::d}`).Validate())
	bad := Struct(F("owner", Struct(F("name", String("ok")), F("nick", List(String("x"), String("\xff"))))))
	err := bad.Validate()
	require.ErrorContains(t, err, "string at owner.nick[1] is not valid UTF-8")
	require.ErrorContains(t, Struct(Field{Name: Sym("\xfe"), Value: Int(1)}).Validate(), "field name at [0]")
	require.ErrorContains(t, String("x").Annotate("\xff").Validate(), "annotation at the top level")
}

func TestTextEscapesAndQuoting(t *testing.T) {
	cases := []struct {
		v    Value
		text string
	}{
		{SymbolValue(Sym("null")), `'null'`},
		{SymbolValue(Sym("$12")), `'$12'`},
		{SymbolValue(Sym("a b")), `'a b'`},
		{SymbolValue(Sym("_ok$1")), `_ok$1`},
		{SymbolValue(SymbolZero), `$0`},
		{String("tab\there \"q\" \\ \x00\x7f"), `"tab\there \"q\" \\ \0\x7f"`},
		{Clob([]byte{'a', 0xff, '"'}), `{{"a\xff\""}}`},
		{Float(1e-7), `1e-7`},
		{Float(math.Copysign(0, -1)), `-0e0`},
		{Decimal(5, -300), `5d-300`},
		{Decimal(-9025, -2), `-90.25`},
		{Int(math.MinInt64), `-9223372036854775808`},
		{Struct(F("a", Int(1))).Annotate("x", "y z"), `x::'y z'::{a:1}`},
	}
	for _, c := range cases {
		require.Equal(t, c.text, c.v.String())
		back := mustParse(t, c.text)
		require.True(t, Equal(c.v, back), "%s does not read back as the same value (%s)", c.text, back)
	}
	require.True(t, strings.HasPrefix(String("\xff").String(), `"`+"\uFFFD"))
}

// TestStructOfIsStruct: a struct made by StructOf encodes, hashes and
// compares like the one Struct makes of the same fields.
func TestStructOfIsStruct(t *testing.T) {
	fields := []Field{F("id", String("8sHY2YVpVZJ6bgqwO4uPsf")), F("version", Int(3)), F("n", Null())}
	a, b := Struct(fields...), StructOf(slices.Clone(fields))
	require.True(t, Equal(a, b))
	require.Equal(t, Hash(a), Hash(b))
	require.Equal(t, AppendBinary(nil, a), AppendBinary(nil, b))
	require.Equal(t, a.Len(), b.Len())
}

func TestTimeOrderedIDsAreVersion7UUIDsThatSortByTime(t *testing.T) {
	start := time.Date(2026, 12, 6, 9, 30, 0, 0, time.UTC)
	var ids []string
	seen := map[string]bool{}
	for i := range 200 {
		now := start.Add(time.Duration(i/4) * time.Millisecond) // four ids per millisecond
		id := NewTimeOrderedID(now)
		require.NoError(t, ValidateID(id))
		hi, lo, err := ParseID(id)
		require.NoError(t, err)
		require.Equal(t, uint64(now.UnixMilli()), hi>>16, "the first 48 bits are the Unix milliseconds")
		require.Equal(t, uint64(7), hi>>12&0xF, "version")
		require.Equal(t, uint64(2), lo>>62, "variant")
		require.False(t, seen[id], "duplicate id %s", id)
		seen[id] = true
		ids = append(ids, id)
	}
	for i := 4; i < len(ids); i++ {
		require.Less(t, ids[i-4], ids[i], "an id of a later millisecond sorts after, as text")
	}
}

// escapeNaive is Ion Hash's escaping as the spec says it, byte by byte.
func escapeNaive(b []byte) []byte {
	var out []byte
	for _, c := range b {
		if c == markBegin || c == markEnd || c == markEscape {
			out = append(out, markEscape)
		}
		out = append(out, c)
	}
	return out
}

func TestEscapeMatchesTheSpecOnEveryByteAndLength(t *testing.T) {
	// Every byte value in every lane of a word is flagged exactly when
	// it is a marker or 0x0D (the word test has no false negatives).
	for lane := range 8 {
		for c := range 256 {
			x := uint64(0x4141414141414141)&^(0xFF<<(8*lane)) | uint64(c)<<(8*lane)
			require.Equal(t, c >= markBegin && c <= markEnd, mayHoldMarker(x), "byte %#x in lane %d", c, lane)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	h := &hasher{}
	for n := range 200 {
		for range 20 {
			b := make([]byte, n)
			for i := range b {
				if rng.IntN(4) == 0 {
					b[i] = []byte{markBegin, markEnd, markEscape, 0x0D}[rng.IntN(4)]
				} else {
					b[i] = byte(rng.IntN(256))
				}
			}
			h.buf = append(append(h.buf[:0], "prefix"...), b...)
			h.escapeFrom(len("prefix"))
			require.Equal(t, append([]byte("prefix"), escapeNaive(b)...), h.buf, "% x", b)
		}
	}
}
