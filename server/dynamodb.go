package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/quilldb/quill"
	"github.com/quilldb/quill/server/internal/wire"
)

// DynamoDB's JSON 1.0 protocol, for its export operations over the
// ledgers' tables: POST / with X-Amz-Target DynamoDB_20120810.OPERATION,
// on the same listener as QLDB's API.

const dynamoDBTargetPrefix = "DynamoDB_20120810."

func isDynamoDB(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("X-Amz-Target"), dynamoDBTargetPrefix)
}

func (h *Handler) serveDynamoDB(req *request) error {
	req.dynamoDB = true
	op := strings.TrimPrefix(req.r.Header.Get("X-Amz-Target"), dynamoDBTargetPrefix)
	req.op = op
	switch op {
	case "ExportTableToPointInTime":
		return h.exportTableToPointInTime(req)
	case "DescribeExport":
		return h.describeExport(req)
	case "ListExports":
		return h.listExports(req)
	}
	return &dynamoDBError{status: http.StatusBadRequest, typ: "com.amazon.coral.service#UnknownOperationException",
		msg: "Quill serves DynamoDB's ExportTableToPointInTime, DescribeExport and ListExports, not " + op}
}

func (h *Handler) exportTableToPointInTime(req *request) error {
	var in wire.ExportTableToPointInTimeRequest
	if err := req.decode(&in); err != nil {
		return err
	}
	arn, err := required(in.TableArn, "TableArn")
	if err != nil {
		return err
	}
	bucket, err := required(in.S3Bucket, "S3Bucket")
	if err != nil {
		return err
	}
	ledger, table, err := quill.ParseTableArn(arn)
	if err != nil {
		return err
	}
	input := &quill.ExportTableInput{Table: table, Bucket: bucket, Prefix: deref(in.S3Prefix),
		SSEAlgorithm: deref(in.S3SseAlgorithm), KmsKeyID: deref(in.S3SseKmsKeyID), ClientToken: deref(in.ClientToken),
		Format: deref(in.ExportFormat)}
	if in.ExportTime != nil {
		input.ExportTime = in.ExportTime.Time()
	}
	switch deref(in.ExportType) {
	case "", "FULL_EXPORT":
	case "INCREMENTAL_EXPORT":
		input.Incremental = true
		if spec := in.IncrementalExportSpecification; spec != nil {
			if spec.ExportFromTime != nil {
				input.From = spec.ExportFromTime.Time()
			}
			if spec.ExportToTime != nil {
				input.To = spec.ExportToTime.Time()
			}
			if v := deref(spec.ExportViewType); v != "" && v != "NEW_IMAGE" {
				return &quill.Error{Code: quill.CodeInvalidParameter, Parameter: "ExportViewType",
					Message: "Quill's incremental exports carry NEW_IMAGE (every revision), not " + v}
			}
		}
	default:
		return &quill.Error{Code: quill.CodeInvalidParameter, Parameter: "ExportType", Message: "must be FULL_EXPORT or INCREMENTAL_EXPORT"}
	}
	d, err := h.db.ExportTable(req.ctx, ledger, input)
	if err != nil {
		return err
	}
	return req.replyDynamoDB(wire.ExportTableToPointInTimeResponse{ExportDescription: exportDescriptionWire(d)})
}

func (h *Handler) describeExport(req *request) error {
	var in wire.DescribeExportRequest
	if err := req.decode(&in); err != nil {
		return err
	}
	arn, err := required(in.ExportArn, "ExportArn")
	if err != nil {
		return err
	}
	d, err := h.db.DescribeTableExport(req.ctx, arn)
	if err != nil {
		return err
	}
	return req.replyDynamoDB(wire.ExportTableToPointInTimeResponse{ExportDescription: exportDescriptionWire(d)})
}

func (h *Handler) listExports(req *request) error {
	var in wire.ListExportsRequest
	if err := req.decode(&in); err != nil {
		return err
	}
	max := 0
	if in.MaxResults != nil {
		max = *in.MaxResults
		if max < 1 || max > 25 {
			return &quill.Error{Code: quill.CodeInvalidParameter, Parameter: "MaxResults", Message: "must be 1 to 25"}
		}
	}
	page, next, err := h.db.ListTableExports(req.ctx, deref(in.TableArn), max, deref(in.NextToken))
	if err != nil {
		return err
	}
	out := wire.ListExportsResponse{ExportSummaries: []wire.ExportSummary{}, NextToken: next}
	for _, d := range page {
		out.ExportSummaries = append(out.ExportSummaries, wire.ExportSummary{ExportArn: d.ExportArn, ExportStatus: d.Status, ExportType: d.ExportType})
	}
	return req.replyDynamoDB(out)
}

