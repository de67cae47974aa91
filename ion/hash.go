package ion

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"math"
	"math/big"
	"slices"
	"sync"
	"time"
)

// Ion Hash 1.0 markers.
const (
	markBegin  = 0x0B
	markEnd    = 0x0E
	markEscape = 0x0C
)

// typeQualifier is the high nibble of each type's type qualifier (TQ) byte.
var typeQualifier = [...]byte{
	NullType: 0x00, BoolType: 0x10, IntType: 0x20, FloatType: 0x40, DecimalType: 0x50,
	TimestampType: 0x60, SymbolType: 0x70, StringType: 0x80, ClobType: 0x90, BlobType: 0xA0,
	ListType: 0xB0, SexpType: 0xC0, StructType: 0xD0,
}

// Hash returns the Ion Hash 1.0 of v with SHA-256: the hash QLDB uses for
// revision data and metadata, transactionInfo and statement digests.
//
// Annotations are part of the hash; struct field order is not; decimals keep
// their exponent and timestamps their precision and offset.
func Hash(v Value) [sha256.Size]byte {
	h := pooledHasher()
	h.value(&v)
	return h.sumAndRelease()
}

var hasherPool = sync.Pool{New: func() any {
	// One SHA-256 state per hasher, reset for each digest: ~10% cheaper
	// than sha256.Sum256 for the short pre-images of fields.
	sha := sha256.New()
	return &hasher{digest: func(dst, msg []byte) []byte {
		sha.Reset()
		sha.Write(msg)
		return sha.Sum(dst)
	}}
}}

// pooledHasher returns a warm hasher; sumAndRelease gives it back.
func pooledHasher() *hasher { return hasherPool.Get().(*hasher) }

// sumAndRelease returns the hash of what h serialised and returns h to
// the pool.
func (h *hasher) sumAndRelease() [sha256.Size]byte {
	sum := sha256.Sum256(h.buf)
	h.release()
	return sum
}

// release returns h to the pool, empty.
func (h *hasher) release() {
	h.reset()
	hasherPool.Put(h)
}

// span locates one field digest inside hasher.digests.
type span struct{ off, n int }

// hasher serialises values into the Ion Hash pre-image s(v). Struct field
// digests are computed as the struct is serialised; all state lives in
// stacks that nested structs push onto and pop, so a warm hasher does not
// allocate.
type hasher struct {
	digest  func(dst, msg []byte) []byte // the hash function h of the spec
	buf     []byte                       // s(v) of the values being serialised
	digests []byte                       // field digests of the open structs
	spans   []span
	scratch []byte // escapeFrom's copy of the bytes it escapes
}

func (h *hasher) reset() {
	h.buf, h.digests, h.spans = h.buf[:0], h.digests[:0], h.spans[:0]
}

// preimage returns s(v), the bytes that h is applied to at the top level.
func (h *hasher) preimage(v Value) []byte {
	h.value(&v)
	out := append([]byte(nil), h.buf...)
	h.reset()
	return out
}

func (h *hasher) value(v *Value) {
	if len(v.annots) > 0 {
		h.buf = append(h.buf, markBegin, 0xE0)
		for _, a := range v.annots {
			h.symbol(a)
		}
	}
	switch {
	case v.IsNull():
		h.buf = append(h.buf, markBegin, typeQualifier[v.typ]|0x0F, markEnd)
	case v.typ == StructType:
		h.structValue(v)
	case v.typ == ListType || v.typ == SexpType:
		h.buf = append(h.buf, markBegin, typeQualifier[v.typ])
		for i := range v.kids {
			h.value(&v.kids[i].Value)
		}
		h.buf = append(h.buf, markEnd)
	default:
		h.scalar(v)
	}
	if len(v.annots) > 0 {
		h.buf = append(h.buf, markEnd)
	}
}

