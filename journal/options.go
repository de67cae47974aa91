package journal

import (
	"errors"
	"log/slog"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// Options configure a Journal. A nil *Options means all defaults.
type Options struct {
	// FS is the filesystem Pebble uses. Default: the operating system's
	// (vfs.Default). Tests pass vfs.NewMem() or an errorfs wrapper.
	FS vfs.FS
	// Logger receives the journal's and Pebble's messages. Default: a
	// logger that discards everything.
	Logger *slog.Logger
	// Clock returns the time used for blockTimestamp and txTime. Default:
	// time.Now. Timestamps never go backwards within a strand whatever the
	// clock does.
	Clock func() time.Time
	// CacheSize is Pebble's block cache in bytes, allocated as blocks are
	// read. Default: 256 MiB. A document read is two point reads (its
	// committed view, then its block), so a ledger larger than the cache
	// pays two misses per read.
	CacheSize int64
	// NodeCacheSize is the memory, in bytes, each strand may use to keep
	// the upper levels of its Merkle tree for proofs (32 bytes a node).
	// Default: 64 MiB, which holds every node above the leaves of a strand
	// of two million blocks (allocated as the strand grows). Beyond, the
	// lowest levels are dropped; a proof then computes its nodes below
	// level 4 from the 16 blocks around its leaf (they are not stored).
	// Negative disables the cache.
	NodeCacheSize int
	// CompressionMinSize is the smallest block body that is zstd-compressed
	// (compressed only if that saves at least a tenth). Pebble already
	// compresses its tables, so only large bodies gain enough to pay for
	// compressing on the commit path. Default: 4096 bytes; negative
	// disables compression.
	CompressionMinSize int
	// ReadBatchSize is how many bytes of keys and values a long read (Scan,
	// Blocks, Follow) copies under the journal's lock before it calls back
	// without it. Larger batches cost memory, smaller ones more seeks.
	// Default: 1 MiB.
	ReadBatchSize int
	// Create says when Open may create a new store. Default: CreateIfEmpty.
	Create CreateMode
}

// CreateMode says when Open may create a new store.
type CreateMode int

const (
	// CreateIfEmpty creates a store in a directory that does not exist or
	// is empty, and refuses a non-empty directory that holds no store (a
	// mistyped path must not fill someone's home directory with a store).
	CreateIfEmpty CreateMode = iota
	// CreateNever opens an existing store only: read-only tools use it so
	// that a mistyped path is an error, not a new empty ledger.
	CreateNever
	// CreateAlways creates a store wherever there is none, even in a
	// directory that holds other files.
	CreateAlways
)

// EnsureDefaults fills unset fields with their defaults and returns o.
func (o *Options) EnsureDefaults() *Options {
	if o.FS == nil {
		o.FS = vfs.Default
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.CacheSize == 0 {
		o.CacheSize = 256 << 20
	}
	if o.NodeCacheSize == 0 {
		o.NodeCacheSize = 64 << 20
	}
	if o.CompressionMinSize == 0 {
		o.CompressionMinSize = 4096
	}
	if o.ReadBatchSize == 0 {
		o.ReadBatchSize = 1 << 20
	}
	return o
}

// Validate reports options that cannot work.
func (o *Options) Validate() error {
	if o.CacheSize < 0 {
		return errors.New("journal: Options.CacheSize must not be negative")
	}
	if o.Create < CreateIfEmpty || o.Create > CreateAlways {
		return errors.New("journal: Options.Create is not one of CreateIfEmpty, CreateNever, CreateAlways")
	}
	if o.ReadBatchSize < 0 {
		return errors.New("journal: Options.ReadBatchSize must not be negative")
	}
	return nil
}
