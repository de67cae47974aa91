package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/merkle"
	"github.com/quilldb/quill/verify"
)

// Transaction is what a caller commits: it becomes one block.
type Transaction struct {
	// ID is the transaction id, 22 characters; a new one is made if empty.
	ID string
	// Time is the transaction's time (the revisions' txTime). Default: the
	// journal's clock when Commit is called. It is kept to the millisecond.
	Time time.Time
	// Info is the block's transactionInfo (statements and documents), or the
	// zero Value for none. A block needs transactionInfo or at least one
	// revision.
	Info ion.Value
	// TypedInfo is transactionInfo in QLDB's form, instead of Info: the
	// journal then hashes it from kept field digests and writes it into
	// the block without Ion values, which costs a few microseconds less
	// per commit.
	TypedInfo *TransactionInfo
	// Redaction is the block's redactionInfo, or the zero Value for none.
	Redaction ion.Value
	// Revisions are the document revisions the transaction writes.
	Revisions []RevisionInput
	// Writes are the caller's own key/value changes (indexes, views), made
	// in the same batch as the block. Keys must not start with 0x01.
	Writes []Write
	// Validate, if set, is called by the sequencer before the transaction is
	// given a sequence number, with a view of the store (and of the marks)
	// that includes every transaction committed before it, in its group
	// too. An error fails the transaction, which then writes nothing;
	// Commit returns the error.
	Validate func(r ValidationReader) error
	// Marks name what the transaction changes for readers that observed it
	// as a whole (a table scanned, say) and did not read a key it writes:
	// their validation sees the mark's stamp move (marks.go). Marks are
	// kept in memory only.
	Marks [][]byte
	// Complete, if set, is called by the sequencer once the transaction has
	// passed Validate and has its block's sequence number, with the hashes
	// of its revisions in order and where each revision's document is in
	// the stored block (data[i]; the zero DataRef for a delete, or when the
	// block is stored compressed). The writes it returns go into the same
	// batch: the layers above record there what depends on the block's
	// address (committed views, history).
	Complete func(seq uint64, revisionHashes []merkle.Hash, data []DataRef) []Write
	// NoSync acknowledges the commit once it is in the store's write-ahead
	// log without waiting for the disk (bulk loads). A group is synced if
	// any of its transactions wants it.
	NoSync bool
}

// RevisionInput is one document revision of a transaction to commit.
type RevisionInput struct {
	DocumentID string    // 22-character id
	Version    int64     // 0 for an insert, then +1 per committed change
	Data       ion.Value // the document; ignored when Deleted, and may be left zero when DataHash and DataBinary are set
	Deleted    bool      // a delete: the revision has metadata only
	// DataHash, if set, is ion.Hash(Data), which the caller has already
	// computed after validating Data (ion.Value.Validate): the journal then
	// neither validates nor hashes the document again. It is trusted; a
	// wrong one makes a block that fails verification.
	DataHash *merkle.Hash
	// DataBinary, if set, is Data as one Ion binary stream (version marker
	// and symbol table included), as the caller already holds it: the block
	// stores these bytes as they are instead of encoding Data again, so a
	// document has one encoding wherever the layers above keep it. It is
	// trusted to decode to Data; bytes that do not make a block that fails
	// verification.
	DataBinary []byte
}

// Write is one key/value change of the caller's, applied with the block.
type Write struct {
	Key    []byte
	Value  []byte
	Delete bool
}

// Reader is the read view a validation callback gets.
type Reader interface {
	// Get returns the value of key, or found=false. The value is a copy.
	Get(key []byte) (value []byte, found bool, err error)
}

// ValidationReader is what Transaction.Validate reads.
type ValidationReader interface {
	Reader
	// Mark returns the stamp of a mark after every transaction sequenced
	// before the one being validated (Strand.Mark, Transaction.Marks).
	Mark(name []byte) uint64
}

