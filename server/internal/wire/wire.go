// Package wire holds the JSON shapes of QLDB's REST-JSON control plane
// (API 2019-01-02), member names exactly as AWS clients send and expect
// them. Timestamps are epoch seconds (JSON numbers), blobs base64.
package wire

import (
	"math"
	"time"
)

// Timestamp is a time sent as epoch seconds with millisecond precision.
type Timestamp float64

// NewTimestamp converts a time.
func NewTimestamp(t time.Time) Timestamp { return Timestamp(float64(t.UnixMilli()) / 1000) }

// ValueHolder carries one Ion value: as text (the control plane), or as
// binary or text (the session data plane).
type ValueHolder struct {
	IonBinary []byte  `json:"IonBinary,omitempty"`
	IonText   *string `json:"IonText,omitempty"`
}

// CreateLedgerRequest is CreateLedger's body.
type CreateLedgerRequest struct {
	Name               *string            `json:"Name"`
	PermissionsMode    *string            `json:"PermissionsMode"`
	DeletionProtection *bool              `json:"DeletionProtection"`
	KmsKey             *string            `json:"KmsKey"`
	Tags               map[string]*string `json:"Tags"`
}

// CreateLedgerResponse is CreateLedger's answer.
type CreateLedgerResponse struct {
	Name               string    `json:"Name"`
	Arn                string    `json:"Arn"`
	State              string    `json:"State"`
	CreationDateTime   Timestamp `json:"CreationDateTime"`
	PermissionsMode    string    `json:"PermissionsMode"`
	DeletionProtection bool      `json:"DeletionProtection"`
	KmsKeyArn          string    `json:"KmsKeyArn,omitempty"`
}

// EncryptionDescription describes a ledger's encryption at rest.
type EncryptionDescription struct {
	KmsKeyArn        string `json:"KmsKeyArn"`
	EncryptionStatus string `json:"EncryptionStatus"`
}

// DescribeLedgerResponse is DescribeLedger's answer (and UpdateLedger's,
// which omits PermissionsMode).
type DescribeLedgerResponse struct {
	Name                  string                 `json:"Name"`
	Arn                   string                 `json:"Arn"`
	State                 string                 `json:"State"`
	CreationDateTime      Timestamp              `json:"CreationDateTime"`
	PermissionsMode       string                 `json:"PermissionsMode,omitempty"`
	DeletionProtection    bool                   `json:"DeletionProtection"`
	EncryptionDescription *EncryptionDescription `json:"EncryptionDescription,omitempty"`
}

// LedgerSummary is one entry of ListLedgers.
type LedgerSummary struct {
	Name             string    `json:"Name"`
	State            string    `json:"State"`
	CreationDateTime Timestamp `json:"CreationDateTime"`
}

// ListLedgersResponse is ListLedgers' answer.
type ListLedgersResponse struct {
	Ledgers   []LedgerSummary `json:"Ledgers"`
	NextToken string          `json:"NextToken,omitempty"`
}

// UpdateLedgerRequest is UpdateLedger's body.
type UpdateLedgerRequest struct {
	DeletionProtection *bool   `json:"DeletionProtection"`
	KmsKey             *string `json:"KmsKey"`
}

// UpdateLedgerPermissionsModeRequest is UpdateLedgerPermissionsMode's body.
type UpdateLedgerPermissionsModeRequest struct {
	PermissionsMode *string `json:"PermissionsMode"`
}

// UpdateLedgerPermissionsModeResponse is its answer.
type UpdateLedgerPermissionsModeResponse struct {
	Name            string `json:"Name"`
	Arn             string `json:"Arn"`
	PermissionsMode string `json:"PermissionsMode"`
}

// GetDigestResponse is GetDigest's answer.
type GetDigestResponse struct {
	Digest           []byte      `json:"Digest"`
	DigestTipAddress ValueHolder `json:"DigestTipAddress"`
}

// GetBlockRequest is GetBlock's body.
type GetBlockRequest struct {
	BlockAddress     *ValueHolder `json:"BlockAddress"`
	DigestTipAddress *ValueHolder `json:"DigestTipAddress"`
}

// GetBlockResponse is GetBlock's answer.
type GetBlockResponse struct {
	Block ValueHolder  `json:"Block"`
	Proof *ValueHolder `json:"Proof,omitempty"`
}

// GetRevisionRequest is GetRevision's body.
type GetRevisionRequest struct {
	BlockAddress     *ValueHolder `json:"BlockAddress"`
	DocumentId       *string      `json:"DocumentId"` //nolint:revive // the wire name
	DigestTipAddress *ValueHolder `json:"DigestTipAddress"`
}

// GetRevisionResponse is GetRevision's answer.
type GetRevisionResponse struct {
	Revision ValueHolder  `json:"Revision"`
	Proof    *ValueHolder `json:"Proof,omitempty"`
}

// TagResourceRequest is TagResource's body.
type TagResourceRequest struct {
	Tags map[string]*string `json:"Tags"`
}

// ListTagsForResourceResponse is ListTagsForResource's answer.
type ListTagsForResourceResponse struct {
	Tags map[string]string `json:"Tags"`
}

