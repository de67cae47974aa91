package quill

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	amzion "github.com/amazon-ion/ion-go/ion"
	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/journal"
	"github.com/quilldb/quill/merkle"
)

// Document is a committed revision of a document: QLDB's committed view
// (block address, hash, data, metadata). Data is the user view.
type Document struct {
	ID      string
	Version int64
	Address journal.Address
	Hash    merkle.Hash
	TxTime  time.Time
	TxID    string
	Data    ion.Value
	// Deleted is true for the revision that deleted the document (history
	// only); it has no Data.
	Deleted bool
}

// Decode unmarshals the document's data into v (a pointer to a struct
// with ion tags, or a map), with github.com/amazon-ion/ion-go.
func (d Document) Decode(v any) error {
	if d.Deleted {
		return errors.New("quill: a deleted revision has no data")
	}
	bin, err := ion.MarshalBinary(d.Data)
	if err != nil {
		return err
	}
	return amzion.Unmarshal(bin, v)
}

// Metadata returns the revision's metadata as QLDB shows it.
func (d Document) Metadata() ion.Value {
	return ion.Struct(
		ion.F("id", ion.String(d.ID)),
		ion.F("version", ion.Int(d.Version)),
		ion.F("txTime", ion.SystemTime(d.TxTime)),
		ion.F("txId", ion.String(d.TxID)))
}

// Committed returns the committed view: {blockAddress, hash, data,
// metadata}, the shape of QLDB's _ql_committed_ tables.
func (d Document) Committed() ion.Value {
	addr := ion.Struct(ion.F("strandId", ion.String(d.Address.Strand)), ion.F("sequenceNo", ion.Uint(d.Address.SequenceNo)))
	fields := []ion.Field{ion.F("blockAddress", addr), ion.F("hash", ion.Blob(d.Hash[:]))}
	if !d.Deleted {
		fields = append(fields, ion.F("data", d.Data))
	}
	return ion.Struct(append(fields, ion.F("metadata", d.Metadata()))...)
}

// toDocument converts what a caller passes as a document: an ion.Value,
// Ion text or binary as []byte, or a Go struct or map (marshalled with
// ion-go, honouring ion struct tags). A document must be a struct. bin is
// the Ion binary the value was decoded from, when there was one (a copy of
// the caller's, or ion-go's encoding of a Go value), so that it need not be
// encoded again; it is nil for an ion.Value or Ion text.
func toDocument(param string, doc any) (v ion.Value, bin []byte, err error) {
	v, bin, err = convertDocument(param, doc)
	if err != nil {
		return ion.Value{}, nil, err
	}
	if v.Type() != ion.StructType || v.IsNull() {
		return ion.Value{}, nil, invalidParam(param, "a document must be an Ion struct, got %s", v.Type())
	}
	if len(v.Annotations()) > 0 {
		return ion.Value{}, nil, invalidParam(param, "a document must not be annotated")
	}
	// Ion binary was decoded by Quill's decoder, which rejects text that
	// is not UTF-8; values built by the caller, or read from text, are
	// checked here.
	if bin == nil {
		if err := v.Validate(); err != nil {
			return ion.Value{}, nil, invalidParam(param, "%v", err)
		}
	}
	return v, bin, nil
}

func convertDocument(param string, doc any) (v ion.Value, bin []byte, err error) {
	switch d := doc.(type) {
	case ion.Value:
		v = d
	case *ion.Value:
		v = *d
	case []byte:
		parsed, err := ion.Parse(d)
		if err != nil {
			return ion.Value{}, nil, invalidParam(param, "not Ion: %v", err)
		}
		v = parsed
		if ion.IsBinary(d) {
			bin = slices.Clone(d) // the caller may reuse d once Insert returns
		}
	case nil:
		return ion.Value{}, nil, invalidParam(param, "a document is required")
	default:
		if bin, err = amzion.MarshalBinary(doc); err != nil {
			return ion.Value{}, nil, invalidParam(param, "cannot convert %T to Ion: %v", doc, err)
		}
		if v, err = ion.Parse(bin); err != nil {
			return ion.Value{}, nil, invalidParam(param, "cannot convert %T to Ion: %v", doc, err)
		}
	}
	return v, bin, nil
}

// The committed view of a live document is stored as a fixed header and
// then either the data's Ion binary (which starts with the Ion version
// marker, 0xE0) or, when the block keeps the same bytes where they can be
// addressed, viewRefMarker and the place of the data in the stored block
// (journal.DataRef: offset and length as uvarints). The reference halves
// what a commit writes for a document; a read of the data then reads its
// block too.
const (
	viewHeader    = 8 + 8 + 8 + merkle.Size + ion.IDLength
	viewRefMarker = 0x01
)

func encodeView(d *Document, data []byte, ref journal.DataRef) []byte {
	size := viewHeader + len(data)
	if !ref.IsZero() {
		size = viewHeader + 1 + 2*binary.MaxVarintLen32
	}
	b := make([]byte, 0, size)
	b = binary.BigEndian.AppendUint64(b, d.Address.SequenceNo)
	b = binary.BigEndian.AppendUint64(b, uint64(d.Version))
	b = binary.BigEndian.AppendUint64(b, uint64(d.TxTime.UnixMilli()))
	b = append(b, d.Hash[:]...)
	b = append(b, d.TxID...)
	if ref.IsZero() {
		return append(b, data...)
	}
	b = append(b, viewRefMarker)
	b = binary.AppendUvarint(b, uint64(ref.Offset))
	return binary.AppendUvarint(b, uint64(ref.Length))
}

// decodeView decodes the committed view of docID, reading its data from
// its block when the view refers to it.
func (l *Ledger) decodeView(docID string, raw []byte) (Document, error) {
	d, err := l.decodeViewHeader(docID, raw)
	if err != nil {
		return Document{}, err
	}
	bin := raw[viewHeader:]
	if bin[0] == viewRefMarker {
		off, n := binary.Uvarint(bin[1:])
		length, m := binary.Uvarint(bin[1+max(n, 0):])
		if n <= 0 || m <= 0 || off > math.MaxUint32 || length > math.MaxUint32 {
			return Document{}, fmt.Errorf("quill: committed view of %s: bad data reference", docID)
		}
		var err error
		if bin, err = l.strand.ReadData(d.Address.SequenceNo, journal.DataRef{Offset: uint32(off), Length: uint32(length)}); err != nil {
			return Document{}, fmt.Errorf("quill: committed view of %s: %w", docID, err)
		}
	}
	data, err := ion.Parse(bin)
	if err != nil {
		return Document{}, fmt.Errorf("quill: committed view of %s: %w", docID, err)
	}
	d.Data = data
	return d, nil
}

// decodeViewHeader decodes what the committed view of docID says of its
// revision without its data: the metadata, the hash and the address.
func (l *Ledger) decodeViewHeader(docID string, raw []byte) (Document, error) {
	if len(raw) < viewHeader+1 {
		return Document{}, fmt.Errorf("quill: committed view of %s has %d bytes", docID, len(raw))
	}
	d := Document{
		ID:      docID,
		Address: journal.Address{Strand: l.strand.ID(), SequenceNo: binary.BigEndian.Uint64(raw)},
		Version: int64(binary.BigEndian.Uint64(raw[8:])),
		TxTime:  time.UnixMilli(int64(binary.BigEndian.Uint64(raw[16:]))).UTC(),
		TxID:    string(raw[24+merkle.Size : viewHeader]),
	}
	copy(d.Hash[:], raw[24:])
	return d, nil
}
