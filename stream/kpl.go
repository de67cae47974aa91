package stream

import (
	"bytes"
	"crypto/md5" //nolint:gosec // the KPL format's checksum is MD5; it is not used for security
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// kplMagic starts every KPL aggregated record.
var kplMagic = []byte{0xF3, 0x89, 0x9A, 0xC2}

// MaxKinesisRecord is the largest Kinesis record's data (1 MiB).
const MaxKinesisRecord = 1 << 20

// KinesisRecord is one record as Kinesis stores it: its partition key and
// data (a stream record, or several aggregated).
type KinesisRecord struct {
	PartitionKey string
	Data         []byte
}

// Aggregate packs records into KPL aggregated Kinesis records of at most
// MaxKinesisRecord bytes each, in order. An aggregated record takes the
// partition key of its first record (Kinesis routes the whole record by
// it). A record too large to share one is sent alone, not aggregated.
func Aggregate(records []Record) []KinesisRecord {
	var out []KinesisRecord
	var agg aggregator
	for _, r := range records {
		if !agg.fits(r) {
			if agg.n > 0 {
				out = append(out, agg.finish())
			}
			if !agg.fits(r) {
				out = append(out, KinesisRecord{PartitionKey: r.PartitionKey, Data: r.Data})
				continue
			}
		}
		agg.add(r)
	}
	if agg.n > 0 {
		out = append(out, agg.finish())
	}
	return out
}

// aggregator builds one AggregatedRecord:
//
//	message AggregatedRecord { repeated string partition_key_table = 1;
//	                           repeated string explicit_hash_key_table = 2;
//	                           repeated Record records = 3; }
//	message Record { required uint64 partition_key_index = 1;
//	                 optional uint64 explicit_hash_key_index = 2;
//	                 required bytes data = 3; repeated Tag tags = 4; }
type aggregator struct {
	keys    []string
	keyIdx  map[string]int
	records []byte // the encoded records field (3) entries
	keySize int    // the encoded partition key table
	n       int
	first   string
}

// recordSize is the encoded size of r as field 3, with key index idx.
func recordSize(r Record, idx int) int {
	inner := protowire.SizeTag(1) + protowire.SizeVarint(uint64(idx)) + protowire.SizeTag(3) + protowire.SizeBytes(len(r.Data))
	return protowire.SizeTag(3) + protowire.SizeBytes(inner)
}

func (a *aggregator) fits(r Record) bool {
	idx, known := a.keyIdx[r.PartitionKey]
	extra := 0
	if !known {
		idx = len(a.keys)
		extra = protowire.SizeTag(1) + protowire.SizeBytes(len(r.PartitionKey))
	}
	total := len(kplMagic) + a.keySize + extra + len(a.records) + recordSize(r, idx) + md5.Size
	return total <= MaxKinesisRecord
}

func (a *aggregator) add(r Record) {
	if a.keyIdx == nil {
		a.keyIdx = map[string]int{}
	}
	idx, known := a.keyIdx[r.PartitionKey]
	if !known {
		idx = len(a.keys)
		a.keyIdx[r.PartitionKey] = idx
		a.keys = append(a.keys, r.PartitionKey)
		a.keySize += protowire.SizeTag(1) + protowire.SizeBytes(len(r.PartitionKey))
	}
	var inner []byte
	inner = protowire.AppendTag(inner, 1, protowire.VarintType)
	inner = protowire.AppendVarint(inner, uint64(idx))
	inner = protowire.AppendTag(inner, 3, protowire.BytesType)
	inner = protowire.AppendBytes(inner, r.Data)
	a.records = protowire.AppendTag(a.records, 3, protowire.BytesType)
	a.records = protowire.AppendBytes(a.records, inner)
	if a.n == 0 {
		a.first = r.PartitionKey
	}
	a.n++
}

func (a *aggregator) finish() KinesisRecord {
	msg := make([]byte, 0, a.keySize+len(a.records))
	for _, k := range a.keys {
		msg = protowire.AppendTag(msg, 1, protowire.BytesType)
		msg = protowire.AppendString(msg, k)
	}
	msg = append(msg, a.records...)
	sum := md5.Sum(msg) //nolint:gosec // the format's checksum
	data := make([]byte, 0, len(kplMagic)+len(msg)+md5.Size)
	data = append(append(append(data, kplMagic...), msg...), sum[:]...)
	out := KinesisRecord{PartitionKey: a.first, Data: data}
	*a = aggregator{}
	return out
}

// Deaggregate unpacks a Kinesis record's data into the records it holds:
// the records of a KPL aggregated record, or the data itself when it is
// not one (as the KPL's deaggregators do).
func Deaggregate(data []byte) ([][]byte, error) {
	if len(data) <= len(kplMagic)+md5.Size || !bytes.HasPrefix(data, kplMagic) {
		return [][]byte{data}, nil
	}
	msg := data[len(kplMagic) : len(data)-md5.Size]
	if sum := md5.Sum(msg); !bytes.Equal(sum[:], data[len(data)-md5.Size:]) { //nolint:gosec // the format's checksum
		return [][]byte{data}, nil
	}
	var out [][]byte
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return nil, fmt.Errorf("stream: aggregated record: %w", protowire.ParseError(n))
		}
		msg = msg[n:]
		if num != 3 || typ != protowire.BytesType {
			if n = protowire.ConsumeFieldValue(num, typ, msg); n < 0 {
				return nil, fmt.Errorf("stream: aggregated record: %w", protowire.ParseError(n))
			}
			msg = msg[n:]
			continue
		}
		rec, n := protowire.ConsumeBytes(msg)
		if n < 0 {
			return nil, fmt.Errorf("stream: aggregated record: %w", protowire.ParseError(n))
		}
		msg = msg[n:]
		payload, err := recordData(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, payload)
	}
	return out, nil
}

// recordData is the data (field 3) of an aggregated Record.
func recordData(rec []byte) ([]byte, error) {
	for len(rec) > 0 {
		num, typ, n := protowire.ConsumeTag(rec)
		if n < 0 {
			return nil, fmt.Errorf("stream: aggregated record: %w", protowire.ParseError(n))
		}
		rec = rec[n:]
		if num == 3 && typ == protowire.BytesType {
			data, n := protowire.ConsumeBytes(rec)
			if n < 0 {
				return nil, fmt.Errorf("stream: aggregated record: %w", protowire.ParseError(n))
			}
			return data, nil
		}
		if n = protowire.ConsumeFieldValue(num, typ, rec); n < 0 {
			return nil, fmt.Errorf("stream: aggregated record: %w", protowire.ParseError(n))
		}
		rec = rec[n:]
	}
	return nil, errors.New("stream: aggregated record: a record without data")
}
