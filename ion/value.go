package ion

import (
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"

	amzion "github.com/amazon-ion/ion-go/ion"
)

// Type is the Ion type of a Value.
type Type uint8

// The Ion types. NullType is the untyped null; typed nulls (null.int, ...)
// have their own type and IsNull true.
const (
	NullType Type = iota
	BoolType
	IntType
	FloatType
	DecimalType
	TimestampType
	SymbolType
	StringType
	ClobType
	BlobType
	ListType
	SexpType
	StructType
)

var typeNames = [...]string{"null", "bool", "int", "float", "decimal", "timestamp", "symbol",
	"string", "clob", "blob", "list", "sexp", "struct"}

// String returns the Ion name of the type, as in null.<name>.
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", t)
}

// IsContainer reports whether values of the type hold other values.
func (t Type) IsContainer() bool { return t == ListType || t == SexpType || t == StructType }

// Symbol is an Ion symbol token as a field name, annotation or symbol value:
// its text, or symbol zero ($0), whose text is unknown.
type Symbol struct {
	text string
	zero bool
}

// Sym returns the symbol with the given text.
func Sym(text string) Symbol { return Symbol{text: text} }

// SymbolZero is $0, the symbol with no text.
var SymbolZero = Symbol{zero: true}

// Text returns the symbol's text; ok is false for $0.
func (s Symbol) Text() (text string, ok bool) { return s.text, !s.zero }

// IsZero reports whether the symbol is $0.
func (s Symbol) IsZero() bool { return s.zero }

// String returns the text, or "$0".
func (s Symbol) String() string {
	if s.zero {
		return "$0"
	}
	return s.text
}

// Field is one name/value pair of a struct. Structs keep their fields in
// order and may repeat a name, as Ion allows.
type Field struct {
	Name  Symbol
	Value Value
}

// F returns the field name: v, the usual way to build a struct.
func F(name string, v Value) Field { return Field{Name: Sym(name), Value: v} }

// flags of a Value.
const (
	flagNull = 1 << iota // a typed or untyped null
	flagNeg              // int or decimal with a negative sign (decimal: also -0)
	flagZero             // symbol value $0
)

// Value is an immutable Ion value: a scalar, or a container of values, with
// optional annotations. The zero Value is the untyped null.
//
// Values are cheap to copy; copies share their containers, which must not be
// modified after construction.
type Value struct {
	typ   Type
	flags uint8
	exp   int32  // decimal exponent
	n     uint64 // bool (0/1), int or decimal magnitude, float bits
	str   string // string or symbol text; blob and clob bytes
	// ext holds what does not fit the fields above: *big.Int magnitudes of
	// ints and decimal coefficients beyond 64 bits, and amzion.Timestamp.
	ext    any
	annots []Symbol
	kids   []Field // list and sexp elements (names unused), struct fields
}

// Null returns the untyped null, which is also the zero Value.
func Null() Value { return Value{} }

// NullOf returns the typed null of t, such as null.string (NullOf(NullType)
// is the untyped null).
func NullOf(t Type) Value {
	if t == NullType {
		return Value{}
	}
	return Value{typ: t, flags: flagNull}
}

// Bool returns a bool value.
func Bool(b bool) Value {
	v := Value{typ: BoolType}
	if b {
		v.n = 1
	}
	return v
}

// Int returns an int value.
func Int(i int64) Value {
	if i < 0 {
		return Value{typ: IntType, flags: flagNeg, n: uint64(-(i + 1)) + 1}
	}
	return Value{typ: IntType, n: uint64(i)}
}

// Uint returns an int value from an unsigned integer.
func Uint(u uint64) Value { return Value{typ: IntType, n: u} }

// BigInt returns an int value of any size. i is copied.
func BigInt(i *big.Int) Value {
	v := Value{typ: IntType}
	if i.Sign() < 0 {
		v.flags = flagNeg
	}
	abs := new(big.Int).Abs(i)
	if abs.IsUint64() {
		v.n = abs.Uint64()
	} else {
		v.ext = abs
	}
	return v
}

// Float returns a float value.
func Float(f float64) Value { return Value{typ: FloatType, n: math.Float64bits(f)} }

// Decimal returns the decimal coefficient × 10^exponent, keeping the exponent
// as given: 90.25 is Decimal(9025, -2) and differs from Decimal(90250, -3).
func Decimal(coefficient int64, exponent int32) Value {
	v := Int(coefficient)
	v.typ = DecimalType
	v.exp = exponent
	return v
}

