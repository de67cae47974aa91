package ion

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzParseBinary feeds arbitrary bytes to the binary decoder. It must never
// panic, and whatever it accepts must survive our encoder unchanged:
// decode, encode, decode gives an Equal value with the same hash and text.
func FuzzParseBinary(f *testing.F) {
	for _, text := range []string{`{a:1,b:[true,null.int,"x"],c:ann::2019-09-16T19:37:05.360Z}`,
		`(1 -2 3.5 4e0 {{AQID}} {{"c"}} sym $0)`, `a::b::true`, `-0d-3`} {
		v, err := ParseText(text)
		require.NoError(f, err)
		bin, _ := MarshalBinary(v)
		f.Add(bin[4:])
	}
	f.Add([]byte{0x11})
	f.Add([]byte{0xE3, 0x81, 0x84, 0x11})
	f.Fuzz(func(t *testing.T, body []byte) {
		data := append(append([]byte(nil), ivm...), body...)
		vals, err := ParseAll(data)
		if err != nil {
			return
		}
		for _, v := range vals {
			bin, err := MarshalBinary(v)
			require.NoError(t, err)
			back, err := Parse(bin)
			require.NoError(t, err, "our encoding of %s", v)
			require.True(t, Equal(v, back), "binary round trip: %s became %s", v, back)
			require.Equal(t, Hash(v), Hash(back))
			require.Equal(t, v.String(), back.String())
		}
	})
}

// FuzzTextRoundTrip parses arbitrary Ion text with ion-go and checks that our
// text writer prints something that reads back as the same value.
func FuzzTextRoundTrip(f *testing.F) {
	for _, s := range []string{`{a:'b c'::"x\n",'null':null.sexp}`, `[1.0e0, 90.25, -0d-1, 2017-08-21, 2001T]`,
		`('+' a::b $0 '$12')`, `{{"clob\x7f"}}`, `2001-02-03T04:05:06.123456789-12:34`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		vals, err := ParseAll([]byte(text))
		if err != nil {
			return
		}
		for _, v := range vals {
			if v.Validate() != nil {
				continue // not representable in text without change
			}
			out := v.String()
			back, err := ParseText(out)
			require.NoError(t, err, "our text %q of %q", out, text)
			require.True(t, Equal(v, back), "text round trip of %q: %q", text, out)
			require.Equal(t, Hash(v), Hash(back))
		}
	})
}
