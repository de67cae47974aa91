package ion

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"sync"
	"time"
	"unicode/utf8"

	amzion "github.com/amazon-ion/ion-go/ion"
)

// ErrSyntax is wrapped by every error about malformed Ion binary input.
var ErrSyntax = errors.New("ion: malformed binary")

// binaryDecoder reads an Ion binary stream with local symbol tables that
// import nothing but the system table (what every Ion writer produces
// without a catalog).
type binaryDecoder struct {
	data    []byte
	pos     int
	symbols []Symbol // by SID; index 0 is $0; entries with unknown text are SymbolZero
	// copied is one string copy of data, made at the first text or bytes
	// value: every string, symbol, blob and clob of the stream is a slice
	// of it, one allocation instead of one per value. (The values keep the
	// whole copy alive; they are parts of one document or block.)
	copied string
}

// Decoders are pooled for their symbol table, which every stream starts
// from (the values keep copies of symbols, never the table).
var decoders = sync.Pool{New: func() any { return new(binaryDecoder) }}

// share returns b, a slice of d.data, as a slice of d's one copy of it.
func (d *binaryDecoder) share(b []byte) string {
	if d.copied == "" {
		d.copied = string(d.data)
	}
	off := cap(d.data) - cap(b) // b is d.data[off:off+len(b)]
	return d.copied[off : off+len(b)]
}

func (d *binaryDecoder) fail(format string, args ...any) error {
	return fmt.Errorf("%w at byte %d: %s", ErrSyntax, d.pos, fmt.Sprintf(format, args...))
}

func (d *binaryDecoder) resetSymbols() {
	if d.symbols == nil {
		d.symbols = make([]Symbol, 0, 64) // room for a document's field names
	}
	d.symbols = d.symbols[:0]
	for _, text := range systemSymbols {
		d.symbols = append(d.symbols, Sym(text))
	}
	d.symbols[0] = SymbolZero
}

// pooledDecoder returns a decoder of data from the pool, at the stream's
// start; release gives it back.
func pooledDecoder(data []byte) *binaryDecoder {
	d := decoders.Get().(*binaryDecoder)
	d.data = data
	d.resetSymbols()
	return d
}

func (d *binaryDecoder) release() {
	d.data, d.pos, d.copied = nil, 0, ""
	decoders.Put(d)
}

// parseBinary decodes every top-level value of an Ion binary stream.
func parseBinary(data []byte) ([]Value, error) {
	d := pooledDecoder(data)
	defer d.release()
	var out []Value
	for d.pos < len(d.data) {
		v, skip, err := d.topLevel()
		if err != nil {
			return nil, err
		}
		if !skip {
			out = append(out, v)
		}
	}
	return out, nil
}

// topLevel reads the top-level value at d.pos. A version marker or a local
// symbol table is applied, and it and a NOP pad are skipped (skip true);
// any other value is returned.
func (d *binaryDecoder) topLevel() (v Value, skip bool, err error) {
	if len(d.data)-d.pos >= 4 && string(d.data[d.pos:d.pos+4]) == string(ivm) {
		d.pos += 4
		d.resetSymbols()
		return Value{}, true, nil
	}
	if d.cachedSymbolTable() {
		return Value{}, true, nil
	}
	start := d.pos
	if v, skip, err = d.value(d.len()); err != nil || skip {
		return v, skip, err
	}
	if isSymbolTable(v) {
		return Value{}, true, d.loadSymbolTable(v, d.data[start:d.pos])
	}
	return v, false, nil
}

func (d *binaryDecoder) len() int { return len(d.data) }

func isSymbolTable(v Value) bool {
	return v.typ == StructType && !v.IsNull() && len(v.annots) > 0 && !v.annots[0].zero &&
		v.annots[0].text == "$ion_symbol_table"
}

// loadSymbolTable applies the local symbol table v, read from span (its
// bytes, for the cache: symtabcache.go).
func (d *binaryDecoder) loadSymbolTable(v Value, span []byte) error {
	e, err := d.readSymbolTable(v)
	if err != nil {
		return err
	}
	d.applySymbolTable(e)
	rememberSymbolTable(span, e)
	return nil
}

