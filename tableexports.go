package quill

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/quilldb/quill/export"
	"github.com/quilldb/quill/internal/keyspace"
	"github.com/quilldb/quill/internal/wait"
	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/journal"
	"github.com/quilldb/quill/merkle"
)

// Table exports (DynamoDB's ExportTableToPointInTime over a ledger's
// tables). A full export writes the table's documents as they were at a
// time, read from the complete history, so any time since the table's
// creation works; an incremental export writes every revision committed
// between two times. Jobs are stored under keyspace.TableExports, run on
// the DB's job runner into Options.ExportSinks, save their progress after
// each data file and resume at Open.

// Table export statuses, DynamoDB's.
const (
	TableExportInProgress = "IN_PROGRESS"
	TableExportCompleted  = "COMPLETED"
	TableExportFailed     = "FAILED"
)

// CodeExportConflict is DynamoDB's ExportConflictException: a ClientToken
// used again, within 8 hours, with other parameters.
const CodeExportConflict ErrorCode = "ExportConflictException"

// CodeExportNotFound is DynamoDB's ExportNotFoundException.
const CodeExportNotFound ErrorCode = "ExportNotFoundException"

// clientTokenWindow is how long a ClientToken names its export.
const clientTokenWindow = 8 * time.Hour

// ExportTableInput is a table export request.
type ExportTableInput struct {
	// Table is the table's name (the active table of that name, else the
	// last dropped one) or its id.
	Table string
	// ExportTime is the time a full export shows the table at; zero means
	// now. It may be any time since the ledger's creation.
	ExportTime time.Time
	// Incremental makes an incremental export of every revision committed
	// in [From, To) instead.
	Incremental bool
	From, To    time.Time
	// Format is ION (the default) or DYNAMODB_JSON.
	Format string
	Bucket string
	Prefix string
	// SSEAlgorithm is AES256, KMS (with KmsKeyID) or empty for none.
	SSEAlgorithm string
	KmsKeyID     string
	// ClientToken, if set, makes the call idempotent for 8 hours: the same
	// token with the same parameters returns the same export.
	ClientToken string
}

// TableExportDescription describes a table export (DynamoDB's
// ExportDescription).
type TableExportDescription struct {
	ExportArn       string
	ExportID        string
	Status          string
	LedgerName      string
	TableName       string
	TableID         string
	TableArn        string
	ExportType      string // FULL_EXPORT or INCREMENTAL_EXPORT
	ExportTime      time.Time
	From, To        time.Time
	Format          string
	Bucket          string
	Prefix          string
	SSEAlgorithm    string
	KmsKeyID        string
	ClientToken     string
	StartTime       time.Time
	EndTime         time.Time // zero while IN_PROGRESS
	ItemCount       uint64
	BilledSizeBytes int64
	ManifestKey     string // manifest-summary.json's key
	FailureMessage  string
}

type tableExportRecord struct {
	ID         string `json:"id"`
	Ledger     string `json:"ledger"`
	TableID    string `json:"tableId"`
	TableName  string `json:"tableName"`
	Created    int64  `json:"created"`
	Status     string `json:"status"`
	Type       string `json:"type"`
	ExportTime int64  `json:"exportTime,omitempty"`
	// Requested is the ExportTime the request gave (0: none, "now"): what
	// a ClientToken's repeat is compared on.
	Requested   int64             `json:"requestedExportTime,omitempty"`
	From        int64             `json:"from,omitempty"`
	To          int64             `json:"to,omitempty"`
	Format      string            `json:"format"`
	Bucket      string            `json:"bucket"`
	Prefix      string            `json:"prefix"`
	SSE         string            `json:"sse,omitempty"`
	KmsKeyID    string            `json:"kmsKeyId,omitempty"`
	ClientToken string            `json:"clientToken,omitempty"`
	Finished    int64             `json:"finished,omitempty"`
	Failure     string            `json:"failure,omitempty"`
	State       export.TableState `json:"state"`
}

// TableArn is a table's ARN, arn:aws:qldb:REGION:ACCOUNT:ledger/LEDGER/table/TABLEID:
// QLDB's IAM form for a table, and what DynamoDB's export operations take.
func (db *DB) TableArn(ledger, tableID string) string {
	return fmt.Sprintf("%s/table/%s", db.ARN(ledger), tableID)
}

var tableArnPattern = regexp.MustCompile(`^arn:aws[a-z-]*:qldb:[a-z0-9-]+:[0-9]{12}:ledger/([A-Za-z0-9-]{1,32})/table/([A-Za-z0-9_]{1,128})$`)

