package ion

import (
	"bufio"
	"crypto/md5" // the official suite states its expectations in MD5
	"encoding/base64"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// hashCase is one case of the official Ion Hash suite
// (testdata/ion-hash/ion_hash_tests.ion).
type hashCase struct {
	name  string
	value Value
	// identityDigests and md5Digests are the digest() results the suite
	// expects, in order: one per struct field, then the value's own. Cases
	// that state only a final_digest have just that one.
	identityDigests [][]byte
	identityFinal   bool
	md5Digests      [][]byte
}

func loadHashSuite(t *testing.T) []hashCase {
	t.Helper()
	data, err := os.ReadFile("testdata/ion-hash/ion_hash_tests.ion")
	require.NoError(t, err)
	cases, err := ParseAll(data)
	require.NoError(t, err)

	var out []hashCase
	for _, c := range cases {
		var hc hashCase
		if anns := c.Annotations(); len(anns) > 0 {
			hc.name = anns[0].String()
		}
		if v, ok := c.Get("ion"); ok {
			hc.value = v
			if hc.name == "" {
				hc.name = v.String()
			}
		} else {
			src, ok := c.Get("10n")
			require.True(t, ok, "case without ion or 10n: %v", c)
			bin := append([]byte(nil), ivm...)
			bin = append(bin, sexpBytes(t, src)...)
			hc.value, err = Parse(bin)
			require.NoError(t, err, "case %s: binary source", hc.name)
			if hc.name == "" {
				hc.name = fmt.Sprintf("10n %x", bin[4:])
			}
		}
		expect, _ := c.Get("expect")
		if id, ok := expect.Get("identity"); ok {
			hc.identityDigests, hc.identityFinal = digestsOf(t, id)
		}
		if m, ok := expect.Get("md5"); ok {
			hc.md5Digests, _ = digestsOf(t, m)
		}
		out = append(out, hc)
	}
	return out
}

// digestsOf collects the digest:: byte lists of an expectation in order, or
// its final_digest:: alone if it has one.
func digestsOf(t *testing.T, expectation Value) (digests [][]byte, finalOnly bool) {
	for _, step := range expectation.Elems() {
		anns := step.Annotations()
		switch {
		case len(anns) == 0:
		case anns[0].String() == "final_digest":
			return [][]byte{sexpBytes(t, step)}, true
		case anns[0].String() == "digest":
			digests = append(digests, sexpBytes(t, step))
		}
	}
	return digests, false
}

func sexpBytes(t *testing.T, v Value) []byte {
	out := []byte{}
	for _, e := range v.Elems() {
		i, ok := e.Int64()
		require.True(t, ok)
		out = append(out, byte(i))
	}
	return out
}

// recordingHasher hashes with fn and remembers every digest it computed.
func recordingHasher(fn func([]byte) []byte, record *[][]byte) *hasher {
	return &hasher{digest: func(dst, msg []byte) []byte {
		d := fn(msg)
		*record = append(*record, d)
		return append(dst, d...)
	}}
}

func identity(msg []byte) []byte { return append([]byte(nil), msg...) }

func identityDigest(dst, msg []byte) []byte { return append(dst, msg...) }

func md5Sum(msg []byte) []byte {
	s := md5.Sum(msg)
	return s[:]
}

func TestIonHashOfficialSuite(t *testing.T) {
	cases := loadHashSuite(t)
	require.Len(t, cases, 167, "cases in ion_hash_tests.ion")
	for _, hc := range cases {
		t.Run(hc.name, func(t *testing.T) {
			require.True(t, hc.identityDigests != nil || hc.md5Digests != nil)
			if hc.identityDigests != nil {
				var got [][]byte
				h := recordingHasher(identity, &got)
				got = append(got, h.preimage(hc.value))
				if hc.identityFinal {
					got = got[len(got)-1:]
				}
				require.Equal(t, hc.identityDigests, got, "identity digests")
			}
			if hc.md5Digests != nil {
				var got [][]byte
				h := recordingHasher(md5Sum, &got)
				got = append(got, md5Sum(h.preimage(hc.value)))
				require.Equal(t, hc.md5Digests, got, "md5 digests")
			}
		})
	}
}

// naughtyValues builds, for one line of big_list_of_naughty_strings.txt, the
// Ion texts the ion-hash-go suite derives from it: the line as a symbol,
// string, long string, clob and blob, annotated, inside structs, lists and
// sexps, and, where the line is itself valid Ion, the line as Ion.
func naughtyValues(line string) []string {
	sym := "'" + escapeIon(line, '\'') + "'"
	str := `"` + escapeIon(line, '"') + `"`
	long := "'''" + escapeIon(line, '\'') + "'''"
	clob := `{{"` + escapeClob(line) + `"}}`
	blob := "{{" + base64.StdEncoding.EncodeToString([]byte(line)) + "}}"
	out := []string{sym, str, long, blob}
	if clob != "" {
		out = append(out, clob)
	}
	scalars := []string{sym, str, long, blob}
	if clob != "" {
		scalars = append(scalars, clob)
	}
	for _, s := range scalars {
		out = append(out, sym+"::"+s, sym+"::{"+sym+":"+s+"}")
	}
	if _, err := ParseText(line); err == nil {
		out = append(out, line, sym+"::"+line, sym+"::{"+sym+":"+line+"}", sym+"::{"+sym+":"+sym+"::"+line+"}")
	}
	out = append(out,
		sym+"::["+strings.Join(scalars, ", ")+"]",
		sym+"::("+strings.Join(scalars, " ")+")",
		sym+"::"+sym+"::"+sym+"::"+str)
	return out
}

// escapeIon escapes a line for an Ion quoted symbol or string.
func escapeIon(s string, quote rune) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\' || r == quote:
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\x%02x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// escapeClob escapes a line for a clob, which holds only ASCII; lines with
// other characters are given as \x escapes of their UTF-8 bytes.
func escapeClob(s string) string {
	var b strings.Builder
	for i := range len(s) {
		c := s[i]
		switch {
		case c == '\\' || c == '"':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, "\\x%02x", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// TestIonHashNaughtyStrings hashes every value the ion-hash-go suite derives
// from the naughty strings, compares with the reference implementation, and
// checks that the value keeps its hash through our binary and text
// encodings.
func TestIonHashNaughtyStrings(t *testing.T) {
	f, err := os.Open("testdata/ion-hash/big_list_of_naughty_strings.txt")
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	values := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for _, text := range naughtyValues(line) {
			v, err := ParseText(text)
			require.NoError(t, err, "text %q", text)
			values++
			checkAgainstReference(t, text)
			want := Hash(v)
			bin, err := MarshalBinary(v)
			require.NoError(t, err)
			fromBin, err := Parse(bin)
			require.NoError(t, err)
			require.Equal(t, want, Hash(fromBin), "binary round trip of %q", text)
			txt, err := MarshalText(v)
			require.NoError(t, err)
			fromTxt, err := Parse(txt)
			require.NoError(t, err, "our text %q", txt)
			require.Equal(t, want, Hash(fromTxt), "text round trip of %q as %q", text, txt)
		}
	}
	require.NoError(t, sc.Err())
	require.Greater(t, values, 9000)
}
