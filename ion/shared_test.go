package ion

import (
	"bytes"
	"strconv"
	"testing"

	amzion "github.com/amazon-ion/ion-go/ion"
	"github.com/stretchr/testify/require"
)

var testShared = RegisterSharedSymbolTable("quill.test", 1, "transactionInfo", "statements", "colour")

func sharedSample() Value {
	return Struct(
		F("transactionInfo", Struct(F("statements", List(String("x"), SymbolValue(Sym("colour")))))),
		F("local", Int(1)),
		F("colour", SymbolValue(Sym("local"))),
		F("notes", String("n")).WithAnnotation("colour"))
}

// withAnnotation is a helper for the sample: an annotated field value.
func (f Field) WithAnnotation(a string) Field {
	f.Value = f.Value.WithAnnotations(Sym(a))
	return f
}

// TestSharedSymbolTableRoundTrip: a stream that imports a registered
// shared table reads back as the same value with the same hash, lists only
// the symbols the table lacks, and reads the same with ion-go given the
// table in its catalog (the import is standard Ion).
func TestSharedSymbolTableRoundTrip(t *testing.T) {
	v := sharedSample()
	local := AppendBinary(nil, v)
	shared := AppendBinaryShared(nil, v, testShared)
	require.Less(t, len(shared), len(local))
	require.NotContains(t, string(shared), "transactionInfo", "the shared table's symbols are not listed")
	require.Contains(t, string(shared), "notes", "symbols the table lacks are")

	back, err := Parse(shared)
	require.NoError(t, err)
	require.True(t, Equal(v, back), "%s became %s", v, back)
	sum, ok := HashBinaryStruct(shared)
	require.True(t, ok)
	require.Equal(t, Hash(v), sum)

	cat := amzion.NewCatalog(amzion.NewSharedSymbolTable("quill.test", 1, []string{"transactionInfo", "statements", "colour"}))
	r := amzion.NewReaderCat(bytes.NewReader(shared), cat)
	require.True(t, r.Next(), "ion-go: %v", r.Err())
	theirs, err := readValue(r)
	require.NoError(t, err)
	require.True(t, Equal(v, theirs), "ion-go read %s", theirs)
}

func TestSharedSymbolTableImportRules(t *testing.T) {
	v := sharedSample()
	// An import of a table the decoder does not know is refused.
	unknown := &SharedSymbolTable{name: "quill.unknown", version: 1, symbols: testShared.symbols, sids: testShared.sids}
	_, err := Parse(AppendBinaryShared(nil, v, unknown))
	require.ErrorContains(t, err, `shared symbol table "quill.unknown" version 1 is not known`)

	// max_id decides how many SIDs the import takes: below the table's
	// size the later symbols are not imported, above it the extra SIDs
	// exist with unknown text.
	doc := Struct(F("colour", Int(7))) // colour is SID 12, the table's third
	bin := AppendBinaryShared(nil, doc, testShared)
	i := bytes.Index(bin, []byte{0x88, 0x21, 0x03}) // max_id: 3
	require.Positive(t, i)
	bin[i+2] = 0x02
	_, err = Parse(bin)
	require.ErrorContains(t, err, "symbol ID 12 is not in the symbol table")
	bin[i+2] = 0x05
	back, err := Parse(bin)
	require.NoError(t, err)
	require.True(t, Equal(doc, back), "%s", back)

	require.Panics(t, func() { RegisterSharedSymbolTable("quill.test", 1, "other") })
	RegisterSharedSymbolTable("quill.test.spaces", 1, "a", "b")
	require.Panics(t, func() { RegisterSharedSymbolTable("quill.test.spaces", 1, "a b") }, "one symbol with a space is not two")
	require.Same(t, testShared, RegisterSharedSymbolTable("quill.test", 1, "transactionInfo", "statements", "colour"))
}

// TestSymbolTableCache: a local symbol table read once is applied from the
// cache the next time its bytes come (the value reads the same), and the
// cache stays bounded.
func TestSymbolTableCache(t *testing.T) {
	doc := Struct(F("cacheTestFieldA", Int(1)), F("cacheTestFieldB", SymbolValue(Sym("cacheTestSymbol"))))
	bin := AppendBinary(nil, doc)
	first, err := Parse(bin)
	require.NoError(t, err)
	require.Equal(t, byte(0xEE), bin[4], "a wrapper with a VarUInt length")
	end := 6 + int(bin[5]&0x7F) // IVM, type descriptor, a one-byte length
	symbolTableCache.mu.RLock()
	_, cached := symbolTableCache.m[string(bin[4:end])]
	symbolTableCache.mu.RUnlock()
	require.True(t, cached, "the table %x was remembered", bin[4:end])
	again, err := Parse(bin)
	require.NoError(t, err)
	require.True(t, Equal(first, again))
	require.True(t, Equal(doc, again))
	sum, ok := HashBinaryStruct(bin)
	require.True(t, ok)
	require.Equal(t, Hash(doc), sum)

	for i := range 2 * symbolTableCacheSize {
		_, err := Parse(AppendBinary(nil, Struct(F("f"+strconv.Itoa(i), Int(1)))))
		require.NoError(t, err)
	}
	symbolTableCache.mu.RLock()
	n := len(symbolTableCache.m)
	symbolTableCache.mu.RUnlock()
	require.LessOrEqual(t, n, symbolTableCacheSize)
}
