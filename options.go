package quill

import (
	"context"
	"errors"
	"time"

	"github.com/quilldb/quill/export"
	"github.com/quilldb/quill/journal"
	"github.com/quilldb/quill/stream"
)

// Options configure a DB. A nil *Options means all defaults; every field's
// default is given in its comment.
type Options struct {
	// Journal configures the store: its filesystem (FS), logger, clock
	// (the time source for ledger, block and transaction times), caches,
	// compression and read batches. Its zero value means the journal's
	// defaults (see journal.Options).
	Journal journal.Options
	// Region and Account go into ARNs. Defaults: "us-east-1", "000000000000".
	Region  string
	Account string

	// MaxLedgers is the number of active (CREATING or ACTIVE) ledgers, as
	// QLDB's per-account quota. Default: 5.
	MaxLedgers int
	// MaxActiveTables and MaxTables limit a ledger's active tables and all
	// its tables, dropped ones included. Defaults: 20 and 40.
	MaxActiveTables int
	MaxTables       int
	// MaxIndexesPerTable limits indexes per table. Default: 5.
	MaxIndexesPerTable int
	// MaxDocumentsPerTransaction limits the documents one transaction
	// writes. Default: 40.
	MaxDocumentsPerTransaction int
	// MaxDocumentSize limits a document's Ion binary size. Default: 128 KiB.
	MaxDocumentSize int
	// MaxTransactionSize limits the bytes one transaction writes (documents
	// and their index entries). Default: 4 MiB.
	MaxTransactionSize int
	// MaxStatementLength limits a statement's length in characters.
	// Default: 100,000.
	MaxStatementLength int
	// TransactionTimeout bounds one attempt of a transaction. Default: 30 s.
	TransactionTimeout time.Duration
	// MaxRetries is how often Execute retries a transaction after an OCC
	// conflict. Default: 4.
	MaxRetries int
	// ExportSinks makes the sink a journal export writes to, for the
	// export's bucket and encryption: export/s3.New for S3 or an
	// S3-compatible store, an export.DirSink for a directory. Default: nil,
	// and ExportJournalToS3 fails with ResourcePreconditionNotMet. The
	// library does not pick S3 itself, so that embedding Quill does not pull
	// in the AWS SDK.
	ExportSinks func(ctx context.Context, target export.Target) (export.Sink, error)
	// MaxActiveJournalExports is how many exports of a ledger may be
	// IN_PROGRESS at once, as QLDB's quota. Default: 2.
	MaxActiveJournalExports int
	// ExportObjectSize is the size at which an export's data object is
	// closed (see export.Options.ObjectSize). Default: 8 MiB.
	ExportObjectSize int
	// ExportMaxBlocksPerSecond paces exports so that they leave CPU to the
	// ledgers' commits. Default: 0, unpaced.
	ExportMaxBlocksPerSecond float64
	// ExportAttempts is how often an export that fails for a reason other
	// than a refusal of the target (a network error, an unavailable store)
	// is tried, from where it was, before it is CANCELLED. Default: 5.
	ExportAttempts int

	// StreamSinks makes the sink a journal stream writes to, for the
	// stream's Kinesis target: stream/kinesis.New for Kinesis or a
	// Kinesis-compatible server, or a stream.Func for a consumer in this
	// program. Default: nil, and StreamJournalToKinesis fails with
	// ResourcePreconditionNotMet.
	StreamSinks func(ctx context.Context, target StreamTarget) (stream.Sink, error)
	// MaxActiveStreams is how many streams of a ledger may be ACTIVE or
	// IMPAIRED at once, as QLDB's quota. Default: 5.
	MaxActiveStreams int
	// StreamImpairedTimeout is how long a stream whose target refuses
	// writes stays IMPAIRED before it is FAILED. Default: 1 hour.
	StreamImpairedTimeout time.Duration

	// RetryBaseDelay is the first backoff of Execute; each retry doubles it,
	// with jitter, up to 100 times the base. Default: 10 ms.
	RetryBaseDelay time.Duration
}

// EnsureDefaults fills unset fields with their defaults and returns o.
func (o *Options) EnsureDefaults() *Options {
	o.Journal.EnsureDefaults()
	setDefault(&o.Region, "us-east-1")
	setDefault(&o.Account, "000000000000")
	setDefault(&o.MaxLedgers, 5)
	setDefault(&o.MaxActiveTables, 20)
	setDefault(&o.MaxTables, 40)
	setDefault(&o.MaxIndexesPerTable, 5)
	setDefault(&o.MaxDocumentsPerTransaction, 40)
	setDefault(&o.MaxDocumentSize, 128<<10)
	setDefault(&o.MaxTransactionSize, 4<<20)
	setDefault(&o.MaxStatementLength, 100_000)
	setDefault(&o.TransactionTimeout, 30*time.Second)
	setDefault(&o.MaxRetries, 4)
	setDefault(&o.RetryBaseDelay, 10*time.Millisecond)
	setDefault(&o.MaxActiveJournalExports, 2)
	setDefault(&o.ExportObjectSize, 8<<20)
	setDefault(&o.ExportAttempts, 5)
	setDefault(&o.MaxActiveStreams, 5)
	setDefault(&o.StreamImpairedTimeout, time.Hour)
	return o
}

func setDefault[T comparable](field *T, def T) {
	var zero T
	if *field == zero {
		*field = def
	}
}

// Validate reports options that cannot work.
func (o *Options) Validate() error {
	if err := o.Journal.Validate(); err != nil {
		return err
	}
	switch {
	case o.MaxLedgers < 0 || o.MaxActiveTables < 0 || o.MaxTables < 0 || o.MaxIndexesPerTable < 0 ||
		o.MaxDocumentsPerTransaction < 0 || o.MaxDocumentSize < 0 || o.MaxTransactionSize < 0 ||
		o.MaxStatementLength < 0 || o.MaxRetries < 0 || o.MaxActiveJournalExports < 0 || o.ExportObjectSize < 0 ||
		o.ExportAttempts < 0 || o.ExportMaxBlocksPerSecond < 0 || o.MaxActiveStreams < 0 || o.StreamImpairedTimeout < 0:
		return errors.New("quill: Options limits must not be negative")
	case o.MaxActiveTables > o.MaxTables:
		return errors.New("quill: Options.MaxActiveTables must not exceed MaxTables")
	}
	return nil
}