func exportDescriptionWire(d *quill.TableExportDescription) wire.ExportDescription {
	ts := func(t time.Time) *wire.Timestamp {
		if t.IsZero() {
			return nil
		}
		v := wire.NewTimestamp(t)
		return &v
	}
	out := wire.ExportDescription{ExportArn: d.ExportArn, ExportStatus: d.Status, StartTime: wire.NewTimestamp(d.StartTime),
		EndTime: ts(d.EndTime), ExportManifest: d.ManifestKey, TableArn: d.TableArn, TableID: d.TableID,
		ExportTime: ts(d.ExportTime), ClientToken: d.ClientToken, S3Bucket: d.Bucket, S3Prefix: d.Prefix,
		S3SseAlgorithm: d.SSEAlgorithm, S3SseKmsKeyID: d.KmsKeyID, FailureMessage: d.FailureMessage,
		ExportFormat: d.Format, BilledSizeBytes: d.BilledSizeBytes, ItemCount: d.ItemCount, ExportType: d.ExportType}
	if d.ExportType == "INCREMENTAL_EXPORT" {
		view := "NEW_IMAGE"
		out.IncrementalExportSpecification = &wire.IncrementalExportSpecification{ExportFromTime: ts(d.From),
			ExportToTime: ts(d.To), ExportViewType: &view}
	}
	return out
}

func (req *request) replyDynamoDB(v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	req.w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_, err = req.w.Write(body)
	return err
}

// dynamoDBError is an error in DynamoDB's shape.
type dynamoDBError struct {
	status int
	typ    string // namespaced, as DynamoDB sends it
	msg    string
}

func (e *dynamoDBError) Error() string { return e.typ + ": " + e.msg }

// dynamoDBExceptions maps Quill's codes to DynamoDB's exceptions.
var dynamoDBExceptions = map[quill.ErrorCode]string{
	quill.CodeInvalidParameter:           "com.amazon.coral.validate#ValidationException",
	quill.CodeResourceNotFound:           "com.amazonaws.dynamodb.v20120810#TableNotFoundException",
	quill.CodeExportNotFound:             "com.amazonaws.dynamodb.v20120810#ExportNotFoundException",
	quill.CodeExportConflict:             "com.amazonaws.dynamodb.v20120810#ExportConflictException",
	quill.CodeLimitExceeded:              "com.amazonaws.dynamodb.v20120810#LimitExceededException",
	quill.CodeResourcePreconditionNotMet: "com.amazon.coral.validate#ValidationException",
}

// toDynamoDBError shapes any error of a DynamoDB operation.
func toDynamoDBError(err error) *dynamoDBError {
	var de *dynamoDBError
	if errors.As(err, &de) {
		return de
	}
	var qe *quill.Error
	if errors.As(err, &qe) {
		typ, ok := dynamoDBExceptions[qe.Code]
		if qe.Code == quill.CodeInvalidParameter && strings.HasPrefix(qe.Parameter, "Export") && strings.HasSuffix(qe.Parameter, "Time") {
			typ, ok = "com.amazonaws.dynamodb.v20120810#InvalidExportTimeException", true
		}
		if ok {
			return &dynamoDBError{status: http.StatusBadRequest, typ: typ, msg: qe.Error()}
		}
	}
	he := toHTTPError(err)
	typ := "com.amazonaws.dynamodb.v20120810#" + he.body.Type
	if he.status >= 500 {
		typ = "com.amazonaws.dynamodb.v20120810#InternalServerError"
	}
	return &dynamoDBError{status: he.status, typ: typ, msg: he.body.Message}
}

func writeDynamoDBError(w http.ResponseWriter, err error) {
	de := toDynamoDBError(err)
	body, _ := json.Marshal(wire.DynamoDBError{Type: de.typ, Message: de.msg})
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-ErrorType", de.typ[strings.LastIndex(de.typ, "#")+1:])
	w.WriteHeader(de.status)
	_, _ = w.Write(body)
}
