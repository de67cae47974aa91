package quill

import (
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
		return nil, &ResourcePreconditionNotMetError{ResourceType: "LEDGER", ResourceName: name, Message: "the ledger is CREATING"}
	default:
		return nil, &ResourceNotFoundError{ResourceType: "LEDGER", ResourceName: name, Message: "the ledger is " + rec.State}
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
		return &ResourceNotFoundError{ResourceType: "LEDGER", ResourceName: l.name, Message: "the ledger was deleted"}
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
	actx, cancel := context.WithTimeout(ctx, l.db.opts.TransactionTimeout)
	defer cancel()
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

// Digest is the answer of GetDigest.
type Digest struct {
	// Digest is the 32-byte SHA-256 Merkle root of the journal up to the tip.
	Digest merkle.Hash
	// TipAddress is the last block the digest covers, as Ion text.
	TipAddress string
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
	return Digest{Digest: d.Hash, TipAddress: d.TipAddress()}, nil
}

// parseAddress parses a BlockAddress or DigestTipAddress of this ledger.
func (l *Ledger) parseAddress(param, text string) (journal.Address, error) {
	a, err := journal.ParseAddress(text)
	if err != nil {
		return a, invalidParam(param, "%v", err)
	}
	if a.Strand != l.strand.ID() {
		return a, invalidParam(param, "strandId %s is not the strand of ledger %s", a.Strand, l.name)
	}
	return a, nil
}

// mapReadErr turns journal errors about addresses into InvalidParameter.
func mapReadErr(param string, err error) error {
	switch {
	case errors.Is(err, journal.ErrBlockNotFound), errors.Is(err, journal.ErrInvalidAddress),
		errors.Is(err, journal.ErrDocumentNotFound):
		return invalidParam(param, "%v", err)
	}
	return mapJournalErr(err)
}

// GetBlock returns a block as Ion text and, when a digest tip is given, the
// proof (Ion text) that the block is in the digest at that tip.
func (l *Ledger) GetBlock(ctx context.Context, blockAddress, digestTipAddress string) (block, proof string, err error) {
	if err := l.check(); err != nil {
		return "", "", err
	}
	addr, err := l.parseAddress("BlockAddress", blockAddress)
	if err != nil {
		return "", "", err
	}
	b, err := l.strand.Block(ctx, addr.SequenceNo)
	if err != nil {
		return "", "", mapReadErr("BlockAddress", err)
	}
	if digestTipAddress == "" {
		return b.IonText(), "", nil
	}
	tip, err := l.parseAddress("DigestTipAddress", digestTipAddress)
	if err != nil {
		return "", "", err
	}
	p, err := l.strand.BlockProof(ctx, addr.SequenceNo, tip.SequenceNo)
	if err != nil {
		return "", "", mapReadErr("DigestTipAddress", err)
	}
	return b.IonText(), journal.ProofText(p), nil
}

// GetRevision returns a document revision as Ion text and, when a digest tip
// is given, the proof that it is in the digest at that tip.
func (l *Ledger) GetRevision(ctx context.Context, blockAddress, documentID, digestTipAddress string) (revision, proof string, err error) {
	if err := l.check(); err != nil {
		return "", "", err
	}
	addr, err := l.parseAddress("BlockAddress", blockAddress)
	if err != nil {
		return "", "", err
	}
	if err := validateDocumentID(documentID); err != nil {
		return "", "", err
	}
	if digestTipAddress == "" {
		rev, err := l.strand.Revision(ctx, addr.SequenceNo, documentID)
		if err != nil {
			return "", "", mapReadErr("DocumentId", err)
		}
		return rev.String(), "", nil
	}
	tip, err := l.parseAddress("DigestTipAddress", digestTipAddress)
	if err != nil {
		return "", "", err
	}
	rev, p, err := l.strand.RevisionProof(ctx, addr.SequenceNo, documentID, tip.SequenceNo)
	if err != nil {
		return "", "", mapReadErr("DigestTipAddress", err)
	}
	return rev.String(), journal.ProofText(p), nil
}

// Check re-verifies the ledger's whole journal (see journal.Strand.Check).
func (l *Ledger) Check(ctx context.Context) (journal.CheckReport, error) {
	if err := l.check(); err != nil {
		return journal.CheckReport{}, err
	}
	return l.strand.Check(ctx)
}

// VerifyRevision checks, as QLDB's official samples do, that a revision
// returned by GetRevision (Ion text) is in the ledger whose digest is
// given: its hash must be the hash of its content, and folding it with the
// proof must give the digest.
func VerifyRevision(revisionIonText, proofIonText string, digest merkle.Hash) error {
	rev, err := parseIonText("Revision", revisionIonText)
	if err != nil {
		return err
	}
	proof, err := verify.ParseProof([]byte(proofIonText))
	if err != nil {
		return invalidParam("Proof", "%v", err)
	}
	return verify.RevisionAgainstDigest(rev, proof, digest[:])
}

// VerifyBlock checks a block returned by GetBlock against a digest: its
// internal hashes, and its proof.
func VerifyBlock(blockIonText, proofIonText string, digest merkle.Hash) error {
	b, err := parseIonText("Block", blockIonText)
	if err != nil {
		return err
	}
	proof, err := verify.ParseProof([]byte(proofIonText))
	if err != nil {
		return invalidParam("Proof", "%v", err)
	}
	return verify.BlockAgainstDigest(b, proof, digest[:])
}
