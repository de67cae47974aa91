package journal

import (
	"errors"
	"fmt"
)

// Sentinel errors. Check them with errors.Is; the returned errors wrap them
// with the operation and the ids involved.
var (
	// ErrClosed is returned by every call on a closed Journal.
	ErrClosed = errors.New("journal: closed")

	// ErrNoStore is returned by Open when the directory holds no store and
	// Options.Create does not allow making one there.
	ErrNoStore = errors.New("journal: no Quill store")
	// ErrStrandNotFound is returned for a strand id the journal does not hold
	// (QLDB: ResourceNotFoundException).
	ErrStrandNotFound = errors.New("journal: strand not found")
	// ErrBlockNotFound is returned for a sequence number past the strand's tip
	// (QLDB: InvalidParameterException).
	ErrBlockNotFound = errors.New("journal: block not found")
	// ErrDocumentNotFound is returned when a block holds no revision of the
	// requested document (QLDB: InvalidParameterException).
	ErrDocumentNotFound = errors.New("journal: document not in block")
	// ErrInvalidAddress is returned for a malformed block address or a tip
	// that is before the block or past the strand's tip (QLDB:
	// InvalidParameterException).
	ErrInvalidAddress = errors.New("journal: invalid block address")
	// ErrInvalidTransaction is returned by Commit for a transaction that
	// cannot become a block: no revisions and no transactionInfo, invalid
	// ids or values. Nothing is written.
	ErrInvalidTransaction = errors.New("journal: invalid transaction")
	// ErrCommitFailed is returned when the store failed to make a transaction
	// durable; the journal recovered and the transaction is not in it.
	ErrCommitFailed = errors.New("journal: commit failed")
	// ErrCorrupt matches every error about stored bytes that fail
	// verification, as opposed to I/O errors.
	ErrCorrupt = errors.New("journal: corrupt")
)

// CorruptionError reports stored journal data that fails verification.
type CorruptionError struct {
	Strand string
	// SequenceNo is the block where the problem is, or -1 for strand state.
	SequenceNo int64
	Problem    string
	Err        error // the underlying verification error, if any
}

func (e *CorruptionError) Error() string {
	s := fmt.Sprintf("journal: corrupt: strand %s", e.Strand)
	if e.SequenceNo >= 0 {
		s += fmt.Sprintf(" block %d", e.SequenceNo)
	}
	s += ": " + e.Problem
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptionError) Is(target error) bool { return target == ErrCorrupt }

func (e *CorruptionError) Unwrap() error { return e.Err }
