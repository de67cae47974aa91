package ion

import (
	"slices"
	"sync"
)

// The Ion binary encoding, written by hand rather than with ion-go's binary
// writer: it is on the commit path of every transaction, it must not
// allocate per value, and ion-go v1.5.0's binary reader cannot read back an
// annotated true (it takes the 0x11 descriptor for a one-byte payload), so
// Quill reads and writes binary with its own codec and uses ion-go for text.

// systemSymbols are the symbols of the Ion 1.0 system symbol table, SIDs 1..9.
var systemSymbols = [...]string{1: "$ion", 2: "$ion_1_0", 3: "$ion_symbol_table", 4: "name",
	5: "version", 6: "imports", 7: "symbols", 8: "max_id", 9: "$ion_shared_symbol_table"}

const (
	sidSymbolTable = 3
	sidImports     = 6
	sidSymbols     = 7
	firstLocalSID  = 10
)

func systemSID(text string) (uint64, bool) {
	for sid := 1; sid < len(systemSymbols); sid++ {
		if systemSymbols[sid] == text {
			return uint64(sid), true
		}
	}
	return 0, false
}

// binaryEncoder writes one Ion binary stream. Reuse it to avoid allocation.
type binaryEncoder struct {
	buf     []byte
	symbols map[string]uint64
	local   []string // local symbols in SID order, from firstLocalSID
	// sids are the SIDs of every symbol the value uses, in the order the
	// encoding writes them (collect and value walk the value alike), so
	// that writing needs no second lookup; next is the one to write next.
	sids []uint64
	next int
	// hint is the size of the last stream encoded: a new stream starts
	// with that much room, not with a run of reallocations.
	hint int
	// shared is the shared symbol table the stream imports, or nil.
	shared *SharedSymbolTable
}

// encoders are reused: an encoder's symbol map and SID list are sized for
// the documents it has seen.
var encoders = sync.Pool{New: func() any { return new(binaryEncoder) }}

// MarshalBinary returns v as an Ion binary stream: version marker, a local
// symbol table when v uses symbols beyond the system table, and the value.
func MarshalBinary(v Value) ([]byte, error) {
	return AppendBinary(nil, v), nil
}

// AppendBinary appends the Ion binary stream of v to dst.
func AppendBinary(dst []byte, v Value) []byte {
	e := encoders.Get().(*binaryEncoder)
	out := e.encode(dst, v)
	e.buf = nil // out belongs to the caller
	encoders.Put(e)
	return out
}

func (e *binaryEncoder) encode(dst []byte, v Value) []byte {
	if e.symbols == nil {
		e.symbols = map[string]uint64{}
	}
	clear(e.symbols)
	e.local = e.local[:0]
	e.sids, e.next = e.sids[:0], 0
	e.collect(&v)

	if dst == nil && e.hint > 0 {
		dst = make([]byte, 0, min(e.hint+e.hint/4, 16<<10))
	}
	e.buf = append(dst, ivm...) //nolint:gocritic // the stream is appended to the caller's dst
	e.appendSymbolTable()
	e.value(&v)
	e.hint = len(e.buf) - len(dst)
	return e.buf
}

// appendSymbolTable appends the local symbol table of a stream that
// imports e.shared and adds e.local, if it needs one:
// $ion_symbol_table::{imports:[...], symbols:["...", ...]}.
func (e *binaryEncoder) appendSymbolTable() {
	if len(e.local) == 0 && e.shared == nil {
		return
	}
	start := len(e.buf)
	e.buf = append(e.buf, 0x81, 0x80|sidSymbolTable) // annot_length 1, the annotation
	structStart := len(e.buf)
	switch {
	case e.shared != nil && e.shared.imports != nil:
		e.buf = append(e.buf, e.shared.imports...) // made once, when registered
	case e.shared != nil:
		e.appendImport()
	}
	if len(e.local) > 0 {
		e.buf = append(e.buf, 0x80|sidSymbols) // field name
		listStart := len(e.buf)
		for _, s := range e.local {
			e.scalarHeader(0x80, len(s))
			e.buf = append(e.buf, s...)
		}
		e.wrap(listStart, 0xB0)
	}
	e.wrap(structStart, 0xD0)
	e.wrap(start, 0xE0)
}

// collect assigns local SIDs to every symbol text v uses.
func (e *binaryEncoder) collect(v *Value) {
	for _, a := range v.annots {
		e.intern(a)
	}
	if v.typ == SymbolType && !v.IsNull() {
		e.intern(v.SymbolToken())
	}
	for i := range v.kids {
		if v.typ == StructType {
			e.intern(v.kids[i].Name)
		}
		e.collect(&v.kids[i].Value)
	}
}