// Error is the body of every error response.
type Error struct {
	Type          string `json:"__type"`
	Message       string `json:"Message"`
	ParameterName string `json:"ParameterName,omitempty"`
	ResourceType  string `json:"ResourceType,omitempty"`
	ResourceName  string `json:"ResourceName,omitempty"`
}

// Time converts a request timestamp (epoch seconds) to a time, to the
// millisecond.
func (t Timestamp) Time() time.Time {
	return time.UnixMilli(int64(math.Round(float64(t) * 1000))).UTC()
}

// ExportJournalToS3Request is ExportJournalToS3's body.
type ExportJournalToS3Request struct {
	InclusiveStartTime    *Timestamp             `json:"InclusiveStartTime"`
	ExclusiveEndTime      *Timestamp             `json:"ExclusiveEndTime"`
	S3ExportConfiguration *S3ExportConfiguration `json:"S3ExportConfiguration"`
	RoleArn               *string                `json:"RoleArn"`
	OutputFormat          *string                `json:"OutputFormat"`
}

// S3ExportConfiguration is where an export writes.
type S3ExportConfiguration struct {
	Bucket                  *string                    `json:"Bucket"`
	Prefix                  *string                    `json:"Prefix"`
	EncryptionConfiguration *S3EncryptionConfiguration `json:"EncryptionConfiguration"`
}

// S3EncryptionConfiguration is an export's server-side encryption.
type S3EncryptionConfiguration struct {
	ObjectEncryptionType *string `json:"ObjectEncryptionType"`
	KmsKeyArn            *string `json:"KmsKeyArn,omitempty"`
}

// ExportJournalToS3Response is ExportJournalToS3's answer.
type ExportJournalToS3Response struct {
	ExportID string `json:"ExportId"`
}

// JournalS3ExportDescription describes an export.
type JournalS3ExportDescription struct {
	LedgerName            string                `json:"LedgerName"`
	ExportID              string                `json:"ExportId"`
	ExportCreationTime    Timestamp             `json:"ExportCreationTime"`
	Status                string                `json:"Status"`
	InclusiveStartTime    Timestamp             `json:"InclusiveStartTime"`
	ExclusiveEndTime      Timestamp             `json:"ExclusiveEndTime"`
	S3ExportConfiguration S3ExportConfiguration `json:"S3ExportConfiguration"`
	RoleArn               string                `json:"RoleArn"`
	OutputFormat          string                `json:"OutputFormat,omitempty"`
}

// DescribeJournalS3ExportResponse is DescribeJournalS3Export's answer.
type DescribeJournalS3ExportResponse struct {
	ExportDescription JournalS3ExportDescription `json:"ExportDescription"`
}

// ListJournalS3ExportsResponse is the answer of both list operations.
type ListJournalS3ExportsResponse struct {
	JournalS3Exports []JournalS3ExportDescription `json:"JournalS3Exports"`
	NextToken        string                       `json:"NextToken,omitempty"`
}

// StreamJournalToKinesisRequest is StreamJournalToKinesis's body.
type StreamJournalToKinesisRequest struct {
	RoleArn              *string               `json:"RoleArn"`
	Tags                 map[string]*string    `json:"Tags"`
	InclusiveStartTime   *Timestamp            `json:"InclusiveStartTime"`
	ExclusiveEndTime     *Timestamp            `json:"ExclusiveEndTime"`
	KinesisConfiguration *KinesisConfiguration `json:"KinesisConfiguration"`
	StreamName           *string               `json:"StreamName"`
}

// KinesisConfiguration is a stream's Kinesis target.
type KinesisConfiguration struct {
	StreamArn          *string `json:"StreamArn"`
	AggregationEnabled *bool   `json:"AggregationEnabled,omitempty"`
}

// StreamJournalToKinesisResponse is StreamJournalToKinesis's answer, and
// CancelJournalKinesisStream's.
type StreamJournalToKinesisResponse struct {
	StreamID string `json:"StreamId"`
}

// JournalKinesisStreamDescription describes a stream.
type JournalKinesisStreamDescription struct {
	LedgerName           string               `json:"LedgerName"`
	CreationTime         Timestamp            `json:"CreationTime"`
	InclusiveStartTime   Timestamp            `json:"InclusiveStartTime"`
	ExclusiveEndTime     *Timestamp           `json:"ExclusiveEndTime,omitempty"`
	RoleArn              string               `json:"RoleArn"`
	StreamID             string               `json:"StreamId"`
	Arn                  string               `json:"Arn"`
	Status               string               `json:"Status"`
	KinesisConfiguration KinesisConfiguration `json:"KinesisConfiguration"`
	ErrorCause           string               `json:"ErrorCause,omitempty"`
	StreamName           string               `json:"StreamName"`
}

// DescribeJournalKinesisStreamResponse is DescribeJournalKinesisStream's answer.
type DescribeJournalKinesisStreamResponse struct {
	Stream JournalKinesisStreamDescription `json:"Stream"`
}

// ListJournalKinesisStreamsResponse is ListJournalKinesisStreamsForLedger's answer.
type ListJournalKinesisStreamsResponse struct {
	Streams   []JournalKinesisStreamDescription `json:"Streams"`
	NextToken string                            `json:"NextToken,omitempty"`
}