// prepared is a transaction encoded and hashed in the committer's goroutine:
// everything but what depends on the block's position.
type prepared struct {
	tx         *Transaction
	txID       string
	txIDDigest [32]byte // the header's transactionId field (headerHasher)
	revHashes  []merkle.Hash
	entries    []merkle.Hash // entriesHashList without its first entry, the header hash
	body       []byte        // stored body: Ion binary, maybe split, maybe zstd
	compressed bool
	split      bool
	// skeleton and parts are an uncompressed split body not laid out yet
	// (body is then nil): record.encode copies them once.
	skeleton []byte
	parts    [][]byte
	// dataRefs locate each revision's data in the stored record, when the
	// record keeps it as given (split, not compressed).
	dataRefs []DataRef
}

// DataRef locates a revision's document (its Ion binary, as the caller
// gave it in RevisionInput.DataBinary) in the stored record of its block,
// so that a layer above can keep a reference instead of a second copy
// (Strand.ReadData). The zero DataRef refers to nothing.
type DataRef struct {
	Offset, Length uint32
}

// IsZero reports whether r refers to nothing.
func (r DataRef) IsZero() bool { return r.Length == 0 }

var (
	zstdEncoder, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	zstdDecoder, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0))
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidTransaction, fmt.Sprintf(format, args...))
}

// prepare validates tx and computes its revisions, entries and stored body.
func prepare(tx *Transaction, now time.Time, compressMin int) (*prepared, error) {
	p := &prepared{tx: tx, txID: tx.ID, entries: make([]merkle.Hash, 0, 3)}
	if p.txID == "" {
		p.txID = ion.NewID()
	} else if err := ion.ValidateID(p.txID); err != nil {
		return nil, invalid("transaction id: %v", err)
	}
	p.txIDDigest = txIDDigest(p.txID)
	info, typed := tx.Info, tx.TypedInfo
	hasRedaction := !isAbsent(tx.Redaction)
	switch {
	case typed != nil && !isAbsent(info):
		return nil, invalid("a transaction has Info or TypedInfo, not both")
	case typed == nil && isAbsent(info) && len(tx.Revisions) == 0:
		return nil, invalid("a block needs transactionInfo or revisions")
	}
	for i, w := range tx.Writes {
		if !callerKey(w.Key) {
			return nil, invalid("write %d: keys must be non-empty and must not start with 0x01", i)
		}
	}
	txTime := tx.Time
	if txTime.IsZero() {
		txTime = now
	}

	// split: the revisions' data are stored after the body as the binary
	// streams the caller gave, not inside it (flagSplitData).
	split := slices.ContainsFunc(tx.Revisions, func(r RevisionInput) bool { return !r.Deleted && r.DataBinary != nil })
	// written: the body is written from the parts, without Ion values,
	// when every part can be (ion.BinaryWriter; no redaction, no
	// revision data inside the body).
	written := typed != nil && !hasRedaction &&
		!slices.ContainsFunc(tx.Revisions, func(r RevisionInput) bool { return !r.Deleted && r.DataBinary == nil })
	var typedHash merkle.Hash
	if typed != nil {
		var err error
		if typedHash, err = typed.hash(); err != nil {
			return nil, invalid("transactionInfo: %v", err)
		}
		if !written {
			info = typed.Ion()
		}
	}
	if err := p.hashRevisions(tx.Revisions, txTime); err != nil {
		return nil, err
	}
	// entriesHashList has the header hash first (added by the sequencer),
	// then the revisions root, H(transactionInfo), H(redactionInfo).
	switch {
	case typed != nil:
		p.entries = append(p.entries, typedHash)
	case !isAbsent(info):
		if err := info.Validate(); err != nil {
			return nil, invalid("transactionInfo: %v", err)
		}
		p.entries = append(p.entries, merkle.Hash(ion.Hash(info)))
	}
	if hasRedaction {
		if err := tx.Redaction.Validate(); err != nil {
			return nil, invalid("redactionInfo: %v", err)
		}
		p.entries = append(p.entries, merkle.Hash(ion.Hash(tx.Redaction)))
	}
	var body []byte
	var dataParts [][]byte
	if split {
		for i, r := range tx.Revisions {
			if !r.Deleted {
				bin := r.DataBinary
				if bin == nil {
					bin = ion.AppendBinary(nil, r.Data)
				}
				dataParts = append(dataParts, binary.AppendUvarint(nil, uint64(i)), bin)
			}
		}
	}
	if written {
		var err error
		if body, err = writeBody(typed, tx.Revisions, p.revHashes, p.txID, txTime); err != nil {
			return nil, invalid("%v", err)
		}
	} else {
		body = encodeBody(info, tx.Redaction, tx.Revisions, p.revHashes, p.txID, txTime, split)
	}
	size := len(body)
	if split {
		// record.encode lays the parts out, copying them once, unless the
		// body is compressed below.
		p.split, p.skeleton, p.parts = true, body, dataParts
		size = splitBodySize(body, dataParts)
	} else {
		p.body = body
	}
	if compressMin >= 0 && size >= compressMin {
		whole := body
		if split {
			whole = appendSplitBody(make([]byte, 0, size), body, dataParts)
		}
		if c := zstdEncoder.EncodeAll(whole, nil); len(c) <= len(whole)-len(whole)/10 {
			p.body, p.compressed, p.skeleton, p.parts = c, true, nil, nil
		}
	}
	if split && !p.compressed {
		p.dataRefs = splitDataRefs(1+len(p.entries), body, dataParts, len(tx.Revisions))
	}
	return p, nil
}

