package server

import (
	"github.com/quilldb/quill"
	"github.com/quilldb/quill/server/internal/wire"
)

func (h *Handler) exportJournalToS3(req *request) error {
	var in wire.ExportJournalToS3Request
	if err := req.decode(&in); err != nil {
		return err
	}
	start, err := required(in.InclusiveStartTime, "InclusiveStartTime")
	if err != nil {
		return err
	}
	end, err := required(in.ExclusiveEndTime, "ExclusiveEndTime")
	if err != nil {
		return err
	}
	cfg, err := required(in.S3ExportConfiguration, "S3ExportConfiguration")
	if err != nil {
		return err
	}
	bucket, err := required(cfg.Bucket, "Bucket")
	if err != nil {
		return err
	}
	prefix, err := required(cfg.Prefix, "Prefix")
	if err != nil {
		return err
	}
	enc, err := required(cfg.EncryptionConfiguration, "EncryptionConfiguration")
	if err != nil {
		return err
	}
	encType, err := required(enc.ObjectEncryptionType, "ObjectEncryptionType")
	if err != nil {
		return err
	}
	role, err := required(in.RoleArn, "RoleArn")
	if err != nil {
		return err
	}
	id, err := h.db.ExportJournalToS3(req.ctx, req.parts[1], &quill.ExportJournalToS3Input{
		InclusiveStartTime: start.Time(), ExclusiveEndTime: end.Time(), Bucket: bucket, Prefix: prefix,
		ObjectEncryptionType: encType, KmsKeyArn: deref(enc.KmsKeyArn), RoleArn: role, OutputFormat: deref(in.OutputFormat)})
	if err != nil {
		return err
	}
	return req.reply(wire.ExportJournalToS3Response{ExportID: id})
}

func (h *Handler) describeJournalS3Export(req *request) error {
	d, err := h.db.DescribeJournalS3Export(req.ctx, req.parts[1], req.parts[3])
	if err != nil {
		return err
	}
	return req.reply(wire.DescribeJournalS3ExportResponse{ExportDescription: exportDescription(d)})
}

func (h *Handler) listJournalS3Exports(req *request) error {
	ledger := ""
	if len(req.parts) == 3 { // /ledgers/{name}/journal-s3-exports
		ledger = req.parts[1]
		if _, err := h.db.DescribeLedger(req.ctx, ledger); err != nil {
			return err
		}
	}
	max, token, err := pageParams(req)
	if err != nil {
		return err
	}
	page, next, err := h.db.ListJournalS3Exports(req.ctx, ledger, max, token)
	if err != nil {
		return err
	}
	out := wire.ListJournalS3ExportsResponse{JournalS3Exports: []wire.JournalS3ExportDescription{}, NextToken: next}
	for _, d := range page {
		out.JournalS3Exports = append(out.JournalS3Exports, exportDescription(d))
	}
	return req.reply(out)
}

func exportDescription(d *quill.JournalS3ExportDescription) wire.JournalS3ExportDescription {
	enc := &wire.S3EncryptionConfiguration{ObjectEncryptionType: &d.ObjectEncryptionType}
	if d.KmsKeyArn != "" {
		enc.KmsKeyArn = &d.KmsKeyArn
	}
	return wire.JournalS3ExportDescription{LedgerName: d.LedgerName, ExportID: d.ExportID,
		ExportCreationTime: wire.NewTimestamp(d.ExportCreationTime), Status: d.Status,
		InclusiveStartTime: wire.NewTimestamp(d.InclusiveStartTime), ExclusiveEndTime: wire.NewTimestamp(d.ExclusiveEndTime),
		S3ExportConfiguration: wire.S3ExportConfiguration{Bucket: &d.Bucket, Prefix: &d.Prefix, EncryptionConfiguration: enc},
		RoleArn:               d.RoleArn, OutputFormat: d.OutputFormat}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
