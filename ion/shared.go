package ion

import (
	"fmt"
	"slices"
	"sync"
)

// SharedSymbolTable is an Ion shared symbol table: a named, versioned list
// of symbols that a binary stream imports by name (and max_id) instead of
// listing them in its local symbol table. A writer that stores many small
// streams with the same field names, as the journal stores block bodies,
// saves the names in every stream; a reader needs the table, so Quill's
// decoder knows every table registered with RegisterSharedSymbolTable and
// refuses a stream that imports another.
//
// A registered table must never change: a new list is a new version, and
// the old version stays registered for the streams written with it.
type SharedSymbolTable struct {
	name    string
	version int
	symbols []string
	syms    []Symbol          // symbols as the decoder's table holds them
	sids    map[string]uint64 // symbol -> SID when imported after the system table
	// imports is the encoded imports field of a local symbol table that
	// imports this table alone (appendImport), made once.
	imports []byte
}

var sharedTables sync.Map // sharedKey -> *SharedSymbolTable

type sharedKey struct {
	name    string
	version int
}

// RegisterSharedSymbolTable registers a shared symbol table for decoding
// and returns it for AppendBinaryShared. Registering the same name and
// version twice with different symbols panics: streams would be misread.
func RegisterSharedSymbolTable(name string, version int, symbols ...string) *SharedSymbolTable {
	t := &SharedSymbolTable{name: name, version: version, symbols: symbols, sids: map[string]uint64{}}
	for i, s := range symbols {
		t.syms = append(t.syms, Sym(s))
		if _, dup := t.sids[s]; !dup {
			t.sids[s] = uint64(firstLocalSID + i)
		}
	}
	e := binaryEncoder{shared: t}
	e.appendImport()
	t.imports = e.buf
	if prev, loaded := sharedTables.LoadOrStore(sharedKey{name, version}, t); loaded {
		p := prev.(*SharedSymbolTable)
		if !slices.Equal(p.symbols, symbols) {
			panic(fmt.Sprintf("ion: shared symbol table %s version %d registered twice with different symbols", name, version))
		}
		return p
	}
	return t
}

// SID returns the symbol ID under which a stream that imports t alone
// writes text, as AppendBinaryShared and BinaryWriter look it up: the
// system table first, then t; ok is false if text is in neither.
func (t *SharedSymbolTable) SID(text string) (sid uint64, ok bool) {
	if sid, ok := systemSID(text); ok {
		return sid, true
	}
	sid, ok = t.sids[text]
	return sid, ok
}

func lookupSharedTable(name string, version int) (*SharedSymbolTable, bool) {
	t, ok := sharedTables.Load(sharedKey{name, version})
	if !ok {
		return nil, false
	}
	return t.(*SharedSymbolTable), true
}

// AppendBinaryShared appends the Ion binary stream of v to dst, its local
// symbol table importing t: the symbols of t are not listed in the stream.
// Only readers that know t (Quill's, after RegisterSharedSymbolTable) can
// read it.
func AppendBinaryShared(dst []byte, v Value, t *SharedSymbolTable) []byte {
	e := encoders.Get().(*binaryEncoder)
	e.shared = t
	out := e.encode(dst, v)
	e.buf, e.shared = nil, nil
	encoders.Put(e)
	return out
}

// appendImport appends the imports field of a local symbol table that
// imports e.shared: imports:[{name:"...", version:N, max_id:N}].
func (e *binaryEncoder) appendImport() {
	e.buf = append(e.buf, 0x80|sidImports)
	listStart := len(e.buf)
	structStart := len(e.buf)
	e.buf = append(e.buf, 0x80|4) // name
	e.scalarHeader(0x80, len(e.shared.name))
	e.buf = append(e.buf, e.shared.name...)
	e.buf = append(e.buf, 0x80|5) // version
	e.appendUintScalar(uint64(e.shared.version))
	e.buf = append(e.buf, 0x80|8) // max_id
	e.appendUintScalar(uint64(len(e.shared.symbols)))
	e.wrap(structStart, 0xD0)
	e.wrap(listStart, 0xB0)
}

func (e *binaryEncoder) appendUintScalar(u uint64) {
	var tmp [8]byte
	mag := appendUintBE(tmp[:0], u)
	e.scalarHeader(0x20, len(mag))
	e.buf = append(e.buf, mag...)
}