// hashRevisions validates the revisions and computes their hashes and
// their root, the first of p.entries. A revision's metadata is hashed
// from field digests, txTime's and txId's made once per transaction.
func (p *prepared) hashRevisions(revs []RevisionInput, txTime time.Time) error {
	if len(revs) == 0 {
		return nil
	}
	p.revHashes = make([]merkle.Hash, len(revs))
	txTimeDigest := ion.SystemTimeFieldDigest("txTime", txTime)
	txIDDigest := ion.FieldDigest("txId", ion.String(p.txID))
	revised := newRepeats(len(revs), func(i int) string { return revs[i].DocumentID })
	for i, r := range revs {
		if err := ion.ValidateID(r.DocumentID); err != nil {
			return invalid("revision %d: document id: %v", i, err)
		}
		if revised.at(i) {
			return invalid("revision %d: document %s is revised twice in one transaction", i, r.DocumentID)
		}
		if r.Version < 0 {
			return invalid("revision %d: version %d is negative", i, r.Version)
		}
		meta := merkle.Hash(ion.StructHash(ion.FieldDigest("id", ion.String(r.DocumentID)),
			ion.FieldDigest("version", ion.Int(r.Version)), txTimeDigest, txIDDigest))
		if r.Deleted {
			p.revHashes[i] = meta
			continue
		}
		dataHash := r.DataHash
		if dataHash == nil {
			if err := r.Data.Validate(); err != nil {
				return invalid("revision %d: data: %v", i, err)
			}
			h := merkle.Hash(ion.Hash(r.Data))
			dataHash = &h
		}
		p.revHashes[i] = merkle.Dot(meta, *dataHash)
	}
	root, _ := merkle.Root(p.revHashes)
	p.entries = append(p.entries, root)
	return nil
}

