package ion

import (
	"encoding/base64"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	amzion "github.com/amazon-ion/ion-go/ion"
)

// MarshalText returns v as compact Ion text in the style QLDB prints in
// GetBlock and GetRevision responses: no whitespace, blobs as {{base64}},
// day-precision timestamps without a trailing T (2017-08-21), decimals with
// their exact exponent (90.25, 90.250), system timestamps to the
// millisecond (2019-09-16T19:37:05.360Z).
func MarshalText(v Value) ([]byte, error) { return AppendText(nil, v), nil }

// AppendText appends the compact Ion text of v to dst.
func AppendText(dst []byte, v Value) []byte { return appendText(dst, &v) }

// String returns v as compact Ion text.
func (v Value) String() string { return string(AppendText(nil, v)) }

// canonicalNaN is the quiet NaN the Ion Hash conformance suite expects;
// math.NaN() sets a payload bit.
const canonicalNaN = 0x7FF8000000000000

func appendText(b []byte, v *Value) []byte {
	for _, a := range v.annots {
		b = appendSymbolText(b, a)
		b = append(b, ':', ':')
	}
	if v.IsNull() {
		if v.typ == NullType {
			return append(b, "null"...)
		}
		return append(append(b, "null."...), v.typ.String()...)
	}
	switch v.typ {
	case BoolType:
		return strconv.AppendBool(b, v.n == 1)
	case IntType:
		if i, ok := v.Int64(); ok {
			return strconv.AppendInt(b, i, 10)
		}
		return v.BigInt().Append(b, 10)
	case FloatType:
		return appendFloatText(b, v.FloatValue())
	case DecimalType:
		return appendDecimalText(b, v)
	case TimestampType:
		return appendTimestampText(b, v.TimestampValue())
	case SymbolType:
		return appendSymbolText(b, v.SymbolToken())
	case StringType:
		return appendQuoted(b, v.str, '"')
	case ClobType:
		b = append(b, '{', '{', '"')
		for i := range len(v.str) {
			b = appendEscapedByte(b, v.str[i], '"')
		}
		return append(b, '"', '}', '}')
	case BlobType:
		b = append(b, '{', '{')
		b = base64.StdEncoding.AppendEncode(b, []byte(v.str))
		return append(b, '}', '}')
	case ListType, SexpType:
		open, sep, closing := byte('['), byte(','), byte(']')
		if v.typ == SexpType {
			open, sep, closing = '(', ' ', ')'
		}
		b = append(b, open)
		for i := range v.kids {
			if i > 0 {
				b = append(b, sep)
			}
			b = appendText(b, &v.kids[i].Value)
		}
		return append(b, closing)
	default: // StructType
		b = append(b, '{')
		for i := range v.kids {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendSymbolText(b, v.kids[i].Name)
			b = append(b, ':')
			b = appendText(b, &v.kids[i].Value)
		}
		return append(b, '}')
	}
}

func appendFloatText(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "nan"...)
	case math.IsInf(f, 1):
		return append(b, "+inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	}
	// Go writes 1.5e+00; Ion wants 1.5e0.
	s := strconv.FormatFloat(f, 'e', -1, 64)
	mant, exp, _ := strings.Cut(s, "e")
	e, _ := strconv.Atoi(exp)
	b = append(b, mant...)
	b = append(b, 'e')
	return strconv.AppendInt(b, int64(e), 10)
}

// appendDecimalText writes coefficient and exponent exactly: 90.25 (9025,
// -2), 12345. (12345, 0), 0.012345 (12345, -6), 5d2 (5, 2), -0.0 (-0, -1).
func appendDecimalText(b []byte, v *Value) []byte {
	digits := v.BigInt().String()
	neg := v.flags&flagNeg != 0
	digits = strings.TrimPrefix(digits, "-")
	if neg {
		b = append(b, '-')
	}
	exp := int(v.exp)
	switch {
	case exp == 0:
		b = append(b, digits...)
		return append(b, '.')
	case exp > 0:
		b = append(b, digits...)
		b = append(b, 'd')
		return strconv.AppendInt(b, int64(exp), 10)
	case -exp < len(digits):
		point := len(digits) + exp
		b = append(b, digits[:point]...)
		b = append(b, '.')
		return append(b, digits[point:]...)
	case -exp-len(digits) <= 6:
		b = append(b, '0', '.')
		for range -exp - len(digits) {
			b = append(b, '0')
		}
		return append(b, digits...)
	default:
		b = append(b, digits...)
		b = append(b, 'd')
		return strconv.AppendInt(b, int64(exp), 10)
	}
}

// appendTimestampText writes ion-go's rendering, except that a day-precision
// timestamp has no trailing T, as QLDB prints dates (2017-08-21).
func appendTimestampText(b []byte, ts amzion.Timestamp) []byte {
	s := ts.String()
	if ts.GetPrecision() == amzion.TimestampPrecisionDay {
		s = strings.TrimSuffix(s, "T")
	}
	return append(b, s...)
}

var keywords = map[string]bool{"null": true, "true": true, "false": true, "nan": true}

// appendSymbolText writes a symbol bare when it is an identifier that
// cannot be mistaken for something else, and in single quotes otherwise.
func appendSymbolText(b []byte, s Symbol) []byte {
	if s.zero {
		return append(b, '$', '0')
	}
	if isIdentifier(s.text) && !keywords[s.text] && !isSIDLiteral(s.text) {
		return append(b, s.text...)
	}
	return appendQuoted(b, s.text, '\'')
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '$'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// isSIDLiteral reports text like $12, which Ion text reads as a symbol ID.
func isSIDLiteral(s string) bool {
	if len(s) < 2 || s[0] != '$' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func appendQuoted(b []byte, s string, quote byte) []byte {
	b = append(b, quote)
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			b = appendEscapedByte(b, c, quote)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			// Not UTF-8: Ion text cannot carry the byte; write U+FFFD,
			// as every Ion writer must.
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, quote)
}

const hexDigits = "0123456789abcdef"

func appendEscapedByte(b []byte, c, quote byte) []byte {
	switch c {
	case quote, '\\':
		return append(b, '\\', c)
	case '\n':
		return append(b, '\\', 'n')
	case '\t':
		return append(b, '\\', 't')
	case '\r':
		return append(b, '\\', 'r')
	case 0:
		return append(b, '\\', '0')
	}
	if c < 0x20 || c >= 0x7F {
		return append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&0x0F])
	}
	return append(b, c)
}