// ParseTableArn returns the ledger and the table (id or name) of a table ARN.
func ParseTableArn(arn string) (ledger, table string, err error) {
	m := tableArnPattern.FindStringSubmatch(arn)
	if m == nil {
		return "", "", invalidParam("TableArn", "%q is not a Quill table ARN (arn:aws:qldb:REGION:ACCOUNT:ledger/LEDGER/table/TABLE_ID)", arn)
	}
	return m[1], m[2], nil
}

func (rec *tableExportRecord) arn(db *DB) string {
	return db.TableArn(rec.Ledger, rec.TableID) + "/export/" + rec.ID
}

// sameRequest reports whether a stored export was made with in's parameters.
func (rec *tableExportRecord) sameRequest(other *tableExportRecord) bool {
	return rec.Ledger == other.Ledger && rec.TableID == other.TableID && rec.Type == other.Type &&
		rec.Requested == other.Requested && rec.From == other.From && rec.To == other.To &&
		rec.Format == other.Format && rec.Bucket == other.Bucket && rec.Prefix == other.Prefix &&
		rec.SSE == other.SSE && rec.KmsKeyID == other.KmsKeyID
}

// ExportTable starts exporting a table of the ledger and returns its
// description at once.
func (db *DB) ExportTable(ctx context.Context, ledgerName string, in *ExportTableInput) (*TableExportDescription, error) {
	if err := ValidateLedgerName("LedgerName", ledgerName); err != nil {
		return nil, err
	}
	if db.opts.ExportSinks == nil {
		return nil, &Error{Code: CodeResourcePreconditionNotMet, ResourceType: "TABLE_EXPORT",
			Message: "this DB has no export target: set Options.ExportSinks (quill serve sets one)"}
	}
	l, err := db.Ledger(ctx, ledgerName)
	if err != nil {
		return nil, err
	}
	table, err := l.findTable(ctx, in.Table)
	if err != nil {
		return nil, err
	}
	now := db.opts.Journal.Clock()
	rec := &tableExportRecord{Ledger: ledgerName, TableID: table.ID, TableName: table.Name, Created: now.UnixMilli(),
		Status: TableExportInProgress, Format: in.Format, Bucket: in.Bucket, Prefix: in.Prefix, SSE: in.SSEAlgorithm,
		KmsKeyID: in.KmsKeyID, ClientToken: in.ClientToken}
	if rec.Format == "" {
		rec.Format = export.TableION
	}
	if err := validateTableExport(in, rec, now); err != nil {
		return nil, err
	}
	db.jobs.mu.Lock()
	defer db.jobs.mu.Unlock()
	if in.ClientToken != "" {
		jobs, err := db.tableExportRecords(ctx)
		if err != nil {
			return nil, err
		}
		for _, old := range jobs {
			if old.ClientToken != in.ClientToken || now.Sub(time.UnixMilli(old.Created)) > clientTokenWindow {
				continue
			}
			if !old.sameRequest(rec) {
				return nil, &Error{Code: CodeExportConflict, ResourceType: "TABLE_EXPORT", ResourceName: old.arn(db),
					Message: "ClientToken " + in.ClientToken + " was used in the last 8 hours with other parameters"}
			}
			return db.describeTableExport(old), nil
		}
	}
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	rec.ID = fmt.Sprintf("%014d-%s", now.UnixMilli(), hex.EncodeToString(suffix[:]))
	if err := db.saveTableExport(ctx, rec); err != nil {
		return nil, err
	}
	d := db.describeTableExport(rec) // before the job runs: it owns rec from then on
	db.startTableExport(rec)
	return d, nil
}