// symbol serialises a symbol token as a symbol scalar (field names and
// annotations).
func (h *hasher) symbol(s Symbol) {
	if s.zero {
		h.buf = append(h.buf, markBegin, 0x71, markEnd)
		return
	}
	mark := h.openEscaped(0x70)
	h.buf = append(h.buf, s.text...)
	h.closeEscaped(mark)
}

func (h *hasher) scalar(v *Value) {
	tq := typeQualifier[v.typ]
	switch v.typ {
	case BoolType:
		tq |= byte(v.n)
	case IntType:
		if v.flags&flagNeg != 0 {
			tq = 0x30
		}
	case SymbolType:
		if v.flags&flagZero != 0 {
			tq |= 0x01
		}
	}
	mark := h.openEscaped(tq)
	h.buf = appendRepr(h.buf, v)
	h.closeEscaped(mark)
}

// openEscaped begins a value whose representation is escaped (a scalar, a
// symbol, a struct's sorted digests): its begin marker and type qualifier.
// The representation goes after the returned mark; closeEscaped escapes
// it and ends the value.
func (h *hasher) openEscaped(tq byte) (mark int) {
	h.buf = append(h.buf, markBegin, tq)
	return len(h.buf)
}

func (h *hasher) closeEscaped(mark int) {
	h.escapeFrom(mark)
	h.buf = append(h.buf, markEnd)
}

// isMarker flags the bytes that escapeFrom escapes.
var isMarker = [256]bool{markBegin: true, markEnd: true, markEscape: true}

// SWAR constants: a byte's copy in every lane of a word.
const (
	lanes01 = 0x0101010101010101
	lanes7F = 0x7F7F7F7F7F7F7F7F
	lanes80 = 0x8080808080808080
)

// mayHoldMarker reports whether a word of 8 bytes may hold a marker: it
// flags every lane between 0x0B and 0x0E (the markers and 0x0D), with
// no false negatives (Anderson's "has between" bit trick).
func mayHoldMarker(x uint64) bool {
	low := x & lanes7F
	return (lanes01*(127+0x0F)-low)&^x&(low+lanes01*(127-0x0A))&lanes80 != 0
}

// nextMarker returns the index of the first marker byte in b, or -1. It
// tests a word at a time: the concatenated field digests of a struct are
// hundreds of bytes, and while a third of the digests hold a marker (a
// 32-byte digest with probability 0.31), only one word in nine may (0.11).
func nextMarker(b []byte) int {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if mayHoldMarker(binary.LittleEndian.Uint64(b[i:])) {
			for j := i; j < i+8; j++ {
				if isMarker[b[j]] {
					return j
				}
			}
		}
	}
	for ; i < len(b); i++ {
		if isMarker[b[i]] {
			return i
		}
	}
	return -1
}

// escapeFrom escapes the marker bytes in h.buf[mark:], in place.
func (h *hasher) escapeFrom(mark int) {
	tail := h.buf[mark:]
	first := nextMarker(tail)
	if first < 0 {
		return
	}
	h.scratch = append(h.scratch[:0], tail[first:]...)
	h.buf = h.buf[:mark+first]
	rest := h.scratch
	for {
		// rest[0] is a marker; copy it escaped, then the run up to the
		// next one.
		h.buf = append(h.buf, markEscape, rest[0])
		rest = rest[1:]
		next := nextMarker(rest)
		if next < 0 {
			h.buf = append(h.buf, rest...)
			return
		}
		h.buf = append(h.buf, rest[:next]...)
		rest = rest[next:]
	}
}

func (h *hasher) structValue(v *Value) {
	base := len(h.spans)
	for i := range v.kids {
		f := &v.kids[i]
		mark := len(h.buf)
		h.symbol(f.Name)
		h.value(&f.Value)
		h.addFieldDigest(mark)
		h.buf = h.buf[:mark]
	}
	h.finishStruct(base)
}

