// Package ion holds the Ion values of a Quill journal and everything QLDB
// does with them: the Ion Hash used for revision, transactionInfo and
// statement hashes, the binary and text encodings, the JSON Lines
// down-conversion of journal exports, QLDB ids and system timestamps.
//
// # Values
//
// [Value] is an immutable Ion value of any type, with annotations. Struct
// fields keep their order and may repeat a name; decimals keep their
// exponent (90.25 and 90.250 are different values with different hashes);
// timestamps keep their precision and offset, including the unknown offset
// -00:00. Build values with the constructors ([Struct], [F], [String],
// [Decimal], [SystemTime], ...) or decode them with [Parse].
//
// # Hashing
//
// [Hash] is Ion Hash 1.0 with SHA-256, the function QLDB calls H. It
// passes the whole official conformance suite and agrees with
// github.com/amzn/ion-hash-go on random values of every type; it works on a
// decoded Value and does not allocate.
//
// # Encodings
//
//   - Binary: [MarshalBinary] and [Parse] use Quill's own codec (ion-go
//     v1.5.0 cannot read back an annotated true, and the encoder is on the
//     commit path). Local symbol tables that import only the system table
//     are supported; shared-table imports are rejected.
//   - Text: [Parse] reads text with github.com/amazon-ion/ion-go;
//     [MarshalText] writes the compact style of QLDB's GetBlock and
//     GetRevision responses, byte for byte on the spec's vectors.
//   - JSON: [MarshalJSON] is the lossy down-conversion of JSON exports; its
//     rules are listed there and in docs/ion.md.
//
// Timestamps are held as ion-go Timestamps, which keep at most nanosecond
// fractional seconds: binary input with finer fractions is rejected rather
// than rounded, so that a stored value always hashes as it was given.
//
// # Ids
//
// [NewID] makes QLDB's 22-character base62 ids (two unsigned 64-bit
// halves) from crypto/rand; [ValidateID] checks the API's UniqueId rule.
package ion
