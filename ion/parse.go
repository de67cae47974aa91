package ion

import (
	"bytes"
	"errors"
	"fmt"

	amzion "github.com/amazon-ion/ion-go/ion"
)

// ivm is the Ion 1.0 binary version marker that starts every binary stream.
var ivm = []byte{0xE0, 0x01, 0x00, 0xEA}

// IsBinary reports whether data starts with the Ion binary version marker.
func IsBinary(data []byte) bool { return bytes.HasPrefix(data, ivm) }

// ErrNotOneValue is returned by Parse when the input holds no value or more
// than one top-level value.
var ErrNotOneValue = errors.New("ion: input must hold exactly one top-level value")

// Parse decodes exactly one top-level Ion value from text or binary (binary
// is recognised by its version marker).
func Parse(data []byte) (Value, error) {
	vals, err := ParseAll(data)
	if err != nil {
		return Value{}, err
	}
	if len(vals) != 1 {
		return Value{}, fmt.Errorf("%w (found %d)", ErrNotOneValue, len(vals))
	}
	return vals[0], nil
}

// ParseText decodes exactly one top-level value from Ion text.
func ParseText(text string) (Value, error) { return Parse([]byte(text)) }

// ParseAll decodes every top-level value of an Ion text or binary stream.
// Binary is read by Quill's own decoder, text by ion-go's reader (after a
// fast path for the common forms, see textfast.go).
func ParseAll(data []byte) ([]Value, error) {
	if IsBinary(data) {
		return parseBinary(data)
	}
	if vals, ok := parseTextFast(data); ok {
		return vals, nil
	}
	return parseTextIonGo(data)
}

// parseTextIonGo reads Ion text with ion-go's reader.
func parseTextIonGo(data []byte) ([]Value, error) {
	r := amzion.NewReaderBytes(data)
	var out []Value
	for r.Next() {
		v, err := readValue(r)
		if err != nil {
			return nil, fmt.Errorf("ion: value %d: %w", len(out), err)
		}
		out = append(out, v)
	}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("ion: value %d: %w", len(out), err)
	}
	return out, nil
}

func symbolFromToken(t amzion.SymbolToken) Symbol {
	if t.Text == nil {
		return SymbolZero
	}
	return Sym(*t.Text)
}

// readValue converts the reader's current value, recursively.
func readValue(r amzion.Reader) (Value, error) {
	// Annotations first: reading a container's content moves the reader.
	anns, err := r.Annotations()
	if err != nil {
		return Value{}, err
	}
	v, err := readUnannotated(r)
	if err != nil {
		return Value{}, err
	}
	if len(anns) > 0 {
		v.annots = make([]Symbol, len(anns))
		for i, a := range anns {
			v.annots[i] = symbolFromToken(a)
		}
	}
	return v, nil
}

var typeFromReader = map[amzion.Type]Type{
	amzion.NullType: NullType, amzion.BoolType: BoolType, amzion.IntType: IntType,
	amzion.FloatType: FloatType, amzion.DecimalType: DecimalType, amzion.TimestampType: TimestampType,
	amzion.SymbolType: SymbolType, amzion.StringType: StringType, amzion.ClobType: ClobType,
	amzion.BlobType: BlobType, amzion.ListType: ListType, amzion.SexpType: SexpType,
	amzion.StructType: StructType,
}

func readUnannotated(r amzion.Reader) (Value, error) {
	t, ok := typeFromReader[r.Type()]
	if !ok {
		return Value{}, fmt.Errorf("unsupported Ion type %v", r.Type())
	}
	if r.IsNull() {
		return NullOf(t), nil
	}
	switch t {
	case BoolType:
		b, err := r.BoolValue()
		if err != nil {
			return Value{}, err
		}
		return Bool(*b), nil
	case IntType:
		size, err := r.IntSize()
		if err != nil {
			return Value{}, err
		}
		if size == amzion.BigInt {
			i, err := r.BigIntValue()
			if err != nil {
				return Value{}, err
			}
			return BigInt(i), nil
		}
		i, err := r.Int64Value()
		if err != nil {
			return Value{}, err
		}
		return Int(*i), nil
	case FloatType:
		f, err := r.FloatValue()
		if err != nil {
			return Value{}, err
		}
		return Float(*f), nil
	case DecimalType:
		d, err := r.DecimalValue()
		if err != nil {
			return Value{}, err
		}
		return DecimalOf(d), nil
	case TimestampType:
		ts, err := r.TimestampValue()
		if err != nil {
			return Value{}, err
		}
		return Timestamp(*ts), nil
	case SymbolType:
		s, err := r.SymbolValue()
		if err != nil {
			return Value{}, err
		}
		return SymbolValue(symbolFromToken(*s)), nil
	case StringType:
		s, err := r.StringValue()
		if err != nil {
			return Value{}, err
		}
		return String(*s), nil
	case ClobType, BlobType:
		b, err := r.ByteValue()
		if err != nil {
			return Value{}, err
		}
		return Value{typ: t, str: string(b)}, nil
	default:
		return readContainer(r, t)
	}
}

func readContainer(r amzion.Reader, t Type) (Value, error) {
	if err := r.StepIn(); err != nil {
		return Value{}, err
	}
	v := Value{typ: t, kids: []Field{}}
	for r.Next() {
		var f Field
		if t == StructType {
			name, err := r.FieldName()
			if err != nil {
				return Value{}, err
			}
			f.Name = symbolFromToken(*name)
		}
		child, err := readValue(r)
		if err != nil {
			return Value{}, err
		}
		f.Value = child
		v.kids = append(v.kids, f)
	}
	if err := r.Err(); err != nil {
		return Value{}, err
	}
	if err := r.StepOut(); err != nil {
		return Value{}, err
	}
	return v, nil
}
