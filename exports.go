package quill

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/quilldb/quill/export"
	"github.com/quilldb/quill/internal/keyspace"
	"github.com/quilldb/quill/internal/wait"
	"github.com/quilldb/quill/ion"
)

// Journal exports (QLDB's ExportJournalToS3). A request is validated as
// QLDB validates it and stored as a job record under keyspace.JournalExports;
// a goroutine runs it through export.RunJournal into the sink that
// Options.ExportSinks makes for its bucket, saving its progress after each
// object. A DB opened again resumes the jobs left IN_PROGRESS, and they
// write the same objects they would have written.

// Export statuses.
const (
	ExportInProgress = "IN_PROGRESS"
	ExportCompleted  = "COMPLETED"
	ExportCancelled  = "CANCELLED"
)

// exportRetention is how long finished exports are listed, as QLDB's.
const exportRetention = 7 * 24 * time.Hour

// ExportJournalToS3Input is an export request.
type ExportJournalToS3Input struct {
	// InclusiveStartTime and ExclusiveEndTime bound the blocks' timestamps.
	// A start before the ledger's creation is taken as its creation; the
	// end must be after the start and not in the future.
	InclusiveStartTime time.Time
	ExclusiveEndTime   time.Time
	// Bucket (3 to 255 characters of letters, digits, '-', '_' and '.')
	// and Prefix (at most 128 characters) place the objects.
	Bucket string
	Prefix string
	// ObjectEncryptionType is SSE_S3, SSE_KMS (with KmsKeyArn) or
	// NO_ENCRYPTION.
	ObjectEncryptionType string
	KmsKeyArn            string
	// RoleArn is checked and recorded. Quill writes with its own
	// credentials (the sink's), not by assuming the role.
	RoleArn string
	// OutputFormat is ION_TEXT (the default), ION_BINARY or JSON.
	OutputFormat string
}

// JournalS3ExportDescription describes an export job (QLDB's
// JournalS3ExportDescription, plus its progress).
type JournalS3ExportDescription struct {
	LedgerName           string
	ExportID             string
	ExportCreationTime   time.Time
	Status               string // IN_PROGRESS, COMPLETED or CANCELLED
	InclusiveStartTime   time.Time
	ExclusiveEndTime     time.Time
	Bucket               string
	Prefix               string
	ObjectEncryptionType string
	KmsKeyArn            string
	RoleArn              string
	OutputFormat         string
	// ErrorCause says why a CANCELLED export stopped.
	ErrorCause string
	// TotalBlocks is the number of blocks in the range (known once the
	// export started); BlocksExported and BytesWritten its progress.
	TotalBlocks    uint64
	BlocksExported uint64
	BytesWritten   int64
	// Keys are the data objects written so far, in order.
	Keys []string
}

// exportRecord is a stored job.
type exportRecord struct {
	Ledger      string       `json:"ledger"`
	ID          string       `json:"id"`
	Created     int64        `json:"created"` // ms
	Status      string       `json:"status"`
	Start       int64        `json:"start"` // ms, after clamping
	End         int64        `json:"end"`
	Bucket      string       `json:"bucket"`
	Prefix      string       `json:"prefix"`
	Encryption  string       `json:"encryption"`
	KmsKeyArn   string       `json:"kmsKeyArn,omitempty"`
	RoleArn     string       `json:"roleArn"`
	Format      string       `json:"format"`
	FormatGiven bool         `json:"formatGiven"`
	Cause       string       `json:"cause,omitempty"`
	Finished    int64        `json:"finished,omitempty"` // ms, when it left IN_PROGRESS
	Resolved    bool         `json:"resolved"`           // the block range is known
	HasBlocks   bool         `json:"hasBlocks"`
	First       uint64       `json:"first"`
	Last        uint64       `json:"last"`
	State       export.State `json:"state"`
}