// encodeBody makes a block body from Ion values: {transactionInfo,
// redactionInfo, revisions: [{hash, data, metadata}, ...]}, each part
// only if present, a revision's data only if it is stored inside the
// body (not split) and not deleted.
func encodeBody(info, redaction ion.Value, revs []RevisionInput, hashes []merkle.Hash, txID string, txTime time.Time, split bool) []byte {
	fields := make([]ion.Field, 0, 3)
	if !isAbsent(info) {
		fields = append(fields, ion.Field{Name: symTransactionInfo, Value: info})
	}
	if !isAbsent(redaction) {
		fields = append(fields, ion.Field{Name: symRedactionInfo, Value: redaction})
	}
	if len(revs) > 0 {
		txTimeValue := ion.SystemTime(txTime)
		list := make([]ion.Value, len(revs))
		for i, r := range revs {
			rev := make([]ion.Field, 0, 3)
			rev = append(rev, ion.Field{Name: symHash, Value: ion.Blob(hashes[i][:])})
			if !r.Deleted && !split {
				rev = append(rev, ion.Field{Name: symData, Value: r.Data})
			}
			rev = append(rev, ion.Field{Name: symMetadata, Value: ion.StructOf([]ion.Field{
				{Name: symID, Value: ion.String(r.DocumentID)},
				{Name: symVersion, Value: ion.Int(r.Version)},
				{Name: symTxTime, Value: txTimeValue},
				{Name: symTxID, Value: ion.String(txID)}})})
			list[i] = ion.StructOf(rev)
		}
		fields = append(fields, ion.Field{Name: symRevisions, Value: ion.List(list...)})
	}
	return ion.AppendBinaryShared(nil, ion.StructOf(fields), blockSymbols)
}

// bodyWriters are reused: a writer keeps its stack of open containers.
var bodyWriters = sync.Pool{New: func() any { return new(ion.BinaryWriter) }}

// writeBody writes the body encodeBody would make for a typed
// transactionInfo and revisions whose data are stored split, with
// ion.BinaryWriter: byte for byte the same
// (TestTypedInfoIsHashedAndWrittenAsItsIonValue),
// without building values.
func writeBody(info *TransactionInfo, revs []RevisionInput, hashes []merkle.Hash, txID string, txTime time.Time) ([]byte, error) {
	local := make([]string, len(info.Documents))
	size := 96 + 140*len(revs)
	for i, d := range info.Documents {
		local[i] = d.ID
		size += 80 + len(d.TableName)
	}
	for _, s := range info.Statements {
		size += 64 + len(s.Statement)
	}
	w := bodyWriters.Get().(*ion.BinaryWriter)
	defer bodyWriters.Put(w)
	w.Start(make([]byte, 0, size), blockSymbols, local...)
	w.BeginStruct()
	w.FieldSID(sidTransactionInfo)
	info.write(w)
	if len(revs) > 0 {
		w.FieldSID(sidRevisions)
		w.BeginList()
		for i, r := range revs {
			w.BeginStruct()
			w.FieldSID(sidHash)
			w.Blob(hashes[i][:])
			w.FieldSID(sidMetadata)
			w.BeginStruct()
			w.FieldSID(sidID)
			w.String(r.DocumentID)
			w.FieldSID(sidVersion)
			w.Int(r.Version)
			w.FieldSID(sidTxTime)
			w.SystemTime(txTime)
			w.FieldSID(sidTxID)
			w.String(txID)
			w.End()
			w.End()
		}
		w.End()
	}
	w.End()
	return w.Finish()
}

// splitDataRefs returns where record.encode will lay out each revision's
// data: after the record's header and entriesHashList (of entries hashes),
// in the split body (appendSplitBody).
func splitDataRefs(entries int, skeleton []byte, parts [][]byte, revisions int) []DataRef {
	off := recordHeaderSize + uvarintLen(uint64(entries)) + entries*merkle.Size
	off += uvarintLen(uint64(len(skeleton))) + len(skeleton)
	refs := make([]DataRef, revisions)
	for i := 0; i < len(parts); i += 2 {
		rev, _ := binary.Uvarint(parts[i])
		data := parts[i+1]
		off += len(parts[i]) + uvarintLen(uint64(len(data)))
		refs[rev] = DataRef{Offset: uint32(off), Length: uint32(len(data))}
		off += len(data)
	}
	return refs
}

func uvarintLen(v uint64) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], v)
}

// callerKey reports whether k may be written by the layers above.
func callerKey(k []byte) bool { return len(k) > 0 && k[0] != keyPrefix }

// isAbsent reports whether an optional block part was left unset: the zero
// Value (an untyped null without annotations).
func isAbsent(v ion.Value) bool {
	return v.Type() == ion.NullType && v.IsNull() && len(v.Annotations()) == 0
}

