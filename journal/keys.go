package journal

import (
	"encoding/binary"

	"github.com/quilldb/quill/internal/keyspace"
	"github.com/quilldb/quill/merkle"
)

// keyPrefix starts every key the journal owns.
const keyPrefix = keyspace.Journal

const (
	kindMeta  = 'm'
	kindBlock = 'b'
	kindNode  = 'n'
	// 't' keys (millis, seq) were a time index, written by versions before
	// 2026-12 and no longer read: blocks' timestamps never decrease, so a
	// binary search over the blocks finds a time. Old stores keep them
	// until their strand is deleted.
)

func strandKey(strand string, kind byte, extra int) []byte {
	k := make([]byte, 0, 1+len(strand)+1+extra)
	k = append(k, keyPrefix)
	k = append(k, strand...)
	return append(k, kind)
}

func metaKey(strand string) []byte { return strandKey(strand, kindMeta, 0) }

func blockKey(strand string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(strandKey(strand, kindBlock, 8), seq)
}

func nodeKey(strand string, id merkle.NodeID) []byte {
	k := append(strandKey(strand, kindNode, 9), id.Level)
	return binary.BigEndian.AppendUint64(k, id.Index)
}

// kindBounds returns the key range [lo, hi) of one kind in a strand.
func kindBounds(strand string, kind byte) (lo, hi []byte) {
	return strandKey(strand, kind, 0), strandKey(strand, kind+1, 0)
}

// trailingUint64 reads the big-endian uint64 that ends block, node and
// time-index keys: a sequence number or a node index.
func trailingUint64(k []byte) uint64 { return binary.BigEndian.Uint64(k[len(k)-8:]) }