var (
	bucketPattern  = regexp.MustCompile(`^[A-Za-z0-9\-_.]+$`)
	roleArnPattern = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]+$`)
)

func validateExportInput(in *ExportJournalToS3Input, now time.Time) (export.Format, error) {
	switch {
	case in.InclusiveStartTime.IsZero():
		return "", invalidParam("InclusiveStartTime", "is required")
	case in.ExclusiveEndTime.IsZero():
		return "", invalidParam("ExclusiveEndTime", "is required")
	case in.ExclusiveEndTime.After(now):
		return "", invalidParam("ExclusiveEndTime", "%s is in the future", in.ExclusiveEndTime.UTC().Format(time.RFC3339Nano))
	case !in.ExclusiveEndTime.After(in.InclusiveStartTime):
		return "", invalidParam("ExclusiveEndTime", "must be after InclusiveStartTime")
	case len(in.Bucket) < 3 || len(in.Bucket) > 255 || !bucketPattern.MatchString(in.Bucket):
		return "", invalidParam("Bucket", "%q must be 3 to 255 letters, digits, '-', '_' and '.'", in.Bucket)
	case len(in.Prefix) > 128:
		return "", invalidParam("Prefix", "must be at most 128 characters, got %d", len(in.Prefix))
	case in.RoleArn == "":
		return "", invalidParam("RoleArn", "is required")
	case len(in.RoleArn) < 20 || len(in.RoleArn) > 1600 || !roleArnPattern.MatchString(in.RoleArn):
		return "", invalidParam("RoleArn", "%q is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)", in.RoleArn)
	}
	switch in.ObjectEncryptionType {
	case "NO_ENCRYPTION", "SSE_S3":
	case "SSE_KMS":
		if in.KmsKeyArn == "" {
			return "", invalidParam("KmsKeyArn", "is required when ObjectEncryptionType is SSE_KMS")
		}
		if _, err := validateKMSKey(in.KmsKeyArn); err != nil || in.KmsKeyArn == AWSOwnedKMSKey {
			return "", invalidParam("KmsKeyArn", "%q is not a KMS key id, alias or ARN", in.KmsKeyArn)
		}
	case "":
		return "", invalidParam("ObjectEncryptionType", "is required: SSE_KMS, SSE_S3 or NO_ENCRYPTION")
	default:
		return "", invalidParam("ObjectEncryptionType", "%q is not SSE_KMS, SSE_S3 or NO_ENCRYPTION", in.ObjectEncryptionType)
	}
	f, err := export.ParseFormat(in.OutputFormat)
	if err != nil {
		return "", invalidParam("OutputFormat", "%v", err)
	}
	return f, nil
}

// ExportJournalToS3 starts exporting the ledger's blocks whose timestamps
// are in the range to the bucket, and returns the export's 22-character id
// at once. At most Options.MaxActiveJournalExports exports of a ledger run
// at a time.
func (db *DB) ExportJournalToS3(ctx context.Context, ledgerName string, in *ExportJournalToS3Input) (string, error) {
	if err := ValidateLedgerName("Name", ledgerName); err != nil {
		return "", err
	}
	now := db.opts.Journal.Clock()
	format, err := validateExportInput(in, now)
	if err != nil {
		return "", err
	}
	if db.opts.ExportSinks == nil {
		return "", &Error{Code: CodeResourcePreconditionNotMet, ResourceType: "JOURNAL_S3_EXPORT",
			Message: "this DB has no export target: set Options.ExportSinks (quill serve sets one)"}
	}
	db.jobs.mu.Lock()
	defer db.jobs.mu.Unlock()
	rec, err := db.readLedger(ledgerName)
	if err != nil {
		return "", err
	}
	switch rec.State {
	case StateActive:
	case StateCreating:
		return "", &Error{Code: CodeResourcePreconditionNotMet, ResourceType: "LEDGER", ResourceName: ledgerName, Message: "the ledger is CREATING"}
	default:
		return "", notFound("LEDGER", ledgerName, "the ledger is "+rec.State)
	}
	jobs, err := db.exportRecords(ctx)
	if err != nil {
		return "", err
	}
	active := 0
	for _, j := range jobs {
		if j.Ledger == ledgerName && j.Status == ExportInProgress {
			active++
		}
	}
	if active >= db.opts.MaxActiveJournalExports {
		return "", &Error{Code: CodeLimitExceeded, ResourceType: "JOURNAL_S3_EXPORT",
			Message: fmt.Sprintf("ledger %s has %d exports in progress, the most it may (Options.MaxActiveJournalExports)", ledgerName, active)}
	}
	start := max(in.InclusiveStartTime.UnixMilli(), rec.CreatedMillis)
	job := &exportRecord{Ledger: ledgerName, ID: ion.NewID(), Created: now.UnixMilli(), Status: ExportInProgress,
		Start: start, End: in.ExclusiveEndTime.UnixMilli(), Bucket: in.Bucket, Prefix: in.Prefix,
		Encryption: in.ObjectEncryptionType, KmsKeyArn: in.KmsKeyArn, RoleArn: in.RoleArn,
		Format: string(format), FormatGiven: in.OutputFormat != ""}
	if job.End <= job.Start {
		// The range ends before the ledger existed: nothing to export, but
		// QLDB accepts it; the export completes with no data objects.
		job.Resolved = true
	}
	if err := db.saveExport(ctx, job); err != nil {
		return "", err
	}
	db.startExport(job)
	return job.ID, nil
}

func (db *DB) startExport(rec *exportRecord) {
	db.jobs.start(rec.ID, func(ctx context.Context) { db.runExport(ctx, rec) })
}

// runExport runs a job until it completes, is refused, or ctx ends (Close,
// the ledger's deletion: it is then resumed by the next Open).
func (db *DB) runExport(ctx context.Context, rec *exportRecord) {
	log := db.opts.Journal.Logger.With("export", rec.ID, "ledger", rec.Ledger)
	for attempt := 1; ; attempt++ {
		err := db.exportOnce(ctx, rec)
		switch {
		case err == nil:
			rec.Status, rec.Finished = ExportCompleted, db.opts.Journal.Clock().UnixMilli()
		case ctx.Err() != nil:
			return
		case errors.Is(err, export.ErrTargetRefused), attempt >= db.opts.ExportAttempts:
			rec.Status, rec.Cause, rec.Finished = ExportCancelled, err.Error(), db.opts.Journal.Clock().UnixMilli()
		default:
			log.Warn("journal export failed; retrying", "attempt", attempt, "err", err)
			if wait.Sleep(ctx, time.Duration(attempt)*time.Second) != nil {
				return
			}
			continue
		}
		if err := db.saveExport(context.WithoutCancel(ctx), rec); err != nil && ctx.Err() == nil {
			log.Error("saving the export's final state", "err", err)
		}
		return
	}
}

func (db *DB) exportOnce(ctx context.Context, rec *exportRecord) error {
	l, err := db.Ledger(ctx, rec.Ledger)
	if err != nil {
		return err
	}
	if !rec.Resolved {
		if err := l.strand.WaitSettled(ctx, time.UnixMilli(rec.End)); err != nil {
			return err
		}
		first, last, ok, err := l.strand.SequenceRange(ctx, time.UnixMilli(rec.Start), time.UnixMilli(rec.End))
		if err != nil {
			return err
		}
		rec.Resolved, rec.HasBlocks, rec.First, rec.Last = true, ok, first, last
		if err := db.saveExport(ctx, rec); err != nil {
			return err
		}
	}
	sink, err := db.opts.ExportSinks(ctx, export.Target{Bucket: rec.Bucket, Encryption: rec.Encryption, KmsKeyArn: rec.KmsKeyArn})
	if err != nil {
		return err
	}
	job := &export.Job{ExportID: rec.ID, LedgerName: rec.Ledger, Strand: l.strand.ID(),
		Start: time.UnixMilli(rec.Start), End: time.UnixMilli(rec.End), Bucket: rec.Bucket, Prefix: rec.Prefix,
		Encryption: rec.Encryption, Format: export.Format(rec.Format), FormatGiven: rec.FormatGiven,
		Blocks: rec.HasBlocks, First: rec.First, Last: rec.Last}
	_, err = export.RunJournal(ctx, l.strand, job, rec.State, sink, &export.Options{
		ObjectSize: db.opts.ExportObjectSize, MaxBlocksPerSecond: db.opts.ExportMaxBlocksPerSecond,
		Progress: func(st export.State) error {
			rec.State = st
			return db.saveExport(ctx, rec)
		}})
	return err
}

func (db *DB) saveExport(ctx context.Context, rec *exportRecord) error {
	return saveJob(ctx, db, keyspace.JournalExports, rec)
}

// exportRecords reads every stored journal export.
func (db *DB) exportRecords(ctx context.Context) ([]*exportRecord, error) {
	return loadJobs[exportRecord](ctx, db, keyspace.JournalExports)
}

// resumeExports starts the exports a previous process left IN_PROGRESS.
func (db *DB) resumeExports(ctx context.Context) error {
	jobs, err := db.exportRecords(ctx)
	if err == nil {
		resumeJobs(db, jobs, db.opts.ExportSinks != nil, "journal export", db.startExport)
	}
	return err
}

// dropLedgerExports stops the running exports of a ledger and deletes the
// ledger's job records.
func (db *DB) dropLedgerExports(ctx context.Context, ledger string) error {
	jobs, err := db.exportRecords(ctx)
	if err != nil {
		return err
	}
	return dropLedgerJobs(ctx, db, keyspace.JournalExports, jobs, ledger)
}

// CancelJournalS3Export stops an export that is IN_PROGRESS and marks it
// CANCELLED; the objects it wrote stay. QLDB has no such call; Go programs
// and tools use it to give up an export. An export that already finished is
// left as it is.
func (db *DB) CancelJournalS3Export(ctx context.Context, ledgerName, exportID string) (*JournalS3ExportDescription, error) {
	d, err := db.DescribeJournalS3Export(ctx, ledgerName, exportID)
	if err != nil || d.Status != ExportInProgress {
		return d, err
	}
	db.jobs.mu.Lock() // no resume or start of exports meanwhile
	defer db.jobs.mu.Unlock()
	if err := db.jobs.stop(ctx, map[string]bool{exportID: true}); err != nil {
		return nil, err
	}
	jobs, err := db.exportRecords(ctx)
	if err != nil {
		return nil, err
	}
	for _, rec := range jobs {
		if rec.ID != exportID {
			continue
		}
		if rec.Status == ExportInProgress {
			rec.Status, rec.Cause, rec.Finished = ExportCancelled, "cancelled by CancelJournalS3Export", db.opts.Journal.Clock().UnixMilli()
			if err := db.saveExport(ctx, rec); err != nil {
				return nil, err
			}
		}
		return rec.describe(), nil
	}
	return nil, notFound("JOURNAL_S3_EXPORT", exportID, "no export with this id for ledger "+ledgerName)
}

func (rec *exportRecord) describe() *JournalS3ExportDescription {
	d := &JournalS3ExportDescription{LedgerName: rec.Ledger, ExportID: rec.ID,
		ExportCreationTime: time.UnixMilli(rec.Created).UTC(), Status: rec.Status,
		InclusiveStartTime: time.UnixMilli(rec.Start).UTC(), ExclusiveEndTime: time.UnixMilli(rec.End).UTC(),
		Bucket: rec.Bucket, Prefix: rec.Prefix, ObjectEncryptionType: rec.Encryption, KmsKeyArn: rec.KmsKeyArn,
		RoleArn: rec.RoleArn, OutputFormat: rec.Format, ErrorCause: rec.Cause,
		BlocksExported: rec.State.Blocks, BytesWritten: rec.State.Bytes, Keys: slices.Clone(rec.State.Keys)}
	if rec.HasBlocks {
		d.TotalBlocks = rec.Last - rec.First + 1
	}
	return d
}

// DescribeJournalS3Export describes one export of a ledger.
func (db *DB) DescribeJournalS3Export(ctx context.Context, ledgerName, exportID string) (*JournalS3ExportDescription, error) {
	if err := ValidateLedgerName("Name", ledgerName); err != nil {
		return nil, err
	}
	if err := ion.ValidateID(exportID); err != nil {
		return nil, invalidParam("ExportId", "%v", err)
	}
	jobs, err := db.exportRecords(ctx)
	if err != nil {
		return nil, err
	}
	for _, rec := range jobs {
		if rec.ID == exportID && rec.Ledger == ledgerName {
			return rec.describe(), nil
		}
	}
	return nil, notFound("JOURNAL_S3_EXPORT", exportID, "no export with this id for ledger "+ledgerName)
}

// ListJournalS3Exports lists the exports of every ledger (ledgerName
// empty) or of one, oldest first, a page of at most maxResults (1 to 100;
// 0 means 100) at a time.
func (db *DB) ListJournalS3Exports(ctx context.Context, ledgerName string, maxResults int, nextToken string) ([]*JournalS3ExportDescription, string, error) {
	if ledgerName != "" {
		if err := ValidateLedgerName("Name", ledgerName); err != nil {
			return nil, "", err
		}
	}
	jobs, err := db.exportRecords(ctx)
	if err != nil {
		return nil, "", err
	}
	if ledgerName != "" {
		jobs = slices.DeleteFunc(jobs, func(r *exportRecord) bool { return r.Ledger != ledgerName })
	}
	recs, next, err := page(jobs, func(r *exportRecord) string { return jobOrder(r.Created, r.ID) }, maxResults, nextToken)
	out := make([]*JournalS3ExportDescription, len(recs))
	for i, rec := range recs {
		out[i] = rec.describe()
	}
	return out, next, err
}

// jobOrder orders jobs by creation, then id: list operations show the
// oldest first.
func jobOrder(createdMillis int64, id string) string {
	return fmt.Sprintf("%016x/%s", createdMillis, id)
}

// WaitJournalS3Export waits until an export leaves IN_PROGRESS (or ctx
// ends) and returns its description.
func (db *DB) WaitJournalS3Export(ctx context.Context, ledgerName, exportID string) (*JournalS3ExportDescription, error) {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		d, err := db.DescribeJournalS3Export(ctx, ledgerName, exportID)
		if err != nil || d.Status != ExportInProgress {
			return d, err
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return d, ctx.Err()
		}
	}
}
