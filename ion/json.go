package ion

import (
	"encoding/base64"
	"math"
	"strconv"
	"unicode/utf8"
)

// MarshalJSON returns v down-converted to one line of JSON, the form of
// QLDB journal exports with OutputFormat JSON. Type information is lost, so
// hashes cannot be recomputed from it:
//
//   - null and typed nulls: null; annotations are dropped
//   - bool, int: as in Ion (big ints keep every digit)
//   - float: a JSON number; nan, +inf and -inf, which JSON cannot carry: null
//   - decimal: a JSON number with the same digits (90.25, 5d2 as 5e2)
//   - timestamp: a string of its Ion text (2019-09-16T19:37:05.360Z, 2017-08-21)
//   - string, symbol: a string ($0, whose text is unknown: null)
//   - blob and clob: a string of standard base64 (clob bytes need not be UTF-8)
//   - list, sexp: an array; struct: an object, fields in order, repeated
//     names repeated
func MarshalJSON(v Value) ([]byte, error) { return AppendJSON(nil, v), nil }

// AppendJSON appends the JSON down-conversion of v (see MarshalJSON).
func AppendJSON(dst []byte, v Value) []byte { return appendJSON(dst, &v) }

func appendJSON(b []byte, v *Value) []byte {
	if v.IsNull() {
		return append(b, "null"...)
	}
	switch v.typ {
	case BoolType, IntType:
		return appendText(b, withoutAnnotations(v))
	case FloatType:
		f := v.FloatValue()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return append(b, "null"...)
		}
		return strconv.AppendFloat(b, f, 'g', -1, 64)
	case DecimalType:
		return appendDecimalJSON(b, v)
	case TimestampType:
		b = append(b, '"')
		b = appendTimestampText(b, v.TimestampValue())
		return append(b, '"')
	case SymbolType:
		if v.flags&flagZero != 0 {
			return append(b, "null"...)
		}
		return appendJSONString(b, v.str)
	case StringType:
		return appendJSONString(b, v.str)
	case ClobType, BlobType:
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, []byte(v.str))
		return append(b, '"')
	case ListType, SexpType:
		b = append(b, '[')
		for i := range v.kids {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, &v.kids[i].Value)
		}
		return append(b, ']')
	default: // StructType
		b = append(b, '{')
		for i := range v.kids {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, v.kids[i].Name.String())
			b = append(b, ':')
			b = appendJSON(b, &v.kids[i].Value)
		}
		return append(b, '}')
	}
}

func withoutAnnotations(v *Value) *Value {
	w := *v
	w.annots = nil
	return &w
}

// appendDecimalJSON writes the decimal's digits as a JSON number: Ion's
// trailing point (12345.) is dropped and its d exponent becomes e.
func appendDecimalJSON(b []byte, v *Value) []byte {
	start := len(b)
	b = appendDecimalText(b, v)
	if b[len(b)-1] == '.' {
		return b[:len(b)-1]
	}
	for i := start; i < len(b); i++ {
		if b[i] == 'd' {
			b[i] = 'e'
		}
	}
	return b
}

func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, s[i:i+n]...)
			}
			i += n
			continue
		}
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0x0F])
		default:
			b = append(b, c)
		}
		i++
	}
	return append(b, '"')
}
