package quill

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quilldb/quill/journal"
	"github.com/quilldb/quill/merkle"
	"github.com/quilldb/quill/verify"
)

// Ledger is a handle on one ledger: its tables, documents, transactions and
// verification. It is safe for concurrent use.
type Ledger struct {
	db      *DB
	name    string
	strand  *journal.Strand
	deleted atomic.Bool

	// catalogMu is the catalog lock (see catalog.go): held exclusively by
	// transactions that change the catalog, shared by all others. cat is
	// read under it and replaced under it exclusively; nil means it must be
	// loaded again.
	catalogMu sync.RWMutex
	cat       *catalog
}

// Ledger returns the ACTIVE ledger with the given name.
func (db *DB) Ledger(ctx context.Context, name string) (*Ledger, error) {
	if err := ValidateLedgerName("Name", name); err != nil {
		return nil, err
	}
	db.ledgersMu.Lock()
	defer db.ledgersMu.Unlock()
	if l, ok := db.ledgers[name]; ok {
		return l, nil
	}
	rec, err := db.readLedger(name)
	if err != nil {
		return nil, err
	}
	switch rec.State {
	case StateActive:
	case StateCreating:
		return nil, &Error{Code: CodeResourcePreconditionNotMet, ResourceType: "LEDGER", ResourceName: name, Message: "the ledger is CREATING"}
	default:
		return nil, &Error{Code: CodeResourceNotFound, ResourceType: "LEDGER", ResourceName: name, Message: "the ledger is " + rec.State}
	}
	strand, err := db.j.Strand(ctx, rec.Strand)
	if err != nil {
		return nil, mapJournalErr(err)
	}
	l := &Ledger{db: db, name: name, strand: strand}
	if err := l.loadCatalog(ctx); err != nil {
		return nil, err
	}
	db.ledgers[name] = l
	return l, nil
}

// Name returns the ledger's name.
func (l *Ledger) Name() string { return l.name }

// StrandID returns the id of the ledger's journal strand.
func (l *Ledger) StrandID() string { return l.strand.ID() }

func (l *Ledger) check() error {
	if l.deleted.Load() {
		return &Error{Code: CodeResourceNotFound, ResourceType: "LEDGER", ResourceName: l.name, Message: "the ledger was deleted"}
	}
	return nil
}

// Execute runs fn in a transaction and commits it. fn may be called more
// than once: when the commit fails with an OCC conflict, Execute waits
// (exponential backoff with jitter) and runs fn again, up to
// Options.MaxRetries times. An error returned by fn aborts the transaction,
// which writes nothing, and is returned unchanged. Each attempt is bounded
// by Options.TransactionTimeout.
//
// A transaction that changes the table catalog (CreateTable, DropTable,
// UndropTable, CreateIndex) runs alone on its ledger: its first attempt
// stops at the first such call and fn is run again, at once, under the
// ledger's exclusive catalog lock, which other transactions wait for. So
// fn must not itself call Execute on the same ledger if it may change the
// catalog, nor while another goroutine may (it would wait for itself).
func (l *Ledger) Execute(ctx context.Context, fn func(tx *Tx) error) error {
	_, err := l.ExecuteReceipt(ctx, fn)
	return err
}

// Receipt describes a committed transaction.
type Receipt struct {
	// TransactionID is the id of the attempt that committed.
	TransactionID string
	// Block is the address of the transaction's block; Written is false
	// for a read-only transaction, which writes no block.
	Block   journal.Address
	Written bool
	// Attempts counts the runs of fn (1 when there was no OCC conflict).
	Attempts int
}

// ExecuteReceipt is Execute that also returns where the transaction's block
// is and how many attempts it took.
func (l *Ledger) ExecuteReceipt(ctx context.Context, fn func(tx *Tx) error) (Receipt, error) {
	o := &l.db.opts
	exclusive := false
	for attempt := 0; ; attempt++ {
		rec, err := l.attempt(ctx, fn, exclusive)
		rec.Attempts = attempt + 1
		if errors.Is(err, errCatalogLock) && !exclusive {
			exclusive = true // not an OCC retry: run fn again at once
			attempt--
			continue
		}
		if !errors.Is(err, ErrOCCConflict) || attempt >= o.MaxRetries {
			if errors.Is(err, ErrOCCConflict) {
				return rec, fmt.Errorf("%w (after %d attempts)", err, attempt+1)
			}
			return rec, err
		}
		delay := o.RetryBaseDelay << attempt
		delay = min(delay, 100*o.RetryBaseDelay)
		delay = delay/2 + time.Duration(rand.Int64N(int64(delay/2)+1)) //nolint:gosec // jitter needs no crypto
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return Receipt{Attempts: attempt + 1}, ctx.Err()
		}
	}
}

