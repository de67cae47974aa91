package ion

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"time"
)

// IDLength is the length of a QLDB id: strand, transaction, document, table,
// export and stream ids.
const IDLength = 22

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// NewID returns a new random QLDB id: 128 bits from crypto/rand written as
// two 11-character base62 halves, each an unsigned 64-bit number padded
// with '0', the format every id QLDB ever returned decodes as.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand.Read never fails on supported platforms (Go 1.24+).
		panic(fmt.Sprintf("ion: crypto/rand failed: %v", err))
	}
	return FormatID(binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:]))
}

// FormatID writes the two halves of an id.
func FormatID(hi, lo uint64) string {
	var out [IDLength]byte
	putBase62(out[:11], hi)
	putBase62(out[11:], lo)
	return string(out[:])
}

func putBase62(dst []byte, u uint64) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = base62[u%62]
		u /= 62
	}
}

// IDError describes a string that is not a valid id.
type IDError struct {
	ID     string
	Reason string
}

func (e *IDError) Error() string { return fmt.Sprintf("ion: invalid id %q: %s", e.ID, e.Reason) }

// ValidateID checks that s has the form QLDB's API requires of a UniqueId:
// exactly 22 characters, each a letter or a digit. As QLDB's own decoders
// do, it accepts any such string, including ids whose halves would not fit
// in 64 bits.
func ValidateID(s string) error {
	if len(s) != IDLength {
		return &IDError{ID: s, Reason: fmt.Sprintf("must be %d characters, has %d", IDLength, len(s))}
	}
	for i := range len(s) {
		if c := s[i]; (c < '0' || c > '9') && (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') {
			return &IDError{ID: s, Reason: fmt.Sprintf("character %d (%q) is not a letter or digit", i+1, c)}
		}
	}
	return nil
}

// ParseID returns the two 64-bit halves of an id in QLDB's format.
func ParseID(s string) (hi, lo uint64, err error) {
	if err := ValidateID(s); err != nil {
		return 0, 0, err
	}
	hi, okHi := parseBase62(s[:11])
	lo, okLo := parseBase62(s[11:])
	if !okHi || !okLo {
		return 0, 0, &IDError{ID: s, Reason: "a half exceeds 64 bits"}
	}
	return hi, lo, nil
}

func parseBase62(s string) (uint64, bool) {
	var u uint64
	for i := range len(s) {
		c := s[i]
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case c >= 'A' && c <= 'Z':
			d = uint64(c-'A') + 10
		default:
			d = uint64(c-'a') + 36
		}
		if u > (^uint64(0)-d)/62 {
			return 0, false
		}
		u = u*62 + d
	}
	return u, true
}

// NewTimeOrderedID returns a new id whose 128 bits are a version 7 UUID
// (RFC 9562): 48 bits of Unix milliseconds from now, the version and
// variant bits, then 74 random bits, in the same two-half format as NewID.
// Ids made in later milliseconds sort after earlier ones, as text too
// (base62's digits are in ASCII order and the halves are padded), so
// keys that end in a new document's id land beside the keys of the
// documents inserted just before it: the store's memtable and sstables
// see appends, not random inserts, which made commits ~6-8% cheaper
// (docs/architecture.md). The price: an id tells when its document was
// made, as the document's first revision does.
func NewTimeOrderedID(now time.Time) string {
	var b [16]byte
	if _, err := rand.Read(b[6:]); err != nil {
		// crypto/rand.Read never fails on supported platforms (Go 1.24+).
		panic(fmt.Sprintf("ion: crypto/rand failed: %v", err))
	}
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(now.UnixMilli()))
	copy(b[:6], ms[2:])
	b[6] = 0x70 | b[6]&0x0F // version 7
	b[8] = 0x80 | b[8]&0x3F // variant 10
	return FormatID(binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:]))
}