// addFieldDigest records the digest of the field serialised in h.buf[mark:].
func (h *hasher) addFieldDigest(mark int) {
	off := len(h.digests)
	h.digests = h.digest(h.digests, h.buf[mark:])
	h.spans = append(h.spans, span{off: off, n: len(h.digests) - off})
}

// finishStruct serialises the struct whose field digests were recorded
// from span base on: the digests sorted, escaped, between markers.
func (h *hasher) finishStruct(base int) {
	fields := h.spans[base:]
	if len(fields) == 0 {
		h.buf = append(h.buf, markBegin, 0xD0, markEnd)
		return
	}
	start := fields[0].off // the struct's digests start here, before sorting
	d := h.digests
	slices.SortFunc(fields, func(a, b span) int {
		// Digests are SHA-256s: their first 8 bytes almost always differ,
		// and comparing them as one big-endian word is the byte order.
		if x, y := binary.BigEndian.Uint64(d[a.off:]), binary.BigEndian.Uint64(d[b.off:]); x != y {
			return cmp.Compare(x, y)
		}
		return bytes.Compare(d[a.off:a.off+a.n], d[b.off:b.off+b.n])
	})
	mark := h.openEscaped(0xD0)
	for _, s := range fields {
		h.buf = append(h.buf, d[s.off:s.off+s.n]...)
	}
	h.closeEscaped(mark)
	h.digests = h.digests[:start]
	h.spans = h.spans[:base]
}

// appendRepr appends the Ion Hash representation of a non-null scalar: the
// minimal Ion binary encoding of its value without type or length.
func appendRepr(b []byte, v *Value) []byte {
	switch v.typ {
	case IntType:
		return appendMagnitude(b, v)
	case FloatType:
		bits := v.n
		switch {
		case bits == 0: // positive zero has no representation
			return b
		case math.IsNaN(math.Float64frombits(bits)):
			bits = canonicalNaN
		}
		return append(b, byte(bits>>56), byte(bits>>48), byte(bits>>40), byte(bits>>32),
			byte(bits>>24), byte(bits>>16), byte(bits>>8), byte(bits))
	case DecimalType:
		return appendDecimalRepr(b, v)
	case TimestampType:
		return appendTimestampRepr(b, v.TimestampValue())
	case SymbolType, StringType, ClobType, BlobType:
		return append(b, v.str...)
	}
	return b // bool: no representation
}

// appendMagnitude appends the big-endian unsigned magnitude of an int or a
// decimal coefficient, with no leading zero bytes (zero: nothing).
func appendMagnitude(b []byte, v *Value) []byte {
	if m, ok := v.ext.(*big.Int); ok {
		start, n := len(b), (m.BitLen()+7)/8
		b = slices.Grow(b, n)[:start+n]
		m.FillBytes(b[start:])
		return b
	}
	return appendUintBE(b, v.n)
}

func appendUintBE(b []byte, u uint64) []byte {
	started := false
	for shift := 56; shift >= 0; shift -= 8 {
		c := byte(u >> uint(shift))
		if c != 0 || started {
			b = append(b, c)
			started = true
		}
	}
	return b
}

func appendDecimalRepr(b []byte, v *Value) []byte {
	neg := v.flags&flagNeg != 0
	zero := v.n == 0 && v.ext == nil
	if zero && v.exp == 0 && !neg {
		return b // 0d0 has no representation
	}
	b = appendVarInt(b, int64(v.exp))
	switch {
	case zero && neg:
		return append(b, 0x80) // -0: a sign bit with no magnitude
	case zero:
		return b
	}
	return appendIonInt(b, neg, v)
}

// appendIonInt appends Ion's Int field for a non-zero magnitude: big-endian
// sign and magnitude, with a leading byte added when the magnitude's top bit
// would collide with the sign bit.
func appendIonInt(b []byte, neg bool, v *Value) []byte {
	start := len(b)
	b = append(b, 0)
	b = appendMagnitude(b, v)
	if b[start+1]&0x80 == 0 {
		b = append(b[:start], b[start+1:]...)
	}
	if neg {
		b[start] |= 0x80
	}
	return b
}

