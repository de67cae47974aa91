package wire

// DynamoDB's JSON 1.0 shapes for its export operations (API 2012-08-10),
// member names as AWS clients send and expect them.

// ExportTableToPointInTimeRequest is ExportTableToPointInTime's body.
type ExportTableToPointInTimeRequest struct {
	TableArn                       *string                         `json:"TableArn"`
	ExportTime                     *Timestamp                      `json:"ExportTime"`
	ClientToken                    *string                         `json:"ClientToken"`
	S3Bucket                       *string                         `json:"S3Bucket"`
	S3BucketOwner                  *string                         `json:"S3BucketOwner"`
	S3Prefix                       *string                         `json:"S3Prefix"`
	S3SseAlgorithm                 *string                         `json:"S3SseAlgorithm"`
	S3SseKmsKeyID                  *string                         `json:"S3SseKmsKeyId"`
	ExportFormat                   *string                         `json:"ExportFormat"`
	ExportType                     *string                         `json:"ExportType"`
	IncrementalExportSpecification *IncrementalExportSpecification `json:"IncrementalExportSpecification"`
}

// IncrementalExportSpecification bounds an incremental export.
type IncrementalExportSpecification struct {
	ExportFromTime *Timestamp `json:"ExportFromTime,omitempty"`
	ExportToTime   *Timestamp `json:"ExportToTime,omitempty"`
	ExportViewType *string    `json:"ExportViewType,omitempty"`
}

// ExportDescription describes a table export.
type ExportDescription struct {
	ExportArn                      string                          `json:"ExportArn"`
	ExportStatus                   string                          `json:"ExportStatus"`
	StartTime                      Timestamp                       `json:"StartTime"`
	EndTime                        *Timestamp                      `json:"EndTime,omitempty"`
	ExportManifest                 string                          `json:"ExportManifest,omitempty"`
	TableArn                       string                          `json:"TableArn"`
	TableID                        string                          `json:"TableId"`
	ExportTime                     *Timestamp                      `json:"ExportTime,omitempty"`
	ClientToken                    string                          `json:"ClientToken,omitempty"`
	S3Bucket                       string                          `json:"S3Bucket"`
	S3Prefix                       string                          `json:"S3Prefix,omitempty"`
	S3SseAlgorithm                 string                          `json:"S3SseAlgorithm,omitempty"`
	S3SseKmsKeyID                  string                          `json:"S3SseKmsKeyId,omitempty"`
	FailureMessage                 string                          `json:"FailureMessage,omitempty"`
	ExportFormat                   string                          `json:"ExportFormat"`
	BilledSizeBytes                int64                           `json:"BilledSizeBytes"`
	ItemCount                      uint64                          `json:"ItemCount"`
	ExportType                     string                          `json:"ExportType"`
	IncrementalExportSpecification *IncrementalExportSpecification `json:"IncrementalExportSpecification,omitempty"`
}

// ExportTableToPointInTimeResponse is ExportTableToPointInTime's and
// DescribeExport's answer.
type ExportTableToPointInTimeResponse struct {
	ExportDescription ExportDescription `json:"ExportDescription"`
}

// DescribeExportRequest is DescribeExport's body.
type DescribeExportRequest struct {
	ExportArn *string `json:"ExportArn"`
}

// ListExportsRequest is ListExports' body.
type ListExportsRequest struct {
	TableArn   *string `json:"TableArn"`
	MaxResults *int    `json:"MaxResults"`
	NextToken  *string `json:"NextToken"`
}

// ExportSummary is one entry of ListExports.
type ExportSummary struct {
	ExportArn    string `json:"ExportArn"`
	ExportStatus string `json:"ExportStatus"`
	ExportType   string `json:"ExportType"`
}

// ListExportsResponse is ListExports' answer.
type ListExportsResponse struct {
	ExportSummaries []ExportSummary `json:"ExportSummaries"`
	NextToken       string          `json:"NextToken,omitempty"`
}

// DynamoDBError is the body of a DynamoDB error.
type DynamoDBError struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}