// readSymbolTable reads a local symbol table: it appends to the current
// table when it imports $ion_symbol_table, and otherwise replaces it with
// the system table, the shared tables it imports (which must be registered:
// RegisterSharedSymbolTable) and its own symbols.
func (d *binaryDecoder) readSymbolTable(v Value) (*symbolTable, error) {
	e := &symbolTable{}
	var imported, symbols []Symbol
	for _, f := range v.kids {
		switch f.Name.text {
		case "imports":
			switch {
			case f.Value.typ == SymbolType && f.Value.str == "$ion_symbol_table":
				e.appendMode = true
			case f.Value.typ == ListType && !f.Value.IsNull():
				for _, imp := range f.Value.kids {
					syms, err := d.sharedImport(imp.Value)
					if err != nil {
						return nil, err
					}
					imported = append(imported, syms...)
				}
			}
		case "symbols":
			if f.Value.typ != ListType || f.Value.IsNull() {
				continue
			}
			for _, s := range f.Value.kids {
				// Entries that are not strings are symbols with unknown
				// text, which Ion Hash treats as $0.
				if s.Value.typ == StringType && !s.Value.IsNull() {
					symbols = append(symbols, Sym(s.Value.str))
				} else {
					symbols = append(symbols, SymbolZero)
				}
			}
		}
	}
	if !e.appendMode {
		e.symbols = imported
	}
	e.symbols = append(e.symbols, symbols...)
	return e, nil
}

// applySymbolTable makes e the current symbol table.
func (d *binaryDecoder) applySymbolTable(e *symbolTable) {
	if !e.appendMode {
		d.resetSymbols()
	}
	d.symbols = append(d.symbols, e.symbols...)
}

// sharedImport returns the symbols an import of a shared table brings:
// its first max_id symbols (symbols past the table's end have unknown
// text).
func (d *binaryDecoder) sharedImport(imp Value) ([]Symbol, error) {
	if imp.typ != StructType || imp.IsNull() {
		return nil, d.fail("a symbol table import must be a struct")
	}
	name, version, maxID := "", int64(1), int64(-1)
	for _, f := range imp.kids {
		switch f.Name.text {
		case "name":
			if f.Value.typ == StringType {
				name = f.Value.str
			}
		case "version":
			if n, ok := f.Value.Int64(); ok && f.Value.typ == IntType && n >= 1 {
				version = n
			}
		case "max_id":
			if n, ok := f.Value.Int64(); ok && f.Value.typ == IntType && n >= 0 {
				maxID = n
			}
		}
	}
	if name == "" || name == "$ion" {
		return nil, nil // ignored, as the spec says
	}
	t, ok := lookupSharedTable(name, int(version))
	if !ok {
		return nil, d.fail("shared symbol table %q version %d is not known", name, version)
	}
	switch {
	case maxID < 0:
		return t.syms, nil
	case maxID <= int64(len(t.syms)):
		return t.syms[:maxID], nil
	case maxID > 1<<20:
		return nil, d.fail("max_id %d of an import is too large", maxID)
	}
	out := make([]Symbol, maxID)
	copy(out, t.syms)
	for i := len(t.syms); i < len(out); i++ {
		out[i] = SymbolZero
	}
	return out, nil
}

// symbolRef reads a symbol ID (a field name or an annotation) before end
// and resolves it.
func (d *binaryDecoder) symbolRef(end int) (Symbol, error) {
	sid, err := d.varUint(end)
	if err != nil {
		return Symbol{}, err
	}
	return d.symbol(sid)
}

func (d *binaryDecoder) symbol(sid uint64) (Symbol, error) {
	if sid == 0 {
		return SymbolZero, nil
	}
	if sid >= uint64(len(d.symbols)) {
		return Symbol{}, d.fail("symbol ID %d is not in the symbol table", sid)
	}
	return d.symbols[sid], nil
}

func (d *binaryDecoder) varUint(end int) (uint64, error) {
	var u uint64
	for i := 0; ; i++ {
		if d.pos >= end {
			return 0, d.fail("truncated VarUInt")
		}
		if i == 9 {
			return 0, d.fail("VarUInt longer than 64 bits")
		}
		c := d.data[d.pos]
		d.pos++
		u = u<<7 | uint64(c&0x7F)
		if c&0x80 != 0 {
			return u, nil
		}
	}
}

