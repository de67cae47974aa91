package export

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sink stores the objects of an export.
type Sink interface {
	// Put stores body under key, replacing any object there. Where the
	// target allows, a reader never sees part of an object.
	Put(ctx context.Context, key string, body []byte) error
}

// Target is where an export writes: the request's bucket and encryption.
// The caller's factory turns it into a Sink.
type Target struct {
	Bucket     string
	Encryption string // SSE_S3, SSE_KMS or NO_ENCRYPTION
	KmsKeyArn  string
}

// Getter reads back what a Sink stored (verification, tests).
type Getter interface {
	Get(ctx context.Context, key string) ([]byte, error)
}

// ErrTargetRefused wraps a sink's error when the target refused the write
// for good (no such bucket, access denied, bad encryption key): retrying
// cannot help, and the export is CANCELLED with the error as its cause.
var ErrTargetRefused = errors.New("export: the target refused the write")

// Format is an export's OutputFormat.
type Format string

// The output formats of QLDB's journal exports.
const (
	IonText   Format = "ION_TEXT"
	IonBinary Format = "ION_BINARY"
	JSON      Format = "JSON"
)

// ParseFormat checks an OutputFormat; empty means ION_TEXT.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case "":
		return IonText, nil
	case IonText, IonBinary, JSON:
		return f, nil
	}
	return "", fmt.Errorf("OutputFormat %q is not ION_TEXT, ION_BINARY or JSON", s)
}

// extension is the data objects' file extension.
func (f Format) extension() string {
	if f == JSON {
		return ".json"
	}
	return ".ion"
}

// NormalizePrefix is the prefix keys start with: a non-empty prefix that
// does not end in "/" gets one.
func NormalizePrefix(prefix string) string {
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		return prefix + "/"
	}
	return prefix
}

// StartedManifestKey is the key of an export's started manifest.
func StartedManifestKey(prefix, exportID string) string {
	return NormalizePrefix(prefix) + exportID + ".started.manifest"
}

// CompletedManifestKey is the key of an export's completed manifest for a
// strand.
func CompletedManifestKey(prefix, exportID, strand string) string {
	return NormalizePrefix(prefix) + exportID + "." + strand + ".completed.manifest"
}

// DataKey is the key of a data object holding blocks first..last of a
// strand, the first of which has timestamp t.
func DataKey(prefix string, t time.Time, strand string, first, last uint64, f Format) string {
	return fmt.Sprintf("%s%s/%s.%d-%d%s", NormalizePrefix(prefix), t.UTC().Format("2006/01/02/15"),
		strand, first, last, f.extension())
}

// DirSink stores objects as files under a directory, keys as relative
// paths. Each file is written to a temporary name and renamed, so a reader
// sees whole objects only.
type DirSink struct {
	Dir string
}

// Put writes body to Dir/key.
func (d DirSink) Put(ctx context.Context, key string, body []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	path, err := d.path(key)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, body)
}

// Get reads Dir/key.
func (d DirSink) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	path, err := d.path(key)
	if err != nil {
		return nil, err
	}
	return readFile(path)
}
