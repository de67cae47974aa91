package ion

import (
	"bytes"
	"slices"
	"testing"

	amzion "github.com/amazon-ion/ion-go/ion"
	"github.com/stretchr/testify/require"
)

// checkHashBinaryStruct requires HashBinaryStruct to agree with Parse:
// ok exactly when data parses to one non-null, unannotated struct, and
// then the hash of that struct.
func checkHashBinaryStruct(t testing.TB, data []byte) {
	t.Helper()
	sum, ok := HashBinaryStruct(data)
	v, err := Parse(data)
	isDoc := err == nil && IsBinary(data) && v.Type() == StructType && !v.IsNull() && len(v.Annotations()) == 0
	if !ok {
		// Refusing is always safe (the caller parses), but a document
		// from a writer must take the fast path.
		return
	}
	require.True(t, isDoc, "HashBinaryStruct accepted %x, which Parse reads as %v (err %v)", data, v, err)
	require.Equal(t, Hash(v), sum, "hash of %x (%s)", data, v)
}

func TestHashBinaryStructAgreesWithHashOnRandomDocuments(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 300
	}
	accepted := 0
	for seed := range uint64(n) {
		g := genFromSeed(seed)
		fields := make([]Field, 1+g.intn(6))
		for i := range fields {
			fields[i] = Field{Name: g.symbol(), Value: g.value(1)}
		}
		doc := Struct(fields...)
		// Quill's encoder, and ion-go's writer (its own symbol table
		// layout), through Go's Ion marshalling of the parsed value.
		ours := AppendBinary(nil, doc)
		sum, ok := HashBinaryStruct(ours)
		require.True(t, ok, "seed %d: %s", seed, doc)
		require.Equal(t, Hash(doc), sum, "seed %d: %s", seed, doc)
		accepted++
		text, err := MarshalText(doc)
		require.NoError(t, err)
		theirs := ionGoBinary(t, text)
		if sum, ok := HashBinaryStruct(theirs); ok {
			require.Equal(t, Hash(doc), sum, "seed %d, ion-go's binary of %s", seed, text)
		} else {
			t.Fatalf("seed %d: ion-go's binary of %s was refused", seed, text)
		}
	}
	require.Equal(t, n, accepted)
}

// ionGoBinary re-encodes Ion text with ion-go's binary writer, whose
// symbol tables are laid out differently from Quill's.
func ionGoBinary(t testing.TB, text []byte) []byte {
	t.Helper()
	r := amzion.NewReaderBytes(text)
	var buf bytes.Buffer
	w := amzion.NewBinaryWriter(&buf)
	require.True(t, r.Next(), "%s", text)
	require.NoError(t, copyIonValue(r, w))
	require.NoError(t, w.Finish())
	return buf.Bytes()
}

func copyIonValue(r amzion.Reader, w amzion.Writer) error {
	anns, err := r.Annotations()
	if err != nil {
		return err
	}
	if len(anns) > 0 {
		if err := w.Annotations(anns...); err != nil {
			return err
		}
	}
	if r.IsNull() {
		return w.WriteNullType(r.Type())
	}
	switch r.Type() {
	case amzion.BoolType:
		b, _ := r.BoolValue()
		return w.WriteBool(*b)
	case amzion.IntType:
		i, _ := r.BigIntValue()
		return w.WriteBigInt(i)
	case amzion.FloatType:
		f, _ := r.FloatValue()
		return w.WriteFloat(*f)
	case amzion.DecimalType:
		d, _ := r.DecimalValue()
		return w.WriteDecimal(d)
	case amzion.TimestampType:
		ts, _ := r.TimestampValue()
		return w.WriteTimestamp(*ts)
	case amzion.SymbolType:
		s, _ := r.SymbolValue()
		return w.WriteSymbol(*s)
	case amzion.StringType:
		s, _ := r.StringValue()
		return w.WriteString(*s)
	case amzion.ClobType:
		b, _ := r.ByteValue()
		return w.WriteClob(b)
	case amzion.BlobType:
		b, _ := r.ByteValue()
		return w.WriteBlob(b)
	}
	typ := r.Type()
	if err := r.StepIn(); err != nil {
		return err
	}
	switch typ {
	case amzion.StructType:
		err = w.BeginStruct()
	case amzion.ListType:
		err = w.BeginList()
	default:
		err = w.BeginSexp()
	}
	if err != nil {
		return err
	}
	for r.Next() {
		if typ == amzion.StructType {
			name, err := r.FieldName()
			if err != nil {
				return err
			}
			if err := w.FieldName(*name); err != nil {
				return err
			}
		}
		if err := copyIonValue(r, w); err != nil {
			return err
		}
	}
	if err := r.StepOut(); err != nil {
		return err
	}
	switch typ {
	case amzion.StructType:
		return w.EndStruct()
	case amzion.ListType:
		return w.EndList()
	}
	return w.EndSexp()
}

