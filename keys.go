package quill

import (
	"encoding/binary"
)

// A ledger's data lives under 'D' + its strand id, then a kind:
//
//	'c' tableID                      table catalog entry (JSON)
//	'n' name                         an active table's catalog entry, by name
//	'd' tableID docID                committed view of a live document
//	'x' tableID len(field) field H(value) docID   index entry (empty value)
//	'h' tableID docID version(8)     history: sequence number and txTime of the revision
//	'v' tableID                      the table's write counter (OCC for scans and lookups)
//
// Deleting a ledger deletes the whole range.
const (
	kindTable     = 'c'
	kindTableName = 'n'
	kindDoc       = 'd'
	kindIndex     = 'x'
	kindHistory   = 'h'
	kindCounter   = 'v'
)

func dataPrefix(strand string, kind byte) []byte {
	k := make([]byte, 0, 1+len(strand)+1+64)
	k = append(k, 'D')
	k = append(k, strand...)
	return append(k, kind)
}

func dataRange(strand string) (lo, hi []byte) {
	lo = append([]byte{'D'}, strand...)
	hi = append(append([]byte{'D'}, strand...), 0xFF)
	return lo, hi
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
	k := append(dataPrefix(strand, kindIndex), tableID...)
	k = append(k, byte(len(field)))
	k = append(k, field...)
	return append(k, valueHash[:]...)
}

func historyKey(strand, tableID, docID string, version int64) []byte {
	k := append(append(dataPrefix(strand, kindHistory), tableID...), docID...)
	return binary.BigEndian.AppendUint64(k, uint64(version))
}

func counterKey(strand, tableID string) []byte {
	return append(dataPrefix(strand, kindCounter), tableID...)
}

// prefixEnd returns the smallest key greater than every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xFF {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