func validateTableExport(in *ExportTableInput, rec *tableExportRecord, now time.Time) error {
	switch {
	case rec.Format != export.TableION && rec.Format != export.TableDynamoDBJSON:
		return invalidParam("ExportFormat", "%q is not ION or DYNAMODB_JSON", rec.Format)
	case len(in.Bucket) < 3 || len(in.Bucket) > 255 || !bucketPattern.MatchString(in.Bucket):
		return invalidParam("S3Bucket", "%q must be 3 to 255 letters, digits, '-', '_' and '.'", in.Bucket)
	case len(in.Prefix) > 1024:
		return invalidParam("S3Prefix", "must be at most 1,024 characters, got %d", len(in.Prefix))
	case in.SSEAlgorithm != "" && in.SSEAlgorithm != "AES256" && in.SSEAlgorithm != "KMS":
		return invalidParam("S3SseAlgorithm", "%q is not AES256 or KMS", in.SSEAlgorithm)
	case in.SSEAlgorithm == "KMS" && in.KmsKeyID == "":
		return invalidParam("S3SseKmsKeyId", "is required when S3SseAlgorithm is KMS")
	case len(in.ClientToken) > 64:
		return invalidParam("ClientToken", "must be at most 64 characters")
	}
	if in.Incremental {
		rec.Type, rec.From, rec.To = export.IncrementalExport, in.From.UnixMilli(), in.To.UnixMilli()
		switch {
		case in.From.IsZero() || in.To.IsZero():
			return invalidParam("IncrementalExportSpecification", "ExportFromTime and ExportToTime are required")
		case !in.To.After(in.From):
			return invalidParam("ExportToTime", "must be after ExportFromTime")
		case in.To.After(now):
			return invalidParam("ExportToTime", "%s is in the future", in.To.UTC().Format(time.RFC3339Nano))
		}
		return nil
	}
	rec.Type, rec.ExportTime = export.FullExport, in.ExportTime.UnixMilli()
	if in.ExportTime.IsZero() {
		rec.ExportTime = now.UnixMilli()
	} else {
		rec.Requested = rec.ExportTime
	}
	if in.ExportTime.After(now) {
		return invalidParam("ExportTime", "%s is in the future", in.ExportTime.UTC().Format(time.RFC3339Nano))
	}
	return nil
}

// findTable finds a table by id, or by name (the active one, else the last
// one dropped).
func (l *Ledger) findTable(ctx context.Context, table string) (*tableRecord, error) {
	c, err := l.catalog(ctx)
	if err != nil {
		return nil, err
	}
	if t, ok := c.byID[table]; ok {
		return t, nil
	}
	id, err := l.tableIDByName(ctx, table)
	if err != nil {
		return nil, err
	}
	return c.byID[id], nil
}

func (db *DB) startTableExport(rec *tableExportRecord) {
	db.jobs.start(rec.ID, func(ctx context.Context) { db.runTableExport(ctx, rec) })
}

func (db *DB) runTableExport(ctx context.Context, rec *tableExportRecord) {
	log := db.opts.Journal.Logger.With("tableExport", rec.ID, "ledger", rec.Ledger)
	for attempt := 1; ; attempt++ {
		err := db.tableExportOnce(ctx, rec)
		switch {
		case err == nil:
			rec.Status = TableExportCompleted
		case ctx.Err() != nil:
			return
		case errors.Is(err, export.ErrTargetRefused), attempt >= db.opts.ExportAttempts:
			rec.Status, rec.Failure = TableExportFailed, err.Error()
		default:
			log.Warn("table export failed; retrying", "attempt", attempt, "err", err)
			if wait.Sleep(ctx, time.Duration(attempt)*time.Second) != nil {
				return
			}
			continue
		}
		rec.Finished = db.opts.Journal.Clock().UnixMilli()
		if err := db.saveTableExport(context.WithoutCancel(ctx), rec); err != nil {
			log.Error("saving the table export's final state", "err", err)
		}
		return
	}
}

func (db *DB) tableExportOnce(ctx context.Context, rec *tableExportRecord) error {
	l, err := db.Ledger(ctx, rec.Ledger)
	if err != nil {
		return err
	}
	encryption := map[string]string{"": "NO_ENCRYPTION", "AES256": "SSE_S3", "KMS": "SSE_KMS"}[rec.SSE]
	sink, err := db.opts.ExportSinks(ctx, export.Target{Bucket: rec.Bucket, Encryption: encryption, KmsKeyArn: rec.KmsKeyID})
	if err != nil {
		return err
	}
	job := &export.TableJob{ExportID: rec.ID, ExportArn: rec.arn(db), TableArn: db.TableArn(rec.Ledger, rec.TableID),
		TableID: rec.TableID, Bucket: rec.Bucket, Prefix: rec.Prefix, SSE: rec.SSE, Format: rec.Format, Type: rec.Type,
		StartTime: time.UnixMilli(rec.Created)}
	if rec.Type == export.FullExport {
		job.ExportTime = time.UnixMilli(rec.ExportTime)
		if err := l.strand.WaitSettled(ctx, job.ExportTime.Add(time.Millisecond)); err != nil {
			return err
		}
	} else {
		job.From, job.To = time.UnixMilli(rec.From), time.UnixMilli(rec.To)
		if err := l.strand.WaitSettled(ctx, job.To); err != nil {
			return err
		}
	}
	_, err = export.RunTable(ctx, l.tableItems(rec.TableID, job), job, rec.State, sink, &export.TableOptions{
		Progress: func(st export.TableState) error {
			rec.State = st
			return db.saveTableExport(ctx, rec)
		}})
	return err
}