const recordVersion = 1

// blockSymbols is the shared symbol table a stored block body imports
// instead of listing QLDB's field names in every block (~145 bytes of each
// one-document block). Bodies written before it have local symbol tables
// and read as before. Never change this list: a new one is version 2, and
// version 1 stays registered for the blocks written with it.
var blockSymbols = ion.RegisterSharedSymbolTable("quill.journal.block", 1,
	"transactionInfo", "statements", "statement", "startTime", "statementDigest", "documents",
	"tableName", "tableId", "revisions", "hash", "data", "metadata", "id", "txTime", "txId",
	"redactionInfo")

// The symbol IDs of a block body's field names (blockSymbols.SID), for
// writeBody.
var (
	sidTransactionInfo, sidRevisions          = blockSID("transactionInfo"), blockSID("revisions")
	sidHash, sidMetadata, sidID, sidVersion   = blockSID("hash"), blockSID("metadata"), blockSID("id"), blockSID("version")
	sidTxTime, sidTxID                        = blockSID("txTime"), blockSID("txId")
	sidStatements, sidStatement, sidStartTime = blockSID("statements"), blockSID("statement"), blockSID("startTime")
	sidStatementDigest, sidDocuments          = blockSID("statementDigest"), blockSID("documents")
	sidTableName, sidTableID                  = blockSID("tableName"), blockSID("tableId")
)

func blockSID(text string) uint64 {
	sid, ok := blockSymbols.SID(text)
	if !ok {
		panic("journal: " + text + " is not in the block symbol table")
	}
	return sid
}

// The field names of a block body, made once.
var (
	symTransactionInfo, symRedactionInfo, symRevisions = ion.Sym("transactionInfo"), ion.Sym("redactionInfo"), ion.Sym("revisions")
	symHash, symData, symMetadata                      = ion.Sym("hash"), ion.Sym("data"), ion.Sym("metadata")
	symID, symVersion, symTxTime, symTxID              = ion.Sym("id"), ion.Sym("version"), ion.Sym("txTime"), ion.Sym("txId")
)

// Record flags.
const (
	flagCompressed = 1
	// flagSplitData: the body is the length of the Ion body without the
	// revisions' data, that body, then for each revision with data its
	// index, the length of its data's Ion binary stream and the stream.
	flagSplitData = 2
)

// splitBodySize is the size of a split body (appendSplitBody).
func splitBodySize(skeleton []byte, parts [][]byte) int {
	n := uvarintLen(uint64(len(skeleton))) + len(skeleton)
	for i := 0; i < len(parts); i += 2 {
		n += len(parts[i]) + uvarintLen(uint64(len(parts[i+1]))) + len(parts[i+1])
	}
	return n
}

// appendSplitBody lays out a split body after b; parts alternate a
// revision's index (a uvarint) and its data's Ion binary stream.
func appendSplitBody(b, skeleton []byte, parts [][]byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(skeleton)))
	b = append(b, skeleton...)
	for i := 0; i < len(parts); i += 2 {
		b = append(b, parts[i]...)
		b = binary.AppendUvarint(b, uint64(len(parts[i+1])))
		b = append(b, parts[i+1]...)
	}
	return b
}

