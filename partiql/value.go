package partiql

import (
	"bytes"
	"math"
	"math/big"
	"strconv"
	"strings"

	amzion "github.com/amazon-ion/ion-go/ion"
	"github.com/quilldb/quill/ion"
)

// value is an Ion value or PartiQL's MISSING (an absent field or variable).
type value struct {
	ion.Value
	missing bool
}

var missing = value{missing: true}

func some(v ion.Value) value { return value{Value: v} }

// absent reports whether the value is MISSING or a null of any type.
func (v value) absent() bool { return v.missing || v.IsNull() }

// truth is SQL's three-valued logic.
type truth int

const (
	unknown truth = iota
	isFalse
	isTrue
)

func truthOf(b bool) truth {
	if b {
		return isTrue
	}
	return isFalse
}

func (t truth) value() value {
	switch t {
	case isTrue:
		return some(ion.Bool(true))
	case isFalse:
		return some(ion.Bool(false))
	}
	return some(ion.Null())
}

// truthValue reads a condition's result: a bool, or unknown for anything
// else (null, missing, other types).
func truthValue(v value) truth {
	if v.missing || v.Type() != ion.BoolType || v.IsNull() {
		return unknown
	}
	return truthOf(v.BoolValue())
}

func isNumber(v ion.Value) bool {
	t := v.Type()
	return !v.IsNull() && (t == ion.IntType || t == ion.DecimalType || t == ion.FloatType)
}

func isText(v ion.Value) bool {
	t := v.Type()
	return !v.IsNull() && (t == ion.StringType || t == ion.SymbolType)
}

// textOf returns the text of a string or symbol.
func textOf(v ion.Value) string {
	if v.Type() == ion.SymbolType {
		s, _ := v.SymbolToken().Text()
		return s
	}
	return v.Text()
}

// rat converts an int or decimal exactly; floats too, unless NaN or
// infinite.
func rat(v ion.Value) (*big.Rat, bool) {
	switch v.Type() {
	case ion.IntType:
		return new(big.Rat).SetInt(v.BigInt()), true
	case ion.DecimalType:
		n, exp := v.DecimalValue().CoEx()
		if exp > maxExponent || exp < -maxExponent {
			return nil, false
		}
		r := new(big.Rat).SetInt(n)
		scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(exp))), nil)
		if exp >= 0 {
			return r.Mul(r, new(big.Rat).SetInt(scale)), true
		}
		return r.Quo(r, new(big.Rat).SetInt(scale)), true
	case ion.FloatType:
		f := v.FloatValue()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, false
		}
		return new(big.Rat).SetFloat64(f), true
	}
	return nil, false
}

// maxExponent bounds the decimal exponents arithmetic and comparisons
// accept: 10^exp is computed exactly, and an Ion literal may say 1d999999999.
const maxExponent = 6144 // decimal128's

func abs(x int32) int32 {
	if x < 0 {
		return -x
	}
	return x
}

func floatOf(v ion.Value) float64 {
	if v.Type() == ion.FloatType {
		return v.FloatValue()
	}
	if r, ok := rat(v); ok {
		f, _ := r.Float64()
		return f
	}
	// A decimal beyond the exponent bound: its text, as a float (0 or ±Inf).
	f, _ := strconv.ParseFloat(strings.Replace(v.DecimalValue().String(), "d", "e", 1), 64)
	return f
}

// compareValues orders two non-null values of comparable types: numbers
// by value, strings and symbols by text, timestamps by instant, bools
// false before true. ok is false for values that cannot be ordered.
func compareValues(a, b ion.Value) (int, bool) {
	switch {
	case isNumber(a) && isNumber(b):
		if a.Type() == ion.FloatType || b.Type() == ion.FloatType {
			fa, fb := floatOf(a), floatOf(b)
			if math.IsNaN(fa) || math.IsNaN(fb) {
				return 0, false
			}
			switch {
			case fa < fb:
				return -1, true
			case fa > fb:
				return 1, true
			}
			if ra, ok := rat(a); ok {
				if rb, ok := rat(b); ok {
					return ra.Cmp(rb), true
				}
			}
			return 0, true
		}
		ra, oka := rat(a)
		rb, okb := rat(b)
		if !oka || !okb {
			return 0, false // a decimal beyond the exponent bound
		}
		return ra.Cmp(rb), true
	case isText(a) && isText(b):
		return strings.Compare(textOf(a), textOf(b)), true
	case a.Type() == ion.TimestampType && b.Type() == ion.TimestampType && !a.IsNull() && !b.IsNull():
		return a.Time().Compare(b.Time()), true
	case a.Type() == ion.BoolType && b.Type() == ion.BoolType && !a.IsNull() && !b.IsNull():
		x, y := a.BoolValue(), b.BoolValue()
		switch {
		case x == y:
			return 0, true
		case !x:
			return -1, true
		}
		return 1, true
	}
	return 0, false
}

