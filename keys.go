package quill

import (
	"encoding/binary"

	"github.com/quilldb/quill/internal/keyspace"
)

// A ledger's data lives under keyspace.LedgerData ('D') + its strand id, then a kind:
//
//	'c' tableID                      table catalog entry (JSON)
//	'n' name                         an active table's catalog entry, by name
//	'd' tableID docID                committed view of a live document
//	'x' tableID len(field) field H(value) docID   index entry (empty value)
//	'h' tableID docID version(8)     history: sequence number and txTime of a revision a later one
//	                                 replaced, or of a delete (a live document's latest is in its view)
//
// Two more shapes are names of journal marks (journal.Transaction.Marks),
// kept in memory for OCC; stores written before 2026-12 also hold them as
// keys, which nothing reads:
//
//	'v' tableID                      changed by every write to the table (scans observe it)
//	'y' tableID len(field) field H(value)   changed by every transaction that adds or
//	                                 removes an index entry of that value (index lookups observe it)
//
// Deleting a ledger deletes the whole range.
const (
	kindTable     = 'c'
	kindTableName = 'n'
	kindDoc       = 'd'
	kindIndex     = 'x'
	kindHistory   = 'h'
	kindCounter   = 'v'
	kindIndexMark = 'y'
)

func dataPrefix(strand string, kind byte) []byte {
	k := make([]byte, 0, 1+len(strand)+1+64)
	k = append(k, keyspace.LedgerData)
	k = append(k, strand...)
	return append(k, kind)
}

func dataRange(strand string) (lo, hi []byte) {
	lo = append([]byte{keyspace.LedgerData}, strand...)
	return lo, keyspace.End(lo)
}

func tableKey(strand, tableID string) []byte {
	return append(dataPrefix(strand, kindTable), tableID...)
}

func tableNameKey(strand, name string) []byte {
	return append(dataPrefix(strand, kindTableName), name...)
}

func docKey(strand, tableID, docID string) []byte {
	return append(append(dataPrefix(strand, kindDoc), tableID...), docID...)
}

func indexPrefix(strand, tableID, field string, valueHash [32]byte) []byte {
	return append(indexFieldPrefix(strand, tableID, field), valueHash[:]...)
}

// indexValueMark names the journal mark changed by every transaction that
// changes the entries of one indexed value, and observed by the lookups of
// that value: a lookup conflicts with the writers of what it looked up, not
// with every writer of the table.
func indexValueMark(strand, tableID, field string, valueHash [32]byte) []byte {
	k := append(dataPrefix(strand, kindIndexMark), tableID...)
	k = append(k, byte(len(field)))
	k = append(k, field...)
	return append(k, valueHash[:]...)
}

// indexFieldPrefix starts every entry of the index on one field.
func indexFieldPrefix(strand, tableID, field string) []byte {
	k := append(dataPrefix(strand, kindIndex), tableID...)
	k = append(k, byte(len(field)))
	return append(k, field...)
}

func historyKey(strand, tableID, docID string, version int64) []byte {
	k := append(append(dataPrefix(strand, kindHistory), tableID...), docID...)
	return binary.BigEndian.AppendUint64(k, uint64(version))
}

// tableMark names the journal mark of a table's writes (scans observe it).
func tableMark(strand, tableID string) []byte {
	return append(dataPrefix(strand, kindCounter), tableID...)
}
