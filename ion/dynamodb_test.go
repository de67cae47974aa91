package ion

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDynamoDBJSONOfEveryType(t *testing.T) {
	doc, err := ParseText(`{
		n: null, ni: null.int, ns: null.struct, t: true, f: false,
		i: -42, big: 123456789012345678901234567890, d: 90.25, dz: 1.500, de: 1.5d-30, dp: 12d3,
		fl: 2.5e0, fnan: nan, pinf: +inf, ninf: -inf,
		s: "Audi \"A4\"\n", sym: quattro, ts: 2019-06-01T00:00Z, tsd: 2019-06-01T, tsf: 2019-06-01T12:30:45.123-07:00,
		b: {{aGVsbG8=}}, c: {{"clob"}},
		l: [1, "two", [3]], sx: (a b), m: {x: {y: 1}}, an: tag::"annotated"
	}`)
	require.NoError(t, err)
	item := AppendDynamoDBItem(nil, doc)
	require.True(t, json.Valid(item), "%s", item)
	var got map[string]map[string]any
	require.NoError(t, json.Unmarshal(item, &got))
	want := map[string]string{
		"n": `{"NULL":true}`, "ni": `{"NULL":true}`, "ns": `{"NULL":true}`, "t": `{"BOOL":true}`, "f": `{"BOOL":false}`,
		"i": `{"N":"-42"}`, "big": `{"N":"123456789012345678901234567890"}`, "d": `{"N":"90.25"}`, "dz": `{"N":"1.500"}`,
		"de": `{"N":"15E-31"}`, "dp": `{"N":"12E3"}`,
		"fl": `{"N":"2.5"}`, "fnan": `{"S":"nan"}`, "pinf": `{"S":"+inf"}`, "ninf": `{"S":"-inf"}`,
		"s": `{"S":"Audi \"A4\"\n"}`, "sym": `{"S":"quattro"}`, "ts": `{"S":"2019-06-01T00:00Z"}`, "tsd": `{"S":"2019-06-01"}`,
		"tsf": `{"S":"2019-06-01T12:30:45.123-07:00"}`, "b": `{"B":"aGVsbG8="}`, "c": `{"B":"Y2xvYg=="}`,
		"l": `{"L":[{"N":"1"},{"S":"two"},{"L":[{"N":"3"}]}]}`, "sx": `{"L":[{"S":"a"},{"S":"b"}]}`,
		"m": `{"M":{"x":{"M":{"y":{"N":"1"}}}}}`, "an": `{"S":"annotated"}`,
	}
	require.Len(t, got, len(want))
	for field, w := range want {
		var wantValue map[string]any
		require.NoError(t, json.Unmarshal([]byte(w), &wantValue), field)
		require.Equal(t, wantValue, got[field], field)
	}
}