// DecimalOf converts an ion-go decimal, keeping its exponent and a negative
// zero.
func DecimalOf(d *amzion.Decimal) Value {
	coef, exp := d.CoEx()
	v := BigInt(coef)
	v.typ = DecimalType
	v.exp = exp
	if coef.Sign() == 0 && isNegZero(d) {
		v.flags |= flagNeg
	}
	return v
}

// isNegZero reports whether a zero ion-go decimal is -0, which ion-go only
// exposes through its text form.
func isNegZero(d *amzion.Decimal) bool {
	s := d.String()
	return len(s) > 0 && s[0] == '-'
}

// Timestamp returns a timestamp value with the precision, offset and
// fractional digits of t.
func Timestamp(t amzion.Timestamp) Value { return Value{typ: TimestampType, ext: t} }

// String returns a string value.
func String(s string) Value { return Value{typ: StringType, str: s} }

// SymbolValue returns a symbol value.
func SymbolValue(s Symbol) Value {
	v := Value{typ: SymbolType, str: s.text}
	if s.zero {
		v.flags = flagZero
	}
	return v
}

// Blob returns a blob value holding a copy of b.
func Blob(b []byte) Value { return Value{typ: BlobType, str: string(b)} }

// Clob returns a clob value holding a copy of b.
func Clob(b []byte) Value { return Value{typ: ClobType, str: string(b)} }

// List returns a list of the elements.
func List(elems ...Value) Value { return Value{typ: ListType, kids: elemsToFields(elems)} }

// Sexp returns an s-expression of the elements.
func Sexp(elems ...Value) Value { return Value{typ: SexpType, kids: elemsToFields(elems)} }

func elemsToFields(elems []Value) []Field {
	kids := make([]Field, len(elems))
	for i, e := range elems {
		kids[i].Value = e
	}
	return kids
}

// Struct returns a struct of the fields, in order.
func Struct(fields ...Field) Value {
	return Value{typ: StructType, kids: append([]Field(nil), fields...)}
}

// StructOf returns a struct of the fields, in order, holding fields itself
// rather than a copy: the caller must not modify the slice afterwards. It
// spares the commit path a copy of every field (a Field is ~120 bytes).
func StructOf(fields []Field) Value {
	return Value{typ: StructType, kids: fields}
}

// WithAnnotations returns v annotated with the given symbols, replacing any
// annotations it had.
func (v Value) WithAnnotations(annotations ...Symbol) Value {
	v.annots = append([]Symbol(nil), annotations...)
	return v
}

// Annotate returns v annotated with the given texts.
func (v Value) Annotate(annotations ...string) Value {
	syms := make([]Symbol, len(annotations))
	for i, a := range annotations {
		syms[i] = Sym(a)
	}
	v.annots = syms
	return v
}

// Type returns the Ion type.
func (v Value) Type() Type { return v.typ }

// IsNull reports whether v is null or a typed null.
func (v Value) IsNull() bool { return v.typ == NullType || v.flags&flagNull != 0 }

// Annotations returns the annotations, which the caller must not modify.
func (v Value) Annotations() []Symbol { return v.annots }

// BoolValue returns a bool's value.
func (v Value) BoolValue() bool { return v.n == 1 }

// Int64 returns an int's value; ok is false if it does not fit in an int64.
func (v Value) Int64() (i int64, ok bool) {
	if v.ext != nil {
		return 0, false
	}
	if v.flags&flagNeg != 0 {
		if v.n > 1<<63 {
			return 0, false
		}
		return -int64(v.n-1) - 1, true
	}
	if v.n > math.MaxInt64 {
		return 0, false
	}
	return int64(v.n), true
}

// BigInt returns an int's value, or a decimal's coefficient, of any size.
func (v Value) BigInt() *big.Int {
	var i *big.Int
	if m, ok := v.ext.(*big.Int); ok {
		i = new(big.Int).Set(m)
	} else {
		i = new(big.Int).SetUint64(v.n)
	}
	if v.flags&flagNeg != 0 {
		i.Neg(i)
	}
	return i
}

// FloatValue returns a float's value.
func (v Value) FloatValue() float64 { return math.Float64frombits(v.n) }

// DecimalValue returns a decimal as an ion-go decimal, exponent and
// negative zero kept.
func (v Value) DecimalValue() *amzion.Decimal {
	negZero := v.flags&flagNeg != 0 && v.n == 0 && v.ext == nil
	return amzion.NewDecimal(v.BigInt(), v.exp, negZero)
}

// TimestampValue returns a timestamp's value.
func (v Value) TimestampValue() amzion.Timestamp {
	ts, _ := v.ext.(amzion.Timestamp)
	return ts
}

// Time returns a timestamp as a time.Time in its own offset.
func (v Value) Time() time.Time { return v.TimestampValue().GetDateTime() }