// parseSplitBody rebuilds the body Ion value of a split record: each data
// goes back into its revision after the hash, QLDB's field order.
func parseSplitBody(body []byte) (ion.Value, error) {
	n, used := binary.Uvarint(body)
	if used <= 0 || n > uint64(len(body)-used) {
		return ion.Value{}, errors.New("bad split body length")
	}
	skeleton, err := ion.Parse(body[used : used+int(n)])
	if err != nil {
		return ion.Value{}, err
	}
	revs, ok := skeleton.Get("revisions")
	if !ok {
		return ion.Value{}, errors.New("split body without revisions")
	}
	elems := slices.Clone(revs.Elems())
	rest := body[used+int(n):]
	for len(rest) > 0 {
		idx, u1 := binary.Uvarint(rest)
		if u1 <= 0 || idx >= uint64(len(elems)) {
			return ion.Value{}, errors.New("bad revision index in split body")
		}
		size, u2 := binary.Uvarint(rest[u1:])
		if u2 <= 0 || size > uint64(len(rest)-u1-u2) {
			return ion.Value{}, errors.New("bad data length in split body")
		}
		start := u1 + u2
		data, err := ion.Parse(rest[start : start+int(size)])
		if err != nil {
			return ion.Value{}, fmt.Errorf("revision %d data: %w", idx, err)
		}
		fields := elems[idx].Fields()
		withData := make([]ion.Field, 0, len(fields)+1)
		withData = append(withData, fields[:min(1, len(fields))]...)
		withData = append(withData, ion.F("data", data))
		withData = append(withData, fields[min(1, len(fields)):]...)
		elems[idx] = ion.Struct(withData...)
		rest = rest[start+int(size):]
	}
	out := make([]ion.Field, 0, len(skeleton.Fields()))
	for _, f := range skeleton.Fields() {
		if name, _ := f.Name.Text(); name == "revisions" {
			f = ion.F("revisions", ion.List(elems...))
		}
		out = append(out, f)
	}
	return ion.Struct(out...), nil
}

// record is a block as stored: a header and the (maybe compressed) body.
type record struct {
	millis            int64
	txID              string
	blockHash         merkle.Hash
	entriesHash       merkle.Hash
	previousBlockHash merkle.Hash
	entries           []merkle.Hash
	compressed        bool
	split             bool // flagSplitData
	body              []byte
	skeleton          []byte   // with parts: the split body to lay out (encode only)
	parts             [][]byte // see prepared
}

// recordHeaderSize is the fixed part of a stored record: version, flags,
// millis, transaction id, block hash, entries hash, previous block hash.
// The block hash, a Merkle leaf, is at recordBlockHashAt.
const (
	recordBlockHashAt = 2 + 8 + ion.IDLength
	recordHeaderSize  = recordBlockHashAt + 3*merkle.Size
)

func (r *record) encode() []byte { return r.appendTo(make([]byte, 0, r.size())) }

// size is the length of the encoded record.
func (r *record) size() int {
	bodySize := len(r.body)
	if r.skeleton != nil {
		bodySize = splitBodySize(r.skeleton, r.parts)
	}
	return recordHeaderSize + uvarintLen(uint64(len(r.entries))) + len(r.entries)*merkle.Size + bodySize
}

// appendTo appends the encoded record to b.
func (r *record) appendTo(b []byte) []byte {
	var flags byte
	if r.compressed {
		flags |= flagCompressed
	}
	if r.split {
		flags |= flagSplitData
	}
	b = append(b, recordVersion, flags)
	b = binary.BigEndian.AppendUint64(b, uint64(r.millis))
	b = append(b, r.txID...)
	b = append(b, r.blockHash[:]...)
	b = append(b, r.entriesHash[:]...)
	b = append(b, r.previousBlockHash[:]...)
	b = binary.AppendUvarint(b, uint64(len(r.entries)))
	for _, e := range r.entries {
		b = append(b, e[:]...)
	}
	if r.skeleton != nil {
		return appendSplitBody(b, r.skeleton, r.parts)
	}
	return append(b, r.body...)
}

var errShortRecord = errors.New("record too short")

func decodeRecord(b []byte) (*record, error) {
	if len(b) < recordHeaderSize+1 {
		return nil, errShortRecord
	}
	if b[0] != recordVersion {
		return nil, fmt.Errorf("unknown record version %d", b[0])
	}
	if b[1]&^(flagCompressed|flagSplitData) != 0 {
		return nil, fmt.Errorf("unknown record flags %#x", b[1])
	}
	r := &record{compressed: b[1]&flagCompressed != 0, split: b[1]&flagSplitData != 0}
	r.millis = int64(binary.BigEndian.Uint64(b[2:10]))
	r.txID = string(b[10 : 10+ion.IDLength])
	off := recordBlockHashAt
	copy(r.blockHash[:], b[off:])
	copy(r.entriesHash[:], b[off+32:])
	copy(r.previousBlockHash[:], b[off+64:])
	off += 96
	n, used := binary.Uvarint(b[off:])
	if used <= 0 || n > uint64(len(b)-off)/merkle.Size {
		return nil, errors.New("bad entriesHashList length")
	}
	off += used
	r.entries = make([]merkle.Hash, n)
	for i := range r.entries {
		copy(r.entries[i][:], b[off:])
		off += merkle.Size
	}
	r.body = b[off:]
	return r, nil
}