// attempt runs fn once and commits. With exclusive set it holds the catalog
// lock exclusively and may change the catalog; otherwise it holds it shared
// and fails with errCatalogLock if fn tries to.
func (l *Ledger) attempt(ctx context.Context, fn func(tx *Tx) error, exclusive bool) (Receipt, error) {
	if err := l.check(); err != nil {
		return Receipt{}, err
	}
	actx := newTxContext(ctx, l.db.opts.TransactionTimeout)
	defer actx.release()
	if exclusive {
		l.catalogMu.Lock()
		defer l.catalogMu.Unlock()
		if l.cat == nil {
			if err := l.loadCatalog(actx); err != nil {
				return Receipt{}, err
			}
		}
	} else {
		l.catalogMu.RLock()
		defer l.catalogMu.RUnlock()
		if l.cat == nil {
			return Receipt{}, errCatalogLock // load it under the exclusive lock
		}
	}
	tx := newTx(actx, l)
	tx.exclusive = exclusive
	err := fn(tx)
	if tx.wantsCatalogLock {
		// Whatever fn made of the refused change, run it again.
		return Receipt{TransactionID: tx.id}, errCatalogLock
	}
	if err != nil {
		return Receipt{TransactionID: tx.id}, err
	}
	rec, err := tx.commit()
	if tx.catalogChanged {
		// The store is the truth, whether the commit made it or not. If it
		// cannot be read now, the next transaction loads it.
		_ = l.loadCatalog(context.WithoutCancel(actx))
	}
	return rec, err
}

// txContext is the context of one attempt: the caller's, with the
// transaction timeout as its deadline, cancelled when the attempt ends. It
// arms no timer until someone waits on Done: the commit path only asks Err,
// and a timer per transaction cost ~1 µs of CPU there.
type txContext struct {
	context.Context // the caller's
	deadline        time.Time
	mu              sync.Mutex
	armed           context.Context // made by the first Done
	cancel          context.CancelFunc
	endErr          error // Err when the attempt ended
}

func newTxContext(parent context.Context, timeout time.Duration) *txContext {
	return &txContext{Context: parent, deadline: time.Now().Add(timeout)}
}

func (c *txContext) Deadline() (time.Time, bool) {
	if d, ok := c.Context.Deadline(); ok && d.Before(c.deadline) {
		return d, true
	}
	return c.deadline, true
}

func (c *txContext) Err() error {
	c.mu.Lock()
	err := c.endErr
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return c.liveErr()
}

func (c *txContext) liveErr() error {
	if err := c.Context.Err(); err != nil {
		return err
	}
	if !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

func (c *txContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.armed == nil {
		c.armed, c.cancel = context.WithDeadline(c.Context, c.deadline)
		if c.endErr != nil {
			c.cancel()
		}
	}
	return c.armed.Done()
}

// release ends the attempt: Err keeps what it said then, or says Canceled.
func (c *txContext) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.endErr == nil {
		c.endErr = cmp.Or(c.liveErr(), context.Canceled)
	}
	if c.cancel != nil {
		c.cancel()
	}
}

// Digest is the answer of GetDigest.
type Digest struct {
	// Digest is the 32-byte SHA-256 Merkle root of the journal up to the tip.
	Digest merkle.Hash
	// Tip is the last block the digest covers (DigestTipAddress).
	Tip journal.Address
}

// GetDigest returns the digest of the ledger's journal at its tip.
func (l *Ledger) GetDigest(ctx context.Context) (Digest, error) {
	if err := l.check(); err != nil {
		return Digest{}, err
	}
	d, err := l.strand.Digest(ctx)
	if err != nil {
		return Digest{}, mapJournalErr(err)
	}
	return Digest{Digest: d.Hash, Tip: journal.Address{Strand: d.Strand, SequenceNo: d.SequenceNo}}, nil
}

