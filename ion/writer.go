package ion

import (
	"errors"
	"fmt"
	"time"
)

// BinaryWriter writes one Ion binary stream from calls, without building a
// Value: for a writer that knows its stream's shape and every symbol it
// uses before it starts, as the journal knows a block body's. Containers
// get their type descriptor and length when they end. The zero
// BinaryWriter is ready for Start; a writer may be reused.
//
// Its output decodes to the Value the same calls would have built and
// encodes each value as AppendBinary does (shortest lengths, symbols
// looked up in the system table first, timestamps as SystemTime makes
// them).
type BinaryWriter struct {
	e binaryEncoder // its buf, shared and local; its symbol maps are unused
	// firstSID is the SID of the first local symbol: after the system
	// table and the shared one.
	firstSID uint64
	open     []container
	err      error
}

type container struct {
	start int
	typ   byte
}

// Start begins a stream appended to dst: the version marker, then a local
// symbol table that imports shared (if not nil) and lists local. Field
// names may then be system symbols, shared or local ones.
func (w *BinaryWriter) Start(dst []byte, shared *SharedSymbolTable, local ...string) {
	w.e.buf, w.e.shared, w.e.local = append(dst, ivm...), shared, local //nolint:gocritic // appends to the caller's dst
	w.open, w.err = w.open[:0], nil
	w.firstSID = firstLocalSID
	if shared != nil {
		w.firstSID += uint64(len(shared.symbols))
	}
	w.e.appendSymbolTable()
}

// sid returns the SID of a symbol, looked up as AppendBinary does: system
// table first, then the shared table, then the local symbols.
func (w *BinaryWriter) sid(text string) (uint64, bool) {
	if sid, ok := systemSID(text); ok {
		return sid, true
	}
	if w.e.shared != nil {
		if sid, ok := w.e.shared.sids[text]; ok {
			return sid, true
		}
	}
	for i, s := range w.e.local {
		if s == text {
			return w.firstSID + uint64(i), true
		}
	}
	return 0, false
}

// Field writes the name of the next field of the struct being written.
func (w *BinaryWriter) Field(name string) {
	sid, ok := w.sid(name)
	if !ok && w.err == nil {
		w.err = fmt.Errorf("ion: field name %q is not in the stream's symbol tables", name)
	}
	w.e.buf = appendVarUint(w.e.buf, sid)
}

// FieldSID writes a field name given by its symbol ID, looked up once by
// the caller (SharedSymbolTable.SID, LocalSID) instead of at every field.
func (w *BinaryWriter) FieldSID(sid uint64) { w.e.buf = appendVarUint(w.e.buf, sid) }

// LocalSID returns the symbol ID of the i-th local symbol given to Start.
func (w *BinaryWriter) LocalSID(i int) uint64 { return w.firstSID + uint64(i) }

// BeginStruct opens a struct; End closes it.
func (w *BinaryWriter) BeginStruct() { w.open = append(w.open, container{len(w.e.buf), 0xD0}) }

// BeginList opens a list; End closes it.
func (w *BinaryWriter) BeginList() { w.open = append(w.open, container{len(w.e.buf), 0xB0}) }

// End closes the innermost open container.
func (w *BinaryWriter) End() {
	if len(w.open) == 0 {
		if w.err == nil {
			w.err = errors.New("ion: End without an open container")
		}
		return
	}
	c := w.open[len(w.open)-1]
	w.open = w.open[:len(w.open)-1]
	// A struct field takes two bytes at least, so a struct's length is
	// never 1, which would mark it sorted.
	w.e.wrap(c.start, c.typ)
}

// String writes a string.
func (w *BinaryWriter) String(s string) {
	w.e.scalarHeader(0x80, len(s))
	w.e.buf = append(w.e.buf, s...)
}

// Blob writes a blob.
func (w *BinaryWriter) Blob(b []byte) {
	w.e.scalarHeader(0xA0, len(b))
	w.e.buf = append(w.e.buf, b...)
}

// Int writes an int.
func (w *BinaryWriter) Int(n int64) {
	t, mag := byte(0x20), uint64(n)
	if n < 0 {
		t, mag = 0x30, -uint64(n)
	}
	var tmp [8]byte
	m := appendUintBE(tmp[:0], mag)
	w.e.scalarHeader(t, len(m))
	w.e.buf = append(w.e.buf, m...)
}

// SystemTime writes the timestamp SystemTime(t): UTC, to the millisecond.
func (w *BinaryWriter) SystemTime(t time.Time) {
	start := len(w.e.buf)
	w.e.buf = appendSystemTimeRepr(w.e.buf, t)
	w.e.wrap(start, 0x60)
}

// Finish returns the stream, or the first misuse: an unknown field name, a
// container left open or closed twice.
func (w *BinaryWriter) Finish() ([]byte, error) {
	if w.err == nil && len(w.open) > 0 {
		w.err = fmt.Errorf("ion: %d containers left open", len(w.open))
	}
	out, err := w.e.buf, w.err
	w.e.buf, w.e.local = nil, nil // out belongs to the caller
	return out, err
}

// appendSystemTimeRepr appends the representation of SystemTime(t), as
// appendTimestampRepr would, without making the timestamp value: offset
// 0, the date and time in UTC, three fractional digits.
func appendSystemTimeRepr(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	hour, minute, second := t.Clock()
	b = append(b, 0x80) // offset +00:00
	b = appendVarUint(b, uint64(year))
	b = append(b, 0x80|byte(month), 0x80|byte(day), 0x80|byte(hour), 0x80|byte(minute), 0x80|byte(second))
	b = append(b, 0xC3) // exponent -3
	if ms := uint64(t.Nanosecond() / int(time.Millisecond)); ms > 0 {
		b = appendIonInt(b, false, &Value{n: ms})
	}
	return b
}