// Block is a decoded journal block.
type Block struct {
	Strand            string
	SequenceNo        uint64
	TransactionID     string
	Timestamp         time.Time
	Hash              merkle.Hash
	EntriesHash       merkle.Hash
	PreviousBlockHash merkle.Hash
	EntriesHashList   []merkle.Hash
	// TransactionInfo and RedactionInfo are the zero Value when absent.
	TransactionInfo ion.Value
	RedactionInfo   ion.Value
	// Revisions are the block's document revisions, in order.
	Revisions []Revision
}

// Address returns the block's address as an Ion struct.
func (b *Block) Address() ion.Value { return blockAddress(b.Strand, b.SequenceNo) }

func blockAddress(strand string, seq uint64) ion.Value {
	return ion.Struct(ion.F("strandId", ion.String(strand)), ion.F("sequenceNo", ion.Uint(seq)))
}

// Ion returns the block exactly as QLDB shapes it.
func (b *Block) Ion() ion.Value {
	fields := []ion.Field{
		ion.F("blockAddress", b.Address()),
		ion.F("transactionId", ion.String(b.TransactionID)),
		ion.F("blockTimestamp", ion.SystemTime(b.Timestamp)),
		ion.F("blockHash", ion.Blob(b.Hash[:])),
		ion.F("entriesHash", ion.Blob(b.EntriesHash[:])),
		ion.F("previousBlockHash", ion.Blob(b.PreviousBlockHash[:])),
		ion.F("entriesHashList", hashList(b.EntriesHashList)),
	}
	if !isAbsent(b.TransactionInfo) {
		fields = append(fields, ion.F("transactionInfo", b.TransactionInfo))
	}
	if !isAbsent(b.RedactionInfo) {
		fields = append(fields, ion.F("redactionInfo", b.RedactionInfo))
	}
	if len(b.Revisions) > 0 {
		revs := make([]ion.Value, len(b.Revisions))
		for i := range b.Revisions {
			revs[i] = b.Revisions[i].Ion()
		}
		fields = append(fields, ion.F("revisions", ion.List(revs...)))
	}
	return ion.Struct(fields...)
}

func hashList(hs []merkle.Hash) ion.Value {
	elems := make([]ion.Value, len(hs))
	for i := range hs {
		elems[i] = ion.Blob(hs[i][:])
	}
	return ion.List(elems...)
}

// IonText returns the block as compact Ion text, as GetBlock does.
func (b *Block) IonText() string { return b.Ion().String() }

// IonBinary returns the block as Ion binary.
func (b *Block) IonBinary() []byte { return ion.AppendBinary(nil, b.Ion()) }

// Revision returns the revision of the document in the block and its index.
func (b *Block) Revision(documentID string) (rev Revision, index int, ok bool) {
	for i := range b.Revisions {
		if b.Revisions[i].Metadata.ID == documentID {
			return b.Revisions[i], i, true
		}
	}
	return Revision{}, -1, false
}

// BlockAddress returns the block's address.
func (b *Block) BlockAddress() Address { return Address{Strand: b.Strand, SequenceNo: b.SequenceNo} }

