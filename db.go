package quill

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/quilldb/quill/internal/keyspace"
	"github.com/quilldb/quill/journal"
)

// Ledger states, as QLDB names them.
const (
	StateCreating = "CREATING"
	StateActive   = "ACTIVE"
	StateDeleting = "DELETING"
	StateDeleted  = "DELETED"
)

// Permissions modes.
const (
	PermissionsAllowAll = "ALLOW_ALL"
	PermissionsStandard = "STANDARD"
)

// AWSOwnedKMSKey is the KmsKey value that means "encrypted with a key the
// service owns", QLDB's default.
const AWSOwnedKMSKey = "AWS_OWNED_KMS_KEY"

// DB holds any number of ledgers in one Pebble store. It is safe for
// concurrent use.
type DB struct {
	j    *journal.Journal
	opts Options

	// catalogMu serialises ledger lifecycle changes.
	catalogMu sync.Mutex
	ledgersMu sync.Mutex
	ledgers   map[string]*Ledger // open ledger handles by name
	closeOnce sync.Once
	closeErr  error

	jobs jobs
}

// Open opens the DB stored in dir, creating it if needed, and finishes any
// ledger creation or deletion a crash interrupted. A second process opening
// the same dir gets an error.
func Open(dir string, opts *Options) (*DB, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	o.EnsureDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	j, err := journal.Open(dir, &o.Journal)
	if err != nil {
		return nil, fmt.Errorf("quill: %w", err)
	}
	db := &DB{j: j, opts: o, ledgers: map[string]*Ledger{}}
	db.jobs.init()
	ctx := context.Background()
	if err := db.finishInterrupted(ctx); err != nil {
		_ = j.Close()
		return nil, err
	}
	if err := errors.Join(db.resumeExports(ctx), db.resumeStreams(ctx), db.resumeTableExports(ctx)); err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}

// Close closes the DB. It is idempotent.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		// Background jobs stop first; they resume at the next Open.
		db.jobs.close()
		db.closeErr = db.j.Close()
	})
	return db.closeErr
}

// ledgerRecord is a ledger's catalog entry.
type ledgerRecord struct {
	Name               string            `json:"name"`
	Strand             string            `json:"strand"`
	State              string            `json:"state"`
	CreatedMillis      int64             `json:"created"`
	PermissionsMode    string            `json:"permissionsMode"`
	DeletionProtection bool              `json:"deletionProtection"`
	KmsKey             string            `json:"kmsKey"`
	Tags               map[string]string `json:"tags,omitempty"`
}

func ledgerKey(name string) []byte { return append([]byte{keyspace.Ledgers}, name...) }

func (db *DB) readLedger(name string) (*ledgerRecord, error) {
	raw, ok, err := db.j.Get(ledgerKey(name))
	if err != nil {
		return nil, mapJournalErr(err)
	}
	if !ok {
		return nil, &Error{Code: CodeResourceNotFound, ResourceType: "LEDGER", ResourceName: name, Message: "no ledger with this name"}
	}
	var rec ledgerRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, fmt.Errorf("quill: ledger %s: catalog entry: %w", name, err)
	}
	return &rec, nil
}

func (db *DB) writeLedger(ctx context.Context, rec *ledgerRecord) error {
	raw, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return mapJournalErr(db.j.Write(ctx, []journal.Write{{Key: ledgerKey(rec.Name), Value: raw}}))
}

func (db *DB) allLedgers(ctx context.Context) ([]*ledgerRecord, error) {
	var out []*ledgerRecord
	err := db.j.Scan(ctx, []byte{keyspace.Ledgers}, []byte{keyspace.Ledgers + 1}, func(_, v []byte) error {
		var rec ledgerRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return err
		}
		out = append(out, &rec)
		return nil
	})
	return out, mapJournalErr(err)
}