// Text returns the text of a string or symbol ("" for $0).
func (v Value) Text() string { return v.str }

// SymbolToken returns a symbol value's token.
func (v Value) SymbolToken() Symbol { return Symbol{text: v.str, zero: v.flags&flagZero != 0} }

// Bytes returns a copy of a blob's or clob's bytes.
func (v Value) Bytes() []byte { return []byte(v.str) }

// Len returns the number of elements of a list or sexp, or fields of a
// struct.
func (v Value) Len() int { return len(v.kids) }

// Index returns element i of a list or sexp.
func (v Value) Index(i int) Value { return v.kids[i].Value }

// Elems returns the elements of a list or sexp.
func (v Value) Elems() []Value {
	out := make([]Value, len(v.kids))
	for i := range v.kids {
		out[i] = v.kids[i].Value
	}
	return out
}

// Fields returns the fields of a struct, which the caller must not modify.
func (v Value) Fields() []Field { return v.kids }

// Get returns the first field of a struct with the given name.
func (v Value) Get(name string) (Value, bool) {
	for i := range v.kids {
		if f := &v.kids[i]; !f.Name.zero && f.Name.text == name {
			return f.Value, true
		}
	}
	return Value{}, false
}

// Equal reports whether a and b are the same Ion value: same type,
// annotations and content, with struct fields compared as a multiset (field
// order does not matter, repeated names do), decimals by coefficient and
// exponent (1.0 differs from 1.00) and timestamps by instant, offset and
// precision. Values that are Equal have the same Ion hash.
func Equal(a, b Value) bool {
	if a.typ != b.typ || a.flags != b.flags || len(a.annots) != len(b.annots) {
		return false
	}
	for i := range a.annots {
		if a.annots[i] != b.annots[i] {
			return false
		}
	}
	if a.IsNull() {
		return true
	}
	switch a.typ {
	case IntType, DecimalType:
		return a.exp == b.exp && a.BigInt().Cmp(b.BigInt()) == 0
	case FloatType:
		fa, fb := a.FloatValue(), b.FloatValue()
		return a.n == b.n || math.IsNaN(fa) && math.IsNaN(fb)
	case TimestampType:
		return a.TimestampValue().Equal(b.TimestampValue())
	case ListType, SexpType:
		if len(a.kids) != len(b.kids) {
			return false
		}
		for i := range a.kids {
			if !Equal(a.kids[i].Value, b.kids[i].Value) {
				return false
			}
		}
		return true
	case StructType:
		return equalFields(a.kids, b.kids)
	default:
		return a.n == b.n && a.str == b.str
	}
}

func equalFields(a, b []Field) bool {
	if len(a) != len(b) {
		return false
	}
	used := make([]bool, len(b))
	for _, fa := range a {
		found := false
		for j, fb := range b {
			if !used[j] && fa.Name == fb.Name && Equal(fa.Value, fb.Value) {
				used[j], found = true, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// Validate checks what the constructors cannot: that every string, symbol,
// field name and annotation is valid UTF-8, so that the value's text, binary
// and hash all describe the same characters. The journal validates every
// document before hashing it.
func (v Value) Validate() error {
	if bad := findInvalid(&v); bad != nil {
		return fmt.Errorf("ion: %s at %s is not valid UTF-8", bad.what, bad.path())
	}
	return nil
}

// invalidAt locates an invalid value; the path is built only on failure,
// because Validate runs on every document committed.
type invalidAt struct {
	what  string
	steps []string // innermost first
}

func (e *invalidAt) path() string {
	var b strings.Builder
	for i := len(e.steps) - 1; i >= 0; i-- {
		b.WriteString(e.steps[i])
	}
	return pathOrTop(b.String())
}

func findInvalid(v *Value) *invalidAt {
	for _, a := range v.annots {
		if !utf8.ValidString(a.text) {
			return &invalidAt{what: "annotation"}
		}
	}
	if (v.typ == StringType || v.typ == SymbolType) && !utf8.ValidString(v.str) {
		return &invalidAt{what: v.typ.String()}
	}
	for i := range v.kids {
		step := func() string { return fmt.Sprintf("[%d]", i) }
		if v.typ == StructType {
			if !utf8.ValidString(v.kids[i].Name.text) {
				return &invalidAt{what: "field name", steps: []string{step()}}
			}
			step = func() string { return "." + v.kids[i].Name.String() }
		}
		if bad := findInvalid(&v.kids[i].Value); bad != nil {
			bad.steps = append(bad.steps, step())
			return bad
		}
	}
	return nil
}

func pathOrTop(path string) string {
	if path == "" {
		return "the top level"
	}
	return strings.TrimPrefix(path, ".")
}