// varInt reads a VarInt; negZero reports the value -0.
func varInt(b []byte) (i int64, negZero bool, n int, ok bool) {
	if len(b) == 0 {
		return 0, false, 0, false
	}
	neg := b[0]&0x40 != 0
	mag := uint64(b[0] & 0x3F)
	n = 1
	for last := b[0]&0x80 != 0; !last; n++ {
		if n >= len(b) || n >= 9 {
			return 0, false, 0, false
		}
		mag = mag<<7 | uint64(b[n]&0x7F)
		last = b[n]&0x80 != 0
	}
	if mag > math.MaxInt64 {
		return 0, false, 0, false
	}
	if neg {
		return -int64(mag), mag == 0, n, true
	}
	return int64(mag), false, n, true
}

// value reads one value ending at or before end. skip is true for a NOP pad.
func (d *binaryDecoder) value(end int) (v Value, skip bool, err error) {
	if d.pos >= end {
		return Value{}, false, d.fail("truncated value")
	}
	td := d.data[d.pos]
	d.pos++
	t, l := td>>4, int(td&0x0F)
	if t == 0 && l != 0x0F { // NOP pad
		n, err := d.length(l, end)
		if err != nil {
			return Value{}, false, err
		}
		d.pos += n
		return Value{}, true, nil
	}
	if t == 0x0E {
		if l == 0 || l == 0x0F {
			return Value{}, false, d.fail("reserved type descriptor %#x", td)
		}
		return d.annotated(l, end)
	}
	if t == 0x0F {
		return Value{}, false, d.fail("reserved type descriptor %#x", td)
	}
	typ := binaryTypes[t]
	if l == 0x0F {
		if t == 0x03 {
			return Value{}, false, d.fail("negative int null")
		}
		return NullOf(typ), false, nil
	}
	if t == 0x01 { // bool: the value is in L, there is no payload
		if l > 1 {
			return Value{}, false, d.fail("bool with L=%d", l)
		}
		return Bool(l == 1), false, nil
	}
	if t == 0x0D && l == 1 { // sorted struct: length follows
		l = 14
	}
	n, err := d.length(l, end)
	if err != nil {
		return Value{}, false, err
	}
	body := d.data[d.pos : d.pos+n]
	bodyEnd := d.pos + n
	switch typ {
	case ListType, SexpType, StructType:
		v, err = d.container(typ, bodyEnd)
	default:
		v, err = d.scalar(t, body)
		d.pos = bodyEnd
	}
	return v, false, err
}

var binaryTypes = [...]Type{0: NullType, 1: BoolType, 2: IntType, 3: IntType, 4: FloatType, 5: DecimalType,
	6: TimestampType, 7: SymbolType, 8: StringType, 9: ClobType, 10: BlobType, 11: ListType, 12: SexpType,
	13: StructType, 14: NullType, 15: NullType}

func (d *binaryDecoder) length(l, end int) (int, error) {
	n := uint64(l)
	if l == 14 {
		var err error
		if n, err = d.varUint(end); err != nil {
			return 0, err
		}
	}
	if n > uint64(end-d.pos) {
		return 0, d.fail("length %d runs past the end of its container", n)
	}
	return int(n), nil
}

func (d *binaryDecoder) annotated(l, end int) (Value, bool, error) {
	n, err := d.length(l, end)
	if err != nil {
		return Value{}, false, err
	}
	wrapperEnd := d.pos + n
	annLen, err := d.varUint(wrapperEnd)
	if err != nil {
		return Value{}, false, err
	}
	if annLen == 0 || annLen > uint64(wrapperEnd-d.pos) {
		return Value{}, false, d.fail("bad annotation length %d", annLen)
	}
	annEnd := d.pos + int(annLen)
	var anns []Symbol
	for d.pos < annEnd {
		s, err := d.symbolRef(annEnd)
		if err != nil {
			return Value{}, false, err
		}
		anns = append(anns, s)
	}
	v, skip, err := d.value(wrapperEnd)
	if err != nil {
		return Value{}, false, err
	}
	if skip || d.pos != wrapperEnd {
		return Value{}, false, d.fail("annotation wrapper does not hold exactly one value")
	}
	v.annots = anns
	return v, false, nil
}