func (e *binaryEncoder) intern(s Symbol) {
	e.sids = append(e.sids, e.internSID(s))
}

func (e *binaryEncoder) internSID(s Symbol) uint64 {
	if s.zero {
		return 0
	}
	// System and shared symbols are looked up where they are (most field
	// names of a block body are shared); only local ones are remembered.
	if sid, ok := systemSID(s.text); ok {
		return sid
	}
	if e.shared != nil {
		if sid, ok := e.shared.sids[s.text]; ok {
			return sid
		}
	}
	if sid, ok := e.symbols[s.text]; ok {
		return sid
	}
	sid := uint64(firstLocalSID + len(e.local))
	if e.shared != nil {
		sid += uint64(len(e.shared.symbols))
	}
	e.local = append(e.local, s.text)
	e.symbols[s.text] = sid
	return sid
}

// nextSID returns the SID of the next symbol to write: collect recorded it
// at the same point of its walk.
func (e *binaryEncoder) nextSID() uint64 {
	sid := e.sids[e.next]
	e.next++
	return sid
}

// scalarHeader appends a type descriptor and, for 14 bytes or more, the
// VarUInt length.
func (e *binaryEncoder) scalarHeader(t byte, n int) {
	if n < 14 {
		e.buf = append(e.buf, t|byte(n))
		return
	}
	e.buf = append(e.buf, t|14)
	e.buf = appendVarUint(e.buf, uint64(n))
}

// wrap puts the type descriptor and length of the content written since
// start in front of it.
func (e *binaryEncoder) wrap(start int, t byte) {
	n := len(e.buf) - start
	var hdr [11]byte
	h := hdr[:0]
	if n < 14 {
		h = append(h, t|byte(n))
	} else {
		h = append(h, t|14)
		h = appendVarUint(h, uint64(n))
	}
	e.buf = slices.Insert(e.buf, start, h...)
}

func (e *binaryEncoder) value(v *Value) {
	start := len(e.buf)
	if len(v.annots) > 0 {
		// Annotation SIDs first, then the value; the annot_length is
		// inserted in front once the SIDs are written.
		for range v.annots {
			e.buf = appendVarUint(e.buf, e.nextSID())
		}
		n := len(e.buf) - start
		var hdr [10]byte
		e.buf = slices.Insert(e.buf, start, appendVarUint(hdr[:0], uint64(n))...)
	}
	e.unannotated(v)
	if len(v.annots) > 0 {
		e.wrap(start, 0xE0)
	}
}

func (e *binaryEncoder) unannotated(v *Value) {
	if v.IsNull() {
		e.buf = append(e.buf, typeQualifier[v.typ]|0x0F)
		return
	}
	switch v.typ {
	case BoolType:
		e.buf = append(e.buf, 0x10|byte(v.n))
	case IntType:
		t := byte(0x20)
		if v.flags&flagNeg != 0 {
			t = 0x30
		}
		e.scalar(t, v)
	case FloatType:
		if v.n == 0 {
			e.buf = append(e.buf, 0x40)
			return
		}
		e.buf = append(e.buf, 0x48)
		e.buf = appendRepr(e.buf, v)
	case StringType, ClobType, BlobType:
		// The length is known: no need to write the bytes first.
		e.scalarHeader(typeQualifier[v.typ], len(v.str))
		e.buf = append(e.buf, v.str...)
	case DecimalType, TimestampType:
		e.scalar(typeQualifier[v.typ], v)
	case SymbolType:
		sid := e.nextSID()
		var tmp [8]byte
		mag := appendUintBE(tmp[:0], sid)
		e.scalarHeader(0x70, len(mag))
		e.buf = append(e.buf, mag...)
	case ListType, SexpType:
		start := len(e.buf)
		for i := range v.kids {
			e.value(&v.kids[i].Value)
		}
		e.wrap(start, typeQualifier[v.typ])
	case StructType:
		start := len(e.buf)
		for i := range v.kids {
			e.buf = appendVarUint(e.buf, e.nextSID())
			e.value(&v.kids[i].Value)
		}
		// A field takes two bytes at least, so the length is never 1,
		// which would mark a sorted struct.
		e.wrap(start, 0xD0)
	}
}

// scalar appends a scalar whose binary representation is the Ion Hash
// representation (ints, decimals, timestamps, text and bytes).
func (e *binaryEncoder) scalar(t byte, v *Value) {
	start := len(e.buf)
	e.buf = appendRepr(e.buf, v)
	e.wrap(start, t)
}
