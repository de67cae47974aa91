package stream

import (
	"fmt"

	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/journal"
)

// RecordType is a stream record's recordType.
type RecordType string

// The record types of QLDB's journal streams.
const (
	Control         RecordType = "CONTROL"
	BlockSummary    RecordType = "BLOCK_SUMMARY"
	RevisionDetails RecordType = "REVISION_DETAILS"
)

// Control record payloads.
const (
	ControlCreated   = "CREATED"
	ControlCompleted = "COMPLETED"
)

// Record is one stream record.
type Record struct {
	Type         RecordType
	PartitionKey string
	// Payload is the record's payload: the control record, the block
	// summary or the revision details.
	Payload ion.Value
	// Data is the whole record, {qldbStreamArn, recordType, payload}, in
	// Ion binary: what a Kinesis consumer receives.
	Data []byte
	// Block is the sequence number of the block the record comes from
	// (none for CONTROL records).
	Block uint64
}

func newRecord(arn string, t RecordType, key string, payload ion.Value, block uint64) Record {
	envelope := ion.Struct(ion.F("qldbStreamArn", ion.String(arn)), ion.F("recordType", ion.String(string(t))),
		ion.F("payload", payload))
	return Record{Type: t, PartitionKey: key, Payload: payload, Data: ion.AppendBinary(nil, envelope), Block: block}
}

// ControlRecord is a CONTROL record (CREATED or COMPLETED), keyed by the
// stream id.
func ControlRecord(arn, streamID, controlType string) Record {
	return newRecord(arn, Control, streamID, ion.Struct(ion.F("controlRecordType", ion.String(controlType))), 0)
}

// BlockRecords are a block's BLOCK_SUMMARY and REVISION_DETAILS records, in
// that order. The table of each revision comes from the block's
// transactionInfo.documents, where Quill records it.
func BlockRecords(arn string, b *journal.Block) ([]Record, error) {
	summaries := make([]ion.Value, len(b.Revisions))
	for i := range b.Revisions {
		r := &b.Revisions[i]
		summaries[i] = ion.Struct(ion.F("hash", ion.Blob(r.Hash[:])), ion.F("documentId", ion.String(r.Metadata.ID)))
	}
	whole := b.Ion()
	fields := make([]ion.Field, 0, len(whole.Fields())+1)
	for _, f := range whole.Fields() {
		if name, _ := f.Name.Text(); name != "revisions" {
			fields = append(fields, f)
		}
	}
	fields = append(fields, ion.F("revisionSummaries", ion.List(summaries...)))
	out := make([]Record, 0, 1+len(b.Revisions))
	out = append(out, newRecord(arn, BlockSummary, b.TransactionID, ion.Struct(fields...), b.SequenceNo))
	docs, _ := b.TransactionInfo.Get("documents")
	for i := range b.Revisions {
		r := &b.Revisions[i]
		doc, _ := docs.Get(r.Metadata.ID)
		tableName, _ := doc.Get("tableName")
		tableID, _ := doc.Get("tableId")
		if tableName.Type() != ion.StringType || tableID.Type() != ion.StringType {
			return nil, fmt.Errorf("stream: block %d: transactionInfo names no table for document %s", b.SequenceNo, r.Metadata.ID)
		}
		payload := ion.Struct(
			ion.F("tableInfo", ion.Struct(ion.F("tableName", tableName), ion.F("tableId", tableID))),
			ion.F("revision", r.Ion()))
		out = append(out, newRecord(arn, RevisionDetails, r.Metadata.ID, payload, b.SequenceNo))
	}
	return out, nil
}

// ParseRecord decodes a record's Ion binary (one that is not aggregated).
func ParseRecord(data []byte) (Record, error) {
	v, err := ion.Parse(data)
	if err != nil {
		return Record{}, fmt.Errorf("stream: record: %w", err)
	}
	t, _ := v.Get("recordType")
	payload, ok := v.Get("payload")
	if !ok || t.Type() != ion.StringType {
		return Record{}, fmt.Errorf("stream: record: not {qldbStreamArn, recordType, payload}")
	}
	r := Record{Type: RecordType(t.Text()), Payload: payload, Data: data}
	if r.Type == BlockSummary {
		addr, _ := payload.Get("blockAddress")
		seq, _ := addr.Get("sequenceNo")
		n, _ := seq.Int64()
		r.Block = uint64(n)
	}
	if r.Type == RevisionDetails {
		rev, _ := payload.Get("revision")
		addr, _ := rev.Get("blockAddress")
		seq, _ := addr.Get("sequenceNo")
		n, _ := seq.Int64()
		r.Block = uint64(n)
	}
	return r, nil
}