func (d *binaryDecoder) container(typ Type, end int) (Value, error) {
	v := Value{typ: typ, kids: make([]Field, 0, d.countChildren(typ, end))}
	for d.pos < end {
		var f Field
		if typ == StructType {
			var err error
			if f.Name, err = d.symbolRef(end); err != nil {
				return Value{}, err
			}
		}
		child, skip, err := d.value(end)
		if err != nil {
			return Value{}, err
		}
		if skip {
			continue
		}
		f.Value = child
		v.kids = append(v.kids, f)
	}
	return v, nil
}

// countChildren walks the headers of a container's children, without
// decoding them, so that the container is allocated once at its size. On
// malformed input it returns what it counted; decoding reports the error.
func (d *binaryDecoder) countChildren(typ Type, end int) int {
	n, pos := 0, d.pos
	for pos < end {
		if typ == StructType { // skip the field name's VarUInt
			for pos < end && d.data[pos]&0x80 == 0 {
				pos++
			}
			pos++
		}
		if pos >= end {
			break
		}
		td := d.data[pos]
		pos++
		l := int(td & 0x0F)
		switch {
		case td>>4 == 0x01 || l == 0x0F: // bool, or a null: no body
			l = 0
		case l == 14 || td>>4 == 0x0D && l == 1:
			u, w := uvarint(d.data[pos:end])
			if w == 0 || u > uint64(end-pos-w) {
				return n + 1
			}
			pos += w
			l = int(u)
		}
		pos += l
		if td>>4 != 0 || td&0x0F == 0x0F { // NOP pads are not children
			n++
		}
	}
	return n
}

func (d *binaryDecoder) scalar(t byte, b []byte) (Value, error) {
	switch t {
	case 0x02, 0x03:
		v := magnitude(b)
		v.typ = IntType
		if t == 0x03 {
			if v.n == 0 && v.ext == nil {
				return Value{}, d.fail("negative zero int")
			}
			v.flags = flagNeg
		}
		return v, nil
	case 0x04:
		switch len(b) {
		case 0:
			return Float(0), nil
		case 4:
			return Float(float64(math.Float32frombits(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])))), nil
		case 8:
			var u uint64
			for _, c := range b {
				u = u<<8 | uint64(c)
			}
			return Value{typ: FloatType, n: u}, nil
		}
		return Value{}, d.fail("float of %d bytes", len(b))
	case 0x05:
		return d.decimal(b)
	case 0x06:
		ts, err := d.timestamp(b)
		if err != nil {
			return Value{}, err
		}
		return Timestamp(ts), nil
	case 0x07:
		if len(b) > 8 {
			return Value{}, d.fail("symbol ID of %d bytes", len(b))
		}
		var sid uint64
		for _, c := range b {
			sid = sid<<8 | uint64(c)
		}
		s, err := d.symbol(sid)
		if err != nil {
			return Value{}, err
		}
		return SymbolValue(s), nil
	case 0x08:
		if !utf8.Valid(b) {
			return Value{}, d.fail("string is not valid UTF-8")
		}
		return Value{typ: StringType, str: d.share(b)}, nil
	case 0x09:
		return Value{typ: ClobType, str: d.share(b)}, nil
	default: // 0x0A
		return Value{typ: BlobType, str: d.share(b)}, nil
	}
}

// magnitude decodes a big-endian unsigned magnitude into v.n or v.ext.
func magnitude(b []byte) Value {
	for len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	if len(b) > 8 {
		return Value{ext: new(big.Int).SetBytes(b)}
	}
	var u uint64
	for _, c := range b {
		u = u<<8 | uint64(c)
	}
	return Value{n: u}
}

// signedInt decodes Ion's Int field (sign bit, then magnitude).
func signedInt(b []byte) (v Value, neg bool) {
	if len(b) == 0 {
		return Value{}, false
	}
	neg = b[0]&0x80 != 0
	if len(b) <= 8 {
		// Fits in 64 bits: no copy to clear the sign bit.
		u := uint64(b[0] & 0x7F)
		for _, c := range b[1:] {
			u = u<<8 | uint64(c)
		}
		return Value{n: u}, neg
	}
	mag := append([]byte{b[0] & 0x7F}, b[1:]...)
	return magnitude(mag), neg
}

