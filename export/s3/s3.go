// Package s3 is the export Sink for Amazon S3 and S3-compatible stores
// (MinIO and others), through aws-sdk-go-v2's s3 client.
//
// It takes the SDK's standard configuration: AWS_REGION, the usual
// credential variables and files, and AWS_ENDPOINT_URL_S3 (or
// AWS_ENDPOINT_URL) to point it at any S3-compatible store. Whenever an
// endpoint URL is set it uses path-style addressing, which such stores
// expect. Objects larger than the part size go up as multipart uploads.
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/quilldb/quill/export"
)

// Encryption types of QLDB's S3EncryptionConfiguration.
const (
	NoEncryption = "NO_ENCRYPTION"
	SSES3        = "SSE_S3"
	SSEKMS       = "SSE_KMS"
)

// Config says where a Sink writes.
type Config struct {
	Bucket string
	// Encryption is QLDB's ObjectEncryptionType: SSE_S3 and SSE_KMS are
	// sent as the matching server-side encryption headers, NO_ENCRYPTION
	// (the default) sends none.
	Encryption string
	// KmsKeyArn is the key for SSE_KMS.
	KmsKeyArn string
	// PartSize is the size of multipart upload parts; larger objects are
	// uploaded in parts. Default and minimum: 8 MiB (S3's minimum is 5).
	PartSize int
	// MaxAttempts is how often the SDK tries a request that failed with a
	// retryable error (throttling, 5xx). Default: 8.
	MaxAttempts int
}

// Sink writes objects to one bucket.
type Sink struct {
	client *s3.Client
	cfg    Config
}

// New returns a Sink with a client built from the SDK's standard
// configuration.
func New(ctx context.Context, cfg Config) (*Sink, error) {
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("export/s3: load the AWS configuration: %w", err)
	}
	return NewFromConfig(awsCfg, cfg), nil
}

// NewFromConfig returns a Sink with a client built from awsCfg.
func NewFromConfig(awsCfg aws.Config, cfg Config) *Sink {
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 8
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		// BaseEndpoint is resolved from the configuration before the
		// options functions run: a custom endpoint means an S3-compatible
		// store, which wants path-style addressing.
		if o.BaseEndpoint != nil {
			o.UsePathStyle = true
		}
		o.RetryMaxAttempts = cfg.MaxAttempts
	})
	if cfg.PartSize < 8<<20 {
		cfg.PartSize = 8 << 20
	}
	return &Sink{client: client, cfg: cfg}
}

// Client returns the sink's S3 client.
func (s *Sink) Client() *s3.Client { return s.client }

// Put stores body under key: one PutObject, or a multipart upload when it
// is larger than a part. A reader never sees part of an object.
func (s *Sink) Put(ctx context.Context, key string, body []byte) error {
	if len(body) > s.cfg.PartSize {
		return s.putMultipart(ctx, key, body)
	}
	in := &s3.PutObjectInput{Bucket: &s.cfg.Bucket, Key: &key, Body: bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body)))}
	in.ServerSideEncryption, in.SSEKMSKeyId = s.encryption()
	_, err := s.client.PutObject(ctx, in)
	return s.wrap("put "+key, err)
}

func (s *Sink) putMultipart(ctx context.Context, key string, body []byte) error {
	create := &s3.CreateMultipartUploadInput{Bucket: &s.cfg.Bucket, Key: &key}
	create.ServerSideEncryption, create.SSEKMSKeyId = s.encryption()
	up, err := s.client.CreateMultipartUpload(ctx, create)
	if err != nil {
		return s.wrap("start the multipart upload of "+key, err)
	}
	var parts []types.CompletedPart
	for n, off := int32(1), 0; off < len(body); n, off = n+1, off+s.cfg.PartSize {
		part := body[off:min(off+s.cfg.PartSize, len(body))]
		out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{Bucket: &s.cfg.Bucket, Key: &key,
			UploadId: up.UploadId, PartNumber: aws.Int32(n), Body: bytes.NewReader(part),
			ContentLength: aws.Int64(int64(len(part)))})
		if err != nil {
			s.abort(key, up.UploadId)
			return s.wrap(fmt.Sprintf("upload part %d of %s", n, key), err)
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(n)})
	}
	_, err = s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &s.cfg.Bucket,
		Key: &key, UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		s.abort(key, up.UploadId)
		return s.wrap("complete the multipart upload of "+key, err)
	}
	return nil
}

// abort gives up a multipart upload so that its parts do not linger; it
// runs even when ctx was cancelled.
func (s *Sink) abort(key string, uploadID *string) {
	_, _ = s.client.AbortMultipartUpload(context.Background(),
		&s3.AbortMultipartUploadInput{Bucket: &s.cfg.Bucket, Key: &key, UploadId: uploadID})
}

// Get reads the object under key.
func (s *Sink) Get(ctx context.Context, key string) ([]byte, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.cfg.Bucket, Key: &key})
	if err != nil {
		return nil, s.wrap("get "+key, err)
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

func (s *Sink) encryption() (types.ServerSideEncryption, *string) {
	switch s.cfg.Encryption {
	case SSES3:
		return types.ServerSideEncryptionAes256, nil
	case SSEKMS:
		var key *string
		if s.cfg.KmsKeyArn != "" {
			key = aws.String(s.cfg.KmsKeyArn)
		}
		return types.ServerSideEncryptionAwsKms, key
	}
	return "", nil
}

// refusals are the S3 error codes that retrying cannot fix.
var refusals = map[string]bool{
	"NoSuchBucket": true, "AccessDenied": true, "InvalidAccessKeyId": true, "SignatureDoesNotMatch": true,
	"AllAccessDisabled": true, "InvalidBucketName": true, "KMS.NotFoundException": true,
	"KMS.DisabledException": true, "KMSNotFoundException": true, "InvalidArgument": true,
	"InvalidEncryptionAlgorithmError": true, "AccountProblem": true,
}

// wrap names the operation and marks refusals with export.ErrTargetRefused.
func (s *Sink) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && refusals[apiErr.ErrorCode()] {
		return fmt.Errorf("%w: bucket %s: %s: %s: %s", export.ErrTargetRefused, s.cfg.Bucket, op, apiErr.ErrorCode(), apiErr.ErrorMessage())
	}
	return fmt.Errorf("export/s3: bucket %s: %s: %w", s.cfg.Bucket, op, err)
}