// tableItems reads the export's items from the table's history, in
// document id order: for a full export each document's last revision
// committed at or before the export time (none if it was deleted); for an
// incremental one every revision committed in [From, To).
func (l *Ledger) tableItems(tableID string, job *export.TableJob) export.ItemSource {
	return func(ctx context.Context, fn func(export.TableItem) error) error {
		r := &itemReader{l: l, tableID: tableID, full: job.Type == export.FullExport, fn: fn}
		var last historyEntry // a full export's candidate for the current document
		err := l.revisionEntries(ctx, tableID, "", func(e historyEntry) error {
			if !r.full {
				if e.txTime.Before(job.From) || !e.txTime.Before(job.To) {
					return nil
				}
				return r.add(ctx, e, false)
			}
			if e.txTime.After(job.ExportTime) {
				return nil // committed after the export time
			}
			if last.docID != "" && last.docID != e.docID {
				if err := r.add(ctx, last, true); err != nil {
					return err
				}
			}
			last = e
			return nil
		})
		if err == nil && last.docID != "" {
			err = r.add(ctx, last, true)
		}
		if err == nil {
			err = r.flush(ctx)
		}
		return err
	}
}

// itemReader turns history entries into export items, in the order they
// come, a batch at a time.
type itemReader struct {
	l       *Ledger
	tableID string
	full    bool
	fn      func(export.TableItem) error
	slots   []itemSlot
}

// itemSlot is an entry and, when its committed view held it, its revision.
type itemSlot struct {
	e   historyEntry
	doc *Document
}

// add queues an entry. A document's latest revision is read from its
// committed view (a point read, its hash checked) when useView is set and
// the view still holds that version; every other one from its block.
func (r *itemReader) add(ctx context.Context, e historyEntry, useView bool) error {
	slot := itemSlot{e: e}
	if useView {
		raw, ok, err := r.l.db.j.Get(docKey(r.l.strand.ID(), r.tableID, e.docID))
		if err != nil {
			return err
		}
		if ok {
			d, err := r.l.decodeView(e.docID, raw)
			if err != nil {
				return err
			}
			if d.Version == e.version {
				if merkle.Dot(merkle.Hash(ion.Hash(d.Metadata())), merkle.Hash(ion.Hash(d.Data))) != d.Hash {
					return &journal.CorruptionError{Strand: r.l.strand.ID(), SequenceNo: int64(d.Address.SequenceNo),
						Problem: fmt.Sprintf("the committed view of %s does not hash to its revision hash", e.docID)}
				}
				slot.doc = &d
			}
		}
	}
	r.slots = append(r.slots, slot)
	if len(r.slots) < historyBatch {
		return nil
	}
	return r.flush(ctx)
}

// flush reads the queued entries' blocks (each once) and emits the items
// in order.
func (r *itemReader) flush(ctx context.Context) error {
	var fromBlocks []historyEntry
	for _, s := range r.slots {
		if s.doc == nil {
			fromBlocks = append(fromBlocks, s.e)
		}
	}
	resolved := make(map[historyEntry]Document, len(fromBlocks))
	i := 0
	err := r.l.resolveHistory(ctx, fromBlocks, func(d Document) error {
		resolved[fromBlocks[i]] = d
		i++
		return nil
	})
	if err != nil {
		return err
	}
	for _, s := range r.slots {
		d := s.doc
		if d == nil {
			doc := resolved[s.e]
			d = &doc
		}
		if r.full && d.Deleted {
			continue
		}
		if err := r.fn(export.TableItem{ID: d.ID, Version: d.Version, Address: d.Address, TxTime: d.TxTime, Data: d.Data, Deleted: d.Deleted}); err != nil {
			return err
		}
	}
	r.slots = r.slots[:0]
	return nil
}

func (db *DB) saveTableExport(ctx context.Context, rec *tableExportRecord) error {
	return saveJob(ctx, db, keyspace.TableExports, rec)
}

// tableExportRecords reads every stored table export.
func (db *DB) tableExportRecords(ctx context.Context) ([]*tableExportRecord, error) {
	return loadJobs[tableExportRecord](ctx, db, keyspace.TableExports)
}

func (db *DB) resumeTableExports(ctx context.Context) error {
	jobs, err := db.tableExportRecords(ctx)
	if err == nil {
		resumeJobs(db, jobs, db.opts.ExportSinks != nil, "table export", db.startTableExport)
	}
	return err
}

func (db *DB) dropLedgerTableExports(ctx context.Context, ledger string) error {
	jobs, err := db.tableExportRecords(ctx)
	if err != nil {
		return err
	}
	return dropLedgerJobs(ctx, db, keyspace.TableExports, jobs, ledger)
}