// checkAddresses checks a block address and an optional digest tip against
// the ledger's strand and its durable tip, naming the parameter at fault as
// QLDB does (BlockAddress, DigestTipAddress).
func (l *Ledger) checkAddresses(block journal.Address, tip *journal.Address) error {
	size := l.strand.Size() // only grows: what is below it now stays readable
	check := func(param string, a journal.Address) error {
		switch {
		case a.Strand != l.strand.ID():
			return invalidParam(param, "strandId %q is not the strand %s of ledger %s", a.Strand, l.strand.ID(), l.name)
		case a.SequenceNo >= size:
			return invalidParam(param, "sequenceNo %d is past the ledger's last block %d", a.SequenceNo, int64(size)-1)
		}
		return nil
	}
	if err := check("BlockAddress", block); err != nil {
		return err
	}
	if tip == nil {
		return nil
	}
	if err := check("DigestTipAddress", *tip); err != nil {
		return err
	}
	if block.SequenceNo > tip.SequenceNo {
		return invalidParam("BlockAddress", "sequenceNo %d is after the digest tip %d", block.SequenceNo, tip.SequenceNo)
	}
	return nil
}

// GetBlock returns a block and, when a digest tip is given, the proof that
// the block is in the digest at that tip (the hashes that fold the block's
// hash into it, as QLDB's GetBlock returns them).
func (l *Ledger) GetBlock(ctx context.Context, address journal.Address, tip *journal.Address) (*journal.Block, []merkle.Hash, error) {
	if err := l.check(); err != nil {
		return nil, nil, err
	}
	if err := l.checkAddresses(address, tip); err != nil {
		return nil, nil, err
	}
	b, err := l.strand.Block(ctx, address.SequenceNo)
	if err != nil || tip == nil {
		return b, nil, mapJournalErr(err)
	}
	p, err := l.strand.BlockProof(ctx, address.SequenceNo, tip.SequenceNo)
	if err != nil {
		return nil, nil, mapJournalErr(err)
	}
	return b, p, nil
}

// GetRevision returns a document's revision in a block and, when a digest
// tip is given, the proof that it is in the digest at that tip.
func (l *Ledger) GetRevision(ctx context.Context, address journal.Address, documentID string, tip *journal.Address) (journal.Revision, []merkle.Hash, error) {
	if err := l.check(); err != nil {
		return journal.Revision{}, nil, err
	}
	if err := l.checkAddresses(address, tip); err != nil {
		return journal.Revision{}, nil, err
	}
	if err := validateDocumentID(documentID); err != nil {
		return journal.Revision{}, nil, err
	}
	var (
		rev   journal.Revision
		proof []merkle.Hash
		err   error
	)
	if tip == nil {
		rev, err = l.strand.Revision(ctx, address.SequenceNo, documentID)
	} else {
		rev, proof, err = l.strand.RevisionProof(ctx, address.SequenceNo, documentID, tip.SequenceNo)
	}
	if errors.Is(err, journal.ErrDocumentNotFound) {
		return rev, nil, invalidParam("DocumentId", "%v", err)
	}
	return rev, proof, mapJournalErr(err)
}

// Check re-verifies the ledger's whole journal (see journal.Strand.Check).
func (l *Ledger) Check(ctx context.Context) (journal.CheckReport, error) {
	if err := l.check(); err != nil {
		return journal.CheckReport{}, err
	}
	return l.strand.Check(ctx)
}

// VerifyRevision checks, as QLDB's official samples do, that a revision
// returned by GetRevision is in the ledger whose digest is given: its hash
// must be the hash of its content, and folding it with the proof must give
// the digest.
func VerifyRevision(rev journal.Revision, proof []merkle.Hash, digest merkle.Hash) error {
	return verify.RevisionAgainstDigest(rev.Ion(), proofBytes(proof), digest[:])
}

// VerifyBlock checks a block returned by GetBlock against a digest: its
// internal hashes, and its proof.
func VerifyBlock(b *journal.Block, proof []merkle.Hash, digest merkle.Hash) error {
	return verify.BlockAgainstDigest(b.Ion(), proofBytes(proof), digest[:])
}

// proofBytes is a proof in the form the verify package takes.
func proofBytes(proof []merkle.Hash) [][]byte {
	out := make([][]byte, len(proof))
	for i := range proof {
		out[i] = proof[i][:]
	}
	return out
}