// equalValues is PartiQL's = on non-null values: numbers by value,
// strings and symbols by text, timestamps by instant, containers element
// by element (struct fields in any order), annotations ignored.
func equalValues(a, b ion.Value) bool {
	if c, ok := compareValues(a, b); ok {
		return c == 0
	}
	if a.IsNull() || b.IsNull() {
		return a.IsNull() && b.IsNull() && a.Type() == b.Type()
	}
	switch {
	case a.Type() != b.Type():
		return false
	case a.Type() == ion.ListType || a.Type() == ion.SexpType:
		if a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !equalValues(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case a.Type() == ion.StructType:
		fa, fb := a.Fields(), b.Fields()
		if len(fa) != len(fb) {
			return false
		}
		used := make([]bool, len(fb))
	next:
		for _, f := range fa {
			for j, g := range fb {
				if !used[j] && f.Name == g.Name && equalValues(f.Value, g.Value) {
					used[j] = true
					continue next
				}
			}
			return false
		}
		return true
	case a.Type() == ion.BlobType || a.Type() == ion.ClobType:
		return bytes.Equal(a.Bytes(), b.Bytes())
	}
	return false
}

// Arithmetic keeps ints exact, becomes decimal when a decimal is
// involved, float when a float is.
func arithmetic(op string, a, b ion.Value) (ion.Value, error) {
	if a.Type() == ion.FloatType || b.Type() == ion.FloatType {
		x, y := floatOf(a), floatOf(b)
		switch op {
		case "+":
			return ion.Float(x + y), nil
		case "-":
			return ion.Float(x - y), nil
		case "*":
			return ion.Float(x * y), nil
		case "/":
			return ion.Float(x / y), nil
		case "%":
			return ion.Float(math.Mod(x, y)), nil
		}
	}
	if a.Type() == ion.IntType && b.Type() == ion.IntType {
		x, y := a.BigInt(), b.BigInt()
		r := new(big.Int)
		switch op {
		case "+":
			r.Add(x, y)
		case "-":
			r.Sub(x, y)
		case "*":
			r.Mul(x, y)
		case "/", "%":
			if y.Sign() == 0 {
				return ion.Value{}, errorf("division by zero")
			}
			if op == "/" {
				r.Quo(x, y)
			} else {
				r.Rem(x, y)
			}
		}
		return ion.BigInt(r), nil
	}
	if _, ok := rat(a); !ok {
		return ion.Value{}, errorf("a decimal exponent is beyond ±%d", maxExponent)
	}
	if _, ok := rat(b); !ok {
		return ion.Value{}, errorf("a decimal exponent is beyond ±%d", maxExponent)
	}
	x, y := toDecimal(a), toDecimal(b)
	switch op {
	case "+":
		return ion.DecimalOf(x.Add(y)), nil
	case "-":
		return ion.DecimalOf(x.Sub(y)), nil
	case "*":
		return ion.DecimalOf(x.Mul(y)), nil
	}
	ra, _ := rat(a)
	rb, _ := rat(b)
	if rb.Sign() == 0 {
		return ion.Value{}, errorf("division by zero")
	}
	if op == "%" {
		q := new(big.Rat).Quo(ra, rb)
		whole := new(big.Int).Quo(q.Num(), q.Denom())
		rem := new(big.Rat).Sub(ra, new(big.Rat).Mul(rb, new(big.Rat).SetInt(whole)))
		return ratDecimal(rem), nil
	}
	return ratDecimal(new(big.Rat).Quo(ra, rb)), nil
}

func toDecimal(v ion.Value) *amzion.Decimal {
	if v.Type() == ion.DecimalType {
		return v.DecimalValue()
	}
	return amzion.NewDecimal(v.BigInt(), 0, false)
}

// ratDecimal renders a rational as a decimal of up to 34 digits after the
// point (decimal128's precision), without trailing zeros.
func ratDecimal(r *big.Rat) ion.Value {
	s := r.FloatString(34)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
		if !strings.Contains(s, ".") {
			s += "."
		}
	}
	d, err := amzion.ParseDecimal(s)
	if err != nil {
		return ion.Float(0) // unreachable: FloatString yields a decimal
	}
	return ion.DecimalOf(d)
}

// typeName names a value's type for error messages.
func typeName(v value) string {
	if v.missing {
		return "MISSING"
	}
	if v.IsNull() && v.Type() == ion.NullType {
		return "null"
	}
	return v.Type().String()
}