func (db *DB) describeTableExport(rec *tableExportRecord) *TableExportDescription {
	d := &TableExportDescription{ExportArn: rec.arn(db), ExportID: rec.ID, Status: rec.Status, LedgerName: rec.Ledger,
		TableName: rec.TableName, TableID: rec.TableID, TableArn: db.TableArn(rec.Ledger, rec.TableID), ExportType: rec.Type,
		Format: rec.Format, Bucket: rec.Bucket, Prefix: rec.Prefix, SSEAlgorithm: rec.SSE, KmsKeyID: rec.KmsKeyID,
		ClientToken: rec.ClientToken, StartTime: time.UnixMilli(rec.Created).UTC(), ItemCount: rec.State.Items,
		BilledSizeBytes: rec.State.Bytes, FailureMessage: rec.Failure}
	if rec.Type == export.FullExport {
		d.ExportTime = time.UnixMilli(rec.ExportTime).UTC()
	} else {
		d.From, d.To = time.UnixMilli(rec.From).UTC(), time.UnixMilli(rec.To).UTC()
	}
	if rec.Finished != 0 {
		d.EndTime = time.UnixMilli(rec.Finished).UTC()
	}
	if rec.State.Done {
		d.ManifestKey = (&export.TableJob{ExportID: rec.ID, Prefix: rec.Prefix}).ManifestSummaryKey()
	}
	return d
}

// exportArnPattern splits an export ARN into its table ARN and export id.
var exportArnPattern = regexp.MustCompile(`^(.+)/export/([0-9]{14}-[0-9a-f]{8})$`)

// DescribeTableExport describes a table export by its ARN.
func (db *DB) DescribeTableExport(ctx context.Context, exportArn string) (*TableExportDescription, error) {
	m := exportArnPattern.FindStringSubmatch(exportArn)
	if m == nil {
		return nil, invalidParam("ExportArn", "%q is not a table export ARN (TABLE_ARN/export/ID)", exportArn)
	}
	jobs, err := db.tableExportRecords(ctx)
	if err != nil {
		return nil, err
	}
	for _, rec := range jobs {
		if rec.ID == m[2] && rec.arn(db) == exportArn {
			return db.describeTableExport(rec), nil
		}
	}
	return nil, &Error{Code: CodeExportNotFound, ResourceType: "TABLE_EXPORT", ResourceName: exportArn, Message: "no such export"}
}

// ListTableExports lists the table exports of one table (tableArn) or of
// all, oldest first, a page at a time.
func (db *DB) ListTableExports(ctx context.Context, tableArn string, maxResults int, nextToken string) ([]*TableExportDescription, string, error) {
	if tableArn != "" {
		if _, _, err := ParseTableArn(tableArn); err != nil {
			return nil, "", err
		}
	}
	jobs, err := db.tableExportRecords(ctx)
	if err != nil {
		return nil, "", err
	}
	if tableArn != "" {
		jobs = slices.DeleteFunc(jobs, func(r *tableExportRecord) bool { return db.TableArn(r.Ledger, r.TableID) != tableArn })
	}
	recs, next, err := page(jobs, func(r *tableExportRecord) string { return jobOrder(r.Created, r.ID) }, maxResults, nextToken)
	out := make([]*TableExportDescription, len(recs))
	for i, rec := range recs {
		out[i] = db.describeTableExport(rec)
	}
	return out, next, err
}

// WaitTableExport waits until a table export leaves IN_PROGRESS.
func (db *DB) WaitTableExport(ctx context.Context, exportArn string) (*TableExportDescription, error) {
	for {
		d, err := db.DescribeTableExport(ctx, exportArn)
		if err != nil || d.Status != TableExportInProgress {
			return d, err
		}
		if err := wait.Sleep(ctx, 5*time.Millisecond); err != nil {
			return d, err
		}
	}
}

// Tables lists the ledger's tables, active and dropped, in name order,
// with their ARNs (what DynamoDB's export operations take).
func (l *Ledger) Tables(ctx context.Context) ([]TableInfo, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	c, err := l.catalog(ctx)
	if err != nil {
		return nil, err
	}
	var out []TableInfo
	for _, t := range c.sorted() {
		out = append(out, TableInfo{ID: t.ID, Name: t.Name, Status: t.Status, Indexes: slices.Clone(t.Indexes),
			Arn: l.db.TableArn(l.name, t.ID)})
	}
	return out, nil
}

// ExportTable starts an export of one of the ledger's tables (see
// DB.ExportTable).
func (l *Ledger) ExportTable(ctx context.Context, in *ExportTableInput) (*TableExportDescription, error) {
	return l.db.ExportTable(ctx, l.name, in)
}