// headerHash is the first entry of every Quill block's entriesHashList:
// H({blockAddress, transactionId, blockTimestamp}). It puts the parts of the
// block that QLDB's hashes leave uncovered under the block hash, so that a
// changed transaction id or timestamp is caught like any other change.
func headerHash(strand string, seq uint64, txID string, millis int64) merkle.Hash {
	return merkle.Hash(ion.Hash(ion.Struct(
		ion.F("blockAddress", blockAddress(strand, seq)),
		ion.F("transactionId", ion.String(txID)),
		ion.F("blockTimestamp", ion.SystemTime(time.UnixMilli(millis))))))
}

// headerHasher computes headerHash in the sequencer, where every
// microsecond is serial: from field digests, the strand's computed once,
// the transaction id's by the committer (txIDDigest), the timestamp's once
// per millisecond. Three SHA-256s a block instead of six, and no values
// built.
type headerHasher struct {
	strandID   [32]byte // digest of the field strandId
	millis     int64
	timestamp  [32]byte // digest of the field blockTimestamp at millis
	haveMillis bool
}

func newHeaderHasher(strand string) *headerHasher {
	return &headerHasher{strandID: ion.FieldDigest("strandId", ion.String(strand))}
}

// txIDDigest is the digest of a header's field transactionId.
func txIDDigest(txID string) [32]byte { return ion.FieldDigest("transactionId", ion.String(txID)) }

func (h *headerHasher) hash(seq uint64, txID [32]byte, millis int64) merkle.Hash {
	if !h.haveMillis || h.millis != millis {
		h.timestamp = ion.FieldDigest("blockTimestamp", ion.SystemTime(time.UnixMilli(millis)))
		h.millis, h.haveMillis = millis, true
	}
	address := ion.StructFieldDigest("blockAddress", h.strandID, ion.FieldDigest("sequenceNo", ion.Uint(seq)))
	return merkle.Hash(ion.StructHash(address, txID, h.timestamp))
}

// decodeBlock rebuilds a block from its stored record and checks it as the
// official verifier does, and its header hash. Failures are
// *CorruptionError.
func decodeBlock(strand string, seq uint64, raw []byte) (*Block, error) {
	corrupt := func(problem string, err error) error {
		return &CorruptionError{Strand: strand, SequenceNo: int64(seq), Problem: problem, Err: err}
	}
	r, err := decodeRecord(raw)
	if err != nil {
		return nil, corrupt("undecodable record", err)
	}
	body := r.body
	if r.compressed {
		if body, err = zstdDecoder.DecodeAll(r.body, nil); err != nil {
			return nil, corrupt("undecodable body", err)
		}
	}
	var content ion.Value
	if r.split {
		content, err = parseSplitBody(body)
	} else {
		content, err = ion.Parse(body)
	}
	if err != nil {
		return nil, corrupt("undecodable body", err)
	}
	b := &Block{
		Strand: strand, SequenceNo: seq, TransactionID: r.txID,
		Timestamp: time.UnixMilli(r.millis).UTC(), Hash: r.blockHash, EntriesHash: r.entriesHash,
		PreviousBlockHash: r.previousBlockHash, EntriesHashList: r.entries,
	}
	b.TransactionInfo, _ = content.Get("transactionInfo")
	b.RedactionInfo, _ = content.Get("redactionInfo")
	if revs, ok := content.Get("revisions"); ok {
		b.Revisions = make([]Revision, revs.Len())
		for i := range b.Revisions {
			if b.Revisions[i], err = decodeRevision(b.BlockAddress(), revs.Index(i)); err != nil {
				return nil, corrupt(fmt.Sprintf("revision %d", i), err)
			}
		}
	}
	if err := verify.Block(b.Ion()); err != nil {
		return nil, corrupt("block fails verification", err)
	}
	if len(r.entries) == 0 || r.entries[0] != headerHash(strand, seq, r.txID, r.millis) {
		return nil, corrupt("the header hash (address, transaction id, timestamp) does not match", nil)
	}
	return b, nil
}

// revisionHashes returns the hashes of the block's revisions, in order.
func (b *Block) revisionHashes() []merkle.Hash {
	out := make([]merkle.Hash, len(b.Revisions))
	for i := range b.Revisions {
		out[i] = b.Revisions[i].Hash
	}
	return out
}