// mapJournalErr turns a closed journal into ErrClosed.
func mapJournalErr(err error) error {
	if errors.Is(err, journal.ErrClosed) {
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	return err
}

// JournalStats returns the counters of the commit path of every ledger of
// the DB since it was opened (groups, transactions, the write-ahead log's
// syncs and their time): see journal.Stats.
func (db *DB) JournalStats() journal.Stats { return db.j.Stats() }

// ARN returns the ARN of the ledger with the given name.
func (db *DB) ARN(name string) string {
	return fmt.Sprintf("arn:aws:qldb:%s:%s:ledger/%s", db.opts.Region, db.opts.Account, name)
}

var ledgerNamePattern = regexp.MustCompile(`^[A-Za-z0-9-]+$`)

// ValidateLedgerName checks QLDB's rule for ledger and stream names: 1 to 32
// letters, digits and hyphens, not all digits, no leading or trailing
// hyphen, no "--".
func ValidateLedgerName(param, name string) error {
	switch {
	case len(name) < 1 || len(name) > 32:
		return invalidParam(param, "must be 1 to 32 characters, got %d", len(name))
	case !ledgerNamePattern.MatchString(name):
		return invalidParam(param, "%q may contain only letters, digits and hyphens", name)
	case strings.Trim(name, "0123456789") == "":
		return invalidParam(param, "%q must not be all digits", name)
	case strings.HasPrefix(name, "-") || strings.HasSuffix(name, "-"):
		return invalidParam(param, "%q must not start or end with a hyphen", name)
	case strings.Contains(name, "--"):
		return invalidParam(param, "%q must not contain two hyphens in a row", name)
	}
	return nil
}

// CreateLedgerInput is the request of CreateLedger.
type CreateLedgerInput struct {
	Name string
	// PermissionsMode is ALLOW_ALL or STANDARD (required).
	PermissionsMode string
	// DeletionProtection defaults to true when nil, as in QLDB.
	DeletionProtection *bool
	// KmsKey is recorded and reported; default AWS_OWNED_KMS_KEY.
	KmsKey string
	Tags   map[string]string
}

// LedgerDescription describes a ledger, as DescribeLedger returns it.
type LedgerDescription struct {
	Name               string
	ARN                string
	State              string
	CreationDateTime   time.Time
	PermissionsMode    string
	DeletionProtection bool
	KmsKeyARN          string
	EncryptionStatus   string // ENABLED
}

func (db *DB) describe(rec *ledgerRecord) *LedgerDescription {
	return &LedgerDescription{
		Name: rec.Name, ARN: db.ARN(rec.Name), State: rec.State,
		CreationDateTime: time.UnixMilli(rec.CreatedMillis).UTC(), PermissionsMode: rec.PermissionsMode,
		DeletionProtection: rec.DeletionProtection, KmsKeyARN: rec.KmsKey, EncryptionStatus: "ENABLED",
	}
}

func validatePermissionsMode(mode string) error {
	if mode != PermissionsAllowAll && mode != PermissionsStandard {
		return invalidParam("PermissionsMode", "must be ALLOW_ALL or STANDARD, got %q", mode)
	}
	return nil
}

// CreateLedger creates a ledger: its catalog entry, its journal strand and
// a first block recording the creation. It returns once the ledger is
// ACTIVE.
func (db *DB) CreateLedger(ctx context.Context, in *CreateLedgerInput) (*LedgerDescription, error) {
	if err := ValidateLedgerName("Name", in.Name); err != nil {
		return nil, err
	}
	if err := validatePermissionsMode(in.PermissionsMode); err != nil {
		return nil, err
	}
	if err := validateTags(in.Tags, 0); err != nil {
		return nil, err
	}
	kms, err := validateKMSKey(in.KmsKey)
	if err != nil {
		return nil, err
	}
	protection := true
	if in.DeletionProtection != nil {
		protection = *in.DeletionProtection
	}
	db.catalogMu.Lock()
	defer db.catalogMu.Unlock()
	all, err := db.allLedgers(ctx)
	if err != nil {
		return nil, err
	}
	active := 0
	for _, rec := range all {
		if rec.Name == in.Name {
			return nil, &Error{Code: CodeResourceAlreadyExists, ResourceType: "LEDGER", ResourceName: in.Name,
				Message: "a ledger with this name exists"}
		}
		if rec.State == StateCreating || rec.State == StateActive {
			active++
		}
	}
	if active >= db.opts.MaxLedgers {
		return nil, &Error{Code: CodeLimitExceeded, ResourceType: "LEDGER",
			Message: fmt.Sprintf("at most %d active ledgers (Options.MaxLedgers)", db.opts.MaxLedgers)}
	}
	strand, err := db.j.CreateStrand(ctx)
	if err != nil {
		return nil, mapJournalErr(err)
	}
	rec := &ledgerRecord{
		Name: in.Name, Strand: strand.ID(), State: StateCreating, CreatedMillis: db.opts.Journal.Clock().UnixMilli(),
		PermissionsMode: in.PermissionsMode, DeletionProtection: protection, KmsKey: kms, Tags: copyTags(in.Tags),
	}
	if err := db.writeLedger(ctx, rec); err != nil {
		return nil, err
	}
	if err := db.finishCreate(ctx, rec); err != nil {
		return nil, err
	}
	return db.describe(rec), nil
}

// finishCreate writes the ledger's first block and makes it ACTIVE.
func (db *DB) finishCreate(ctx context.Context, rec *ledgerRecord) error {
	strand, err := db.j.Strand(ctx, rec.Strand)
	if err != nil {
		return mapJournalErr(err)
	}
	if strand.Size() == 0 {
		stmt, err := journal.NewStatementInfo("CREATE LEDGER "+rec.Name, db.opts.Journal.Clock())
		if err != nil {
			return err // not reached: ledger names are ASCII
		}
		info := &journal.TransactionInfo{Statements: []journal.StatementInfo{stmt}}
		if _, err := strand.Commit(ctx, &journal.Transaction{TypedInfo: info}); err != nil {
			return mapJournalErr(err)
		}
	}
	rec.State = StateActive
	return db.writeLedger(ctx, rec)
}

// finishInterrupted completes lifecycle changes a crash cut short.
func (db *DB) finishInterrupted(ctx context.Context) error {
	all, err := db.allLedgers(ctx)
	if err != nil {
		return err
	}
	for _, rec := range all {
		switch rec.State {
		case StateCreating:
			err = db.finishCreate(ctx, rec)
		case StateDeleting:
			err = db.finishDelete(ctx, rec)
		}
		if err != nil {
			return fmt.Errorf("quill: finish interrupted change of ledger %s: %w", rec.Name, err)
		}
	}
	return nil
}

// DescribeLedger returns a ledger's description.
func (db *DB) DescribeLedger(ctx context.Context, name string) (*LedgerDescription, error) {
	if err := ValidateLedgerName("Name", name); err != nil {
		return nil, err
	}
	rec, err := db.readLedger(name)
	if err != nil {
		return nil, err
	}
	return db.describe(rec), nil
}

// LedgerSummary is one entry of ListLedgers.
type LedgerSummary struct {
	Name             string
	State            string
	CreationDateTime time.Time
}

// ListLedgers returns ledgers in name order, at most maxResults (1 to 100;
// 0 means 100), and a NextToken to continue with ("" at the end).
func (db *DB) ListLedgers(ctx context.Context, maxResults int, nextToken string) ([]LedgerSummary, string, error) {
	all, err := db.allLedgers(ctx)
	if err != nil {
		return nil, "", err
	}
	recs, next, err := page(all, func(r *ledgerRecord) string { return r.Name }, maxResults, nextToken)
	out := make([]LedgerSummary, len(recs))
	for i, rec := range recs {
		out[i] = LedgerSummary{Name: rec.Name, State: rec.State, CreationDateTime: time.UnixMilli(rec.CreatedMillis).UTC()}
	}
	return out, next, err
}

// Pagination tokens are the base64 of the last name returned: opaque to
// clients, within QLDB's NextToken pattern.
func encodeToken(last string) string { return base64.StdEncoding.EncodeToString([]byte("n:" + last)) }

func decodeToken(tok string) (string, error) {
	if tok == "" {
		return "", nil
	}
	raw, err := base64.StdEncoding.DecodeString(tok)
	if err != nil || len(tok) < 4 || len(tok) > 1024 || !strings.HasPrefix(string(raw), "n:") {
		return "", invalidParam("NextToken", "is not a token this server returned")
	}
	return string(raw[2:]), nil
}

// UpdateLedgerInput is the request of UpdateLedger; nil fields are left as
// they are.
type UpdateLedgerInput struct {
	DeletionProtection *bool
	KmsKey             *string
}

// UpdateLedger changes deletion protection and the recorded KMS key.
func (db *DB) UpdateLedger(ctx context.Context, name string, in *UpdateLedgerInput) (*LedgerDescription, error) {
	kms := ""
	if in.KmsKey != nil {
		var err error
		if kms, err = validateKMSKey(*in.KmsKey); err != nil {
			return nil, err
		}
	}
	return db.updateLedger(ctx, name, func(rec *ledgerRecord) error {
		if in.DeletionProtection != nil {
			rec.DeletionProtection = *in.DeletionProtection
		}
		if in.KmsKey != nil {
			rec.KmsKey = kms
		}
		return nil
	})
}

// kmsKeyPattern is what KMS accepts as a key reference: a key id, an alias
// name, or the ARN of a key or an alias.
var kmsKeyPattern = regexp.MustCompile(`^(?:` +
	`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}` + // key id
	`|mrk-[0-9a-fA-F]{32}` + // multi-Region key id
	`|alias/[a-zA-Z0-9/_-]+` + // alias name
	`|arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(?:key/[a-zA-Z0-9-]+|alias/[a-zA-Z0-9/_-]+)` +
	`)$`)

// validateKMSKey checks a KmsKey as QLDB's model does (1 to 1,600
// characters) and that it is AWS_OWNED_KMS_KEY or a KMS key reference. An
// empty key means AWS_OWNED_KMS_KEY. Quill records the key and does not
// use it: its store is not encrypted with customer keys.
func validateKMSKey(key string) (string, error) {
	switch {
	case key == "" || key == AWSOwnedKMSKey:
		return AWSOwnedKMSKey, nil
	case len(key) > 1600:
		return "", invalidParam("KmsKey", "must be at most 1,600 characters, got %d", len(key))
	case !kmsKeyPattern.MatchString(key):
		return "", invalidParam("KmsKey", "%q is not AWS_OWNED_KMS_KEY, a key id, an alias (alias/NAME) or a key or alias ARN", key)
	}
	return key, nil
}

// UpdateLedgerPermissionsMode sets ALLOW_ALL or STANDARD.
func (db *DB) UpdateLedgerPermissionsMode(ctx context.Context, name, mode string) (*LedgerDescription, error) {
	if err := validatePermissionsMode(mode); err != nil {
		return nil, err
	}
	return db.updateLedger(ctx, name, func(rec *ledgerRecord) error {
		rec.PermissionsMode = mode
		return nil
	})
}

func (db *DB) updateLedger(ctx context.Context, name string, change func(*ledgerRecord) error) (*LedgerDescription, error) {
	if err := ValidateLedgerName("Name", name); err != nil {
		return nil, err
	}
	db.catalogMu.Lock()
	defer db.catalogMu.Unlock()
	rec, err := db.readLedger(name)
	if err != nil {
		return nil, err
	}
	if rec.State != StateActive {
		return nil, &Error{Code: CodeResourcePreconditionNotMet, ResourceType: "LEDGER", ResourceName: name,
			Message: "the ledger is " + rec.State}
	}
	if err := change(rec); err != nil {
		return nil, err
	}
	if err := db.writeLedger(ctx, rec); err != nil {
		return nil, err
	}
	return db.describe(rec), nil
}

// DeleteLedger deletes a ledger and all its data. It is refused while
// deletion protection is on.
func (db *DB) DeleteLedger(ctx context.Context, name string) error {
	if err := ValidateLedgerName("Name", name); err != nil {
		return err
	}
	db.catalogMu.Lock()
	defer db.catalogMu.Unlock()
	rec, err := db.readLedger(name)
	if err != nil {
		return err
	}
	switch {
	case rec.DeletionProtection:
		return &Error{Code: CodeResourcePreconditionNotMet, ResourceType: "LEDGER", ResourceName: name,
			Message: "deletion protection is enabled; disable it with UpdateLedger first"}
	case rec.State != StateActive:
		return &Error{Code: CodeResourceInUse, ResourceType: "LEDGER", ResourceName: name, Message: "the ledger is " + rec.State}
	}
	rec.State = StateDeleting
	if err := db.writeLedger(ctx, rec); err != nil {
		return err
	}
	return db.finishDelete(ctx, rec)
}

// finishDelete stops the ledger's exports and removes its jobs, data,
// strand and catalog entry.
func (db *DB) finishDelete(ctx context.Context, rec *ledgerRecord) error {
	if err := errors.Join(db.dropLedgerExports(ctx, rec.Name), db.dropLedgerStreams(ctx, rec.Name),
		db.dropLedgerTableExports(ctx, rec.Name)); err != nil {
		return err
	}
	db.ledgersMu.Lock()
	if l, ok := db.ledgers[rec.Name]; ok {
		l.deleted.Store(true)
		delete(db.ledgers, rec.Name)
	}
	db.ledgersMu.Unlock()
	lo, hi := dataRange(rec.Strand)
	if err := db.j.DeleteRange(ctx, lo, hi); err != nil {
		return mapJournalErr(err)
	}
	if err := db.j.DeleteStrand(ctx, rec.Strand); err != nil {
		return mapJournalErr(err)
	}
	return mapJournalErr(db.j.Write(ctx, []journal.Write{{Key: ledgerKey(rec.Name), Delete: true}}))
}
