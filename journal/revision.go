package journal

import (
	"fmt"
	"time"

	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/merkle"
)

// RevisionMetadata is a revision's metadata, QLDB's {id, version, txTime,
// txId}.
type RevisionMetadata struct {
	ID      string    // the document id (22 characters)
	Version int64     // 0 for the insert, then +1 per committed change
	TxTime  time.Time // the transaction's time, milliseconds, UTC
	TxID    string    // the transaction id (22 characters)
}

// Ion returns the metadata as QLDB shapes it.
func (m RevisionMetadata) Ion() ion.Value {
	return ion.Struct(
		ion.F("id", ion.String(m.ID)),
		ion.F("version", ion.Int(m.Version)),
		ion.F("txTime", ion.SystemTime(m.TxTime)),
		ion.F("txId", ion.String(m.TxID)))
}

// Revision is one revision of a document as a block holds it.
type Revision struct {
	Address  Address     // the block that holds it
	Hash     merkle.Hash // dot(H(metadata), H(data)), or H(metadata) for a delete
	Metadata RevisionMetadata
	// Data is the document; the zero Value when the revision is a delete or
	// its data was redacted (then DataHash is set).
	Data ion.Value
	// DataHash is set instead of Data when the data was redacted.
	DataHash *merkle.Hash
}

// Deleted reports whether the revision is a delete: metadata only.
func (r *Revision) Deleted() bool { return isAbsent(r.Data) && r.DataHash == nil }

// Ion returns the revision exactly as QLDB's GetRevision shapes it:
// blockAddress, hash, data or dataHash, metadata.
func (r *Revision) Ion() ion.Value {
	fields := make([]ion.Field, 0, 4)
	fields = append(fields, ion.F("blockAddress", blockAddress(r.Address.Strand, r.Address.SequenceNo)),
		ion.F("hash", ion.Blob(r.Hash[:])))
	switch {
	case r.DataHash != nil:
		fields = append(fields, ion.F("dataHash", ion.Blob(r.DataHash[:])))
	case !isAbsent(r.Data):
		fields = append(fields, ion.F("data", r.Data))
	}
	return ion.Struct(append(fields, ion.F("metadata", r.Metadata.Ion()))...)
}

// IonText returns the revision as compact Ion text, as GetRevision does.
func (r *Revision) IonText() string { return r.Ion().String() }

// decodeRevision reads a stored revision (without its blockAddress).
func decodeRevision(addr Address, v ion.Value) (Revision, error) {
	r := Revision{Address: addr}
	if v.Type() != ion.StructType {
		return r, fmt.Errorf("a revision is a %s, not a struct", v.Type())
	}
	h, ok := v.Get("hash")
	if !ok || h.Type() != ion.BlobType || len(h.Bytes()) != merkle.Size {
		return r, fmt.Errorf("revision hash missing or not 32 bytes")
	}
	r.Hash = merkle.Hash(h.Bytes())
	if data, ok := v.Get("data"); ok {
		r.Data = data
	}
	if dh, ok := v.Get("dataHash"); ok {
		if dh.Type() != ion.BlobType || len(dh.Bytes()) != merkle.Size {
			return r, fmt.Errorf("revision dataHash is not 32 bytes")
		}
		d := merkle.Hash(dh.Bytes())
		r.DataHash = &d
	}
	meta, ok := v.Get("metadata")
	if !ok || meta.Type() != ion.StructType {
		return r, fmt.Errorf("revision metadata missing")
	}
	id, _ := meta.Get("id")
	version, _ := meta.Get("version")
	txTime, _ := meta.Get("txTime")
	txID, _ := meta.Get("txId")
	n, ok := version.Int64()
	if id.Type() != ion.StringType || !ok || txTime.Type() != ion.TimestampType || txID.Type() != ion.StringType {
		return r, fmt.Errorf("revision metadata is not {id: string, version: int, txTime: timestamp, txId: string}")
	}
	r.Metadata = RevisionMetadata{ID: id.Text(), Version: n, TxTime: txTime.Time().UTC(), TxID: txID.Text()}
	return r, nil
}