func (d *binaryDecoder) decimal(b []byte) (Value, error) {
	if len(b) == 0 {
		return Decimal(0, 0), nil
	}
	exp, _, n, ok := varInt(b)
	if !ok || exp < math.MinInt32 || exp > math.MaxInt32 {
		return Value{}, d.fail("bad decimal exponent")
	}
	v, neg := signedInt(b[n:])
	v.typ, v.exp = DecimalType, int32(exp)
	if neg {
		v.flags = flagNeg
	}
	return v, nil
}

func (d *binaryDecoder) timestamp(b []byte) (amzion.Timestamp, error) {
	bad := func(what string) (amzion.Timestamp, error) {
		return amzion.Timestamp{}, d.fail("timestamp: %s", what)
	}
	off, unknownOffset, n, ok := varInt(b)
	if !ok {
		return bad("offset")
	}
	b = b[n:]
	var comps [7]uint64 // year, month, day, hour, minute, second
	count := 0
	for count < 6 && len(b) > 0 {
		u, n := uvarint(b)
		if n == 0 {
			return bad("component")
		}
		comps[count] = u
		count++
		b = b[n:]
	}
	if count == 0 || count == 4 { // hour without minute
		return bad("precision")
	}
	var fracDigits uint8
	var nanos int
	if len(b) > 0 {
		if count != 6 {
			return bad("fraction without seconds")
		}
		exp, _, n, ok := varInt(b)
		if !ok {
			return bad("fraction exponent")
		}
		coefV, neg := signedInt(b[n:])
		coef, fits := coefV.Int64()
		switch {
		case !fits || neg && coef != 0:
			return bad("fraction coefficient")
		case coef == 0 && exp >= 0:
			// 0d0, 0d1...: no fractional seconds.
		case exp >= 0 || exp < -9:
			return bad(fmt.Sprintf("fraction with exponent %d (Quill keeps at most nanoseconds)", exp))
		case coef >= int64(math.Pow10(int(-exp))):
			return bad("fraction of one second or more")
		default:
			fracDigits = uint8(-exp)
			nanos = int(coef) * int(math.Pow10(9+int(exp)))
		}
	}
	year, month, day := int(comps[0]), 1, 1
	if count >= 2 {
		month = int(comps[1])
	}
	if count >= 3 {
		day = int(comps[2])
	}
	if year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 || day > 31 ||
		comps[3] > 23 || comps[4] > 59 || comps[5] > 59 {
		return bad("component out of range")
	}
	utc := time.Date(year, time.Month(month), day, int(comps[3]), int(comps[4]), int(comps[5]), nanos, time.UTC)
	if utc.Day() != day {
		return bad("day out of range")
	}
	precisions := [...]amzion.TimestampPrecision{1: amzion.TimestampPrecisionYear, 2: amzion.TimestampPrecisionMonth,
		3: amzion.TimestampPrecisionDay, 5: amzion.TimestampPrecisionMinute, 6: amzion.TimestampPrecisionSecond}
	p := precisions[count]
	if count <= 3 {
		return amzion.NewDateTimestamp(utc, p), nil
	}
	kind, t := amzion.TimezoneUTC, utc
	switch {
	case unknownOffset:
		kind = amzion.TimezoneUnspecified
	case off != 0:
		if off <= -24*60 || off >= 24*60 {
			return bad("offset out of range")
		}
		kind, t = amzion.TimezoneLocal, utc.In(time.FixedZone("", int(off)*60))
	}
	if fracDigits > 0 {
		return amzion.NewTimestampWithFractionalSeconds(t, amzion.TimestampPrecisionNanosecond, kind, fracDigits), nil
	}
	return amzion.NewTimestamp(t, p, kind), nil
}

// uvarint decodes a VarUInt from b; n is 0 if it is malformed.
func uvarint(b []byte) (u uint64, n int) {
	for i, c := range b {
		if i == 9 {
			return 0, 0
		}
		u = u<<7 | uint64(c&0x7F)
		if c&0x80 != 0 {
			return u, i + 1
		}
	}
	return 0, 0
}