// appendVarInt appends Ion's VarInt: sign-and-magnitude in 7-bit groups,
// the sign in bit 6 of the first byte, the last byte marked by bit 7.
func appendVarInt(b []byte, i int64) []byte {
	mag := uint64(i)
	var sign byte
	if i < 0 {
		mag, sign = uint64(-i), 0x40
	}
	// Number of 7-bit groups, the first of which has only 6 magnitude bits.
	groups := 1
	for m := mag >> 6; m != 0; m >>= 7 {
		groups++
	}
	for g := groups - 1; g >= 0; g-- {
		c := byte(mag>>(7*uint(g))) & 0x7F
		if g == groups-1 {
			c |= sign
		}
		if g == 0 {
			c |= 0x80
		}
		b = append(b, c)
	}
	return b
}

// appendVarUint appends Ion's VarUInt: 7-bit groups, the last byte marked
// by bit 7.
func appendVarUint(b []byte, u uint64) []byte {
	groups := 1
	for m := u >> 7; m != 0; m >>= 7 {
		groups++
	}
	for g := groups - 1; g >= 0; g-- {
		c := byte(u>>(7*uint(g))) & 0x7F
		if g == 0 {
			c |= 0x80
		}
		b = append(b, c)
	}
	return b
}

// FieldDigest returns the Ion Hash digest of one struct field, h(s(name) ||
// s(v)). A struct's hash depends on its fields only through these digests
// (sorted), so a caller that hashes many structs sharing some fields can
// digest those once and finish each struct with StructHash.
func FieldDigest(name string, v Value) [sha256.Size]byte {
	h := pooledHasher()
	h.symbol(Sym(name))
	h.value(&v)
	return h.sumAndRelease()
}

// SystemTimeFieldDigest returns FieldDigest(name, SystemTime(t)) without
// making the timestamp value.
func SystemTimeFieldDigest(name string, t time.Time) [sha256.Size]byte {
	h := pooledHasher()
	h.symbol(Sym(name))
	mark := h.openEscaped(typeQualifier[TimestampType])
	h.buf = appendSystemTimeRepr(h.buf, t)
	h.closeEscaped(mark)
	return h.sumAndRelease()
}

// StructHash returns Hash of an unannotated struct whose fields have the
// given digests (FieldDigest), in any order.
func StructHash(fields ...[sha256.Size]byte) [sha256.Size]byte {
	h := pooledHasher()
	h.structFromDigests(fields)
	return h.sumAndRelease()
}

// StructFieldDigest returns FieldDigest of a field named name whose value
// is an unannotated struct with the given field digests.
func StructFieldDigest(name string, fields ...[sha256.Size]byte) [sha256.Size]byte {
	h := pooledHasher()
	h.symbol(Sym(name))
	h.structFromDigests(fields)
	return h.sumAndRelease()
}

// StructListFieldDigest returns FieldDigest of a field named name whose
// value is an unannotated list of unannotated structs, each given by its
// field digests: QLDB's transactionInfo.statements.
func StructListFieldDigest(name string, structs ...[][sha256.Size]byte) [sha256.Size]byte {
	h := pooledHasher()
	h.symbol(Sym(name))
	h.buf = append(h.buf, markBegin, typeQualifier[ListType])
	for _, fields := range structs {
		h.structFromDigests(fields)
	}
	h.buf = append(h.buf, markEnd)
	return h.sumAndRelease()
}

// structFromDigests serialises a struct given its field digests.
func (h *hasher) structFromDigests(fields [][sha256.Size]byte) {
	base := len(h.spans)
	for i := range fields {
		h.spans = append(h.spans, span{off: len(h.digests), n: sha256.Size})
		h.digests = append(h.digests, fields[i][:]...)
	}
	h.finishStruct(base)
}
