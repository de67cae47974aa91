package ion

import (
	"crypto/sha256"
	"unicode/utf8"
)

// HashBinaryStruct returns the Ion Hash of a document given as Ion binary
// (one non-null, unannotated struct, after any local symbol tables),
// computed while reading the bytes, without building the value: the commit
// path hashes every document it is given, and the tree is needed only when
// something reads the document's fields.
//
// ok is false when data is anything else, malformed input included: the
// caller then parses it (Parse) for the value or a precise error. When ok
// is true, Parse(data) succeeds with a non-null unannotated struct v and
// sum == Hash(v) (FuzzHashBinaryStructAgreesWithParse).
func HashBinaryStruct(data []byte) (sum [sha256.Size]byte, ok bool) {
	if !IsBinary(data) {
		return sum, false
	}
	d := pooledDecoder(data)
	defer d.release()
	h := pooledHasher()
	defer h.release()
	found := false
	for d.pos < len(d.data) {
		if td := d.data[d.pos]; td>>4 == 0x0D && td&0x0F != 0x0F { // a struct, not null
			if found { // a second value
				return sum, false
			}
			found = true
			if skip, err := d.hashValue(h, len(d.data)); err != nil || skip {
				return sum, false
			}
			continue
		}
		// Version markers, NOP pads and local symbol tables are applied;
		// any other value means the stream is not a document.
		if _, skip, err := d.topLevel(); err != nil || !skip {
			return sum, false
		}
	}
	if !found {
		return sum, false
	}
	return sha256.Sum256(h.buf), true
}

// hashValue serialises the next value into h's pre-image as h.value would
// serialise what d.value decodes. skip is true for a NOP pad.
func (d *binaryDecoder) hashValue(h *hasher, end int) (skip bool, err error) {
	if d.pos >= end {
		return false, d.fail("truncated value")
	}
	td := d.data[d.pos]
	d.pos++
	t, l := td>>4, int(td&0x0F)
	switch {
	case t == 0 && l != 0x0F: // NOP pad
		n, err := d.length(l, end)
		if err != nil {
			return false, err
		}
		d.pos += n
		return true, nil
	case t == 0x0E:
		if l == 0 || l == 0x0F {
			return false, d.fail("reserved type descriptor %#x", td)
		}
		return false, d.hashAnnotated(h, l, end)
	case t == 0x0F:
		return false, d.fail("reserved type descriptor %#x", td)
	}
	typ := binaryTypes[t]
	if l == 0x0F {
		if t == 0x03 {
			return false, d.fail("negative int null")
		}
		v := NullOf(typ)
		h.value(&v)
		return false, nil
	}
	if t == 0x01 {
		if l > 1 {
			return false, d.fail("bool with L=%d", l)
		}
		v := Bool(l == 1)
		h.value(&v)
		return false, nil
	}
	if t == 0x0D && l == 1 { // sorted struct: length follows
		l = 14
	}
	n, err := d.length(l, end)
	if err != nil {
		return false, err
	}
	body, bodyEnd := d.data[d.pos:d.pos+n], d.pos+n
	switch typ {
	case StructType:
		return false, d.hashStruct(h, bodyEnd)
	case ListType, SexpType:
		h.buf = append(h.buf, markBegin, typeQualifier[typ])
		for d.pos < bodyEnd {
			if _, err := d.hashValue(h, bodyEnd); err != nil {
				return false, err
			}
		}
		h.buf = append(h.buf, markEnd)
		return false, nil
	}
	d.pos = bodyEnd
	switch t {
	case 0x08, 0x09, 0x0A: // string, clob, blob: the representation is the bytes
		if t == 0x08 && !utf8.Valid(body) {
			return false, d.fail("string is not valid UTF-8")
		}
		mark := h.openEscaped(typeQualifier[typ])
		h.buf = append(h.buf, body...)
		h.closeEscaped(mark)
		return false, nil
	}
	if t == 0x06 {
		// A timestamp is hashed from its decoded form (the representation
		// is canonical), without boxing it into a Value.
		ts, err := d.timestamp(body)
		if err != nil {
			return false, err
		}
		mark := h.openEscaped(typeQualifier[TimestampType])
		h.buf = appendTimestampRepr(h.buf, ts)
		h.closeEscaped(mark)
		return false, nil
	}
	v, err := d.scalar(t, body)
	if err != nil {
		return false, err
	}
	h.value(&v)
	return false, nil
}

// hashStruct serialises a struct's fields as hasher.structValue does.
func (d *binaryDecoder) hashStruct(h *hasher, end int) error {
	base := len(h.spans)
	for d.pos < end {
		name, err := d.symbolRef(end)
		if err != nil {
			return err
		}
		mark := len(h.buf)
		h.symbol(name)
		skip, err := d.hashValue(h, end)
		if err != nil {
			return err
		}
		if !skip {
			h.addFieldDigest(mark)
		}
		h.buf = h.buf[:mark]
	}
	h.finishStruct(base)
	return nil
}

// hashAnnotated serialises an annotation wrapper as hasher.value does a
// value with annotations. A wrapper around a wrapper, which is not Ion
// (the decoder keeps the outer annotations only), is refused.
func (d *binaryDecoder) hashAnnotated(h *hasher, l, end int) error {
	n, err := d.length(l, end)
	if err != nil {
		return err
	}
	wrapperEnd := d.pos + n
	annLen, err := d.varUint(wrapperEnd)
	if err != nil {
		return err
	}
	if annLen == 0 || annLen > uint64(wrapperEnd-d.pos) {
		return d.fail("bad annotation length %d", annLen)
	}
	annEnd := d.pos + int(annLen)
	h.buf = append(h.buf, markBegin, 0xE0)
	for d.pos < annEnd {
		s, err := d.symbolRef(annEnd)
		if err != nil {
			return err
		}
		h.symbol(s)
	}
	if d.pos < wrapperEnd && d.data[d.pos]>>4 == 0x0E {
		return d.fail("annotation wrapper inside an annotation wrapper")
	}
	skip, err := d.hashValue(h, wrapperEnd)
	if err != nil {
		return err
	}
	if skip || d.pos != wrapperEnd {
		return d.fail("annotation wrapper does not hold exactly one value")
	}
	h.buf = append(h.buf, markEnd)
	return nil
}