func TestHashBinaryStructRefusesWhatIsNotADocument(t *testing.T) {
	for _, text := range []string{`1`, `null.struct`, `a::{x:1}`, `[{x:1}]`, `{x:1} {y:2}`, `"s"`} {
		vals, err := ParseAll([]byte(text))
		require.NoError(t, err)
		var bin []byte
		for _, v := range vals {
			b := AppendBinary(nil, v)
			if bin == nil {
				bin = b
			} else {
				bin = append(bin, b[4:]...)
			}
		}
		_, ok := HashBinaryStruct(bin)
		require.False(t, ok, "%s", text)
	}
	_, ok := HashBinaryStruct([]byte(`{x:1}`))
	require.False(t, ok, "Ion text")
	bin := AppendBinary(nil, Struct(F("s", String("caf\u00e9"))))
	bad := append([]byte(nil), bin...)
	bad[len(bad)-1] = 0xFF // no longer UTF-8
	_, ok = HashBinaryStruct(bad)
	require.False(t, ok, "a string that is not UTF-8")
	_, ok = HashBinaryStruct(bin[:len(bin)-1])
	require.False(t, ok, "truncated")
}

func FuzzHashBinaryStructAgreesWithParse(f *testing.F) {
	for _, text := range []string{`{a:1,b:[true,null.int,"x"],c:ann::2019-09-16T19:37:05.360Z}`,
		`{d:-0d-3, e:1.5e0, f:{{AQID}}, g:{{"c"}}, h:(s $0), i:{}, j:null}`, `{'$ion_symbol_table':x::y}`} {
		v, err := ParseText(text)
		require.NoError(f, err)
		f.Add(AppendBinary(nil, v)[4:])
	}
	f.Add([]byte{0xD3, 0x8A, 0x21, 0x01})
	f.Fuzz(func(t *testing.T, body []byte) {
		checkHashBinaryStruct(t, append(append([]byte(nil), ivm...), body...))
	})
}

// TestStructHashFromFieldDigests: a struct hashed from its fields' digests
// (the journal's block header, whose fields repeat from block to block) is
// Hash of the struct, nested or not, whatever the order of the digests.
func TestStructHashFromFieldDigests(t *testing.T) {
	for seed := range uint64(500) {
		g := genFromSeed(seed)
		fields := make([]Field, 1+g.intn(6))
		digests := make([][32]byte, len(fields))
		for i := range fields {
			fields[i] = Field{Name: g.symbol(), Value: g.value(1)}
			name, ok := fields[i].Name.Text()
			if !ok { // $0: FieldDigest takes names as text
				name = "z"
				fields[i].Name = Sym(name)
			}
			digests[i] = FieldDigest(name, fields[i].Value)
		}
		require.Equal(t, Hash(Struct(fields...)), StructHash(digests...), "seed %d", seed)
		slices.Reverse(digests)
		require.Equal(t, Hash(Struct(fields...)), StructHash(digests...), "seed %d, digests reversed", seed)
		outer := Struct(F("inner", Struct(fields...)), F("n", Int(int64(seed))))
		require.Equal(t, Hash(outer), StructHash(StructFieldDigest("inner", digests...), FieldDigest("n", Int(int64(seed)))), "seed %d, nested", seed)
		// A list of structs, as transactionInfo.statements: the struct
		// above, an empty one, and it again.
		list := Struct(F("list", List(Struct(fields...), Struct(), Struct(fields...))))
		require.Equal(t, Hash(list), StructHash(StructListFieldDigest("list", digests, nil, digests)), "seed %d, list", seed)
	}
	require.Equal(t, Hash(Struct(F("l", List()))), StructHash(StructListFieldDigest("l")), "empty list")
}
