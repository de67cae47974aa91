// Package kinesis is the stream Sink for Amazon Kinesis Data Streams and
// Kinesis-compatible servers, through aws-sdk-go-v2's kinesis client.
//
// It takes the SDK's standard configuration: AWS_REGION, the usual
// credential variables, and AWS_ENDPOINT_URL_KINESIS (or AWS_ENDPOINT_URL)
// to point it at any Kinesis-compatible server. It names the target by
// StreamName, because some such servers accept no StreamARN.
package kinesis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
	"github.com/quilldb/quill/internal/wait"
	"github.com/quilldb/quill/stream"
)

// PutRecords limits.
const (
	maxEntries    = 500
	maxBatchBytes = 5 << 20
)

// Config says where a Sink writes.
type Config struct {
	StreamName string
	// Aggregate packs records in the KPL aggregated format.
	Aggregate bool
	// MaxAttempts is how often the entries a PutRecords call failed are
	// tried again (with backoff) before Put returns an error. Default: 10.
	MaxAttempts int
}

// Sink writes stream records to one Kinesis stream.
type Sink struct {
	client *kinesis.Client
	cfg    Config
}

// New returns a Sink with a client built from the SDK's standard
// configuration.
func New(ctx context.Context, cfg Config) (*Sink, error) {
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("stream/kinesis: load the AWS configuration: %w", err)
	}
	return NewFromConfig(awsCfg, cfg), nil
}

// NewFromConfig returns a Sink with a client built from awsCfg.
func NewFromConfig(awsCfg aws.Config, cfg Config) *Sink {
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 10
	}
	return &Sink{client: kinesis.NewFromConfig(awsCfg), cfg: cfg}
}

// Put writes the records, aggregated or one Kinesis record each, in
// PutRecords batches of at most 500 entries and 5 MiB. Entries that a
// batch failed (throttling, internal errors) are sent again, alone, with
// backoff; throttling slows the sink down and is not an error.
func (s *Sink) Put(ctx context.Context, records []stream.Record) error {
	var krecs []stream.KinesisRecord
	if s.cfg.Aggregate {
		krecs = stream.Aggregate(records)
	} else {
		krecs = make([]stream.KinesisRecord, len(records))
		for i, r := range records {
			krecs[i] = stream.KinesisRecord{PartitionKey: r.PartitionKey, Data: r.Data}
		}
	}
	for len(krecs) > 0 {
		n, size := 0, 0
		for n < len(krecs) && n < maxEntries && (n == 0 || size+len(krecs[n].Data)+len(krecs[n].PartitionKey) <= maxBatchBytes) {
			size += len(krecs[n].Data) + len(krecs[n].PartitionKey)
			n++
		}
		if err := s.putBatch(ctx, krecs[:n]); err != nil {
			return err
		}
		krecs = krecs[n:]
	}
	return nil
}

func (s *Sink) putBatch(ctx context.Context, batch []stream.KinesisRecord) error {
	backoff := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		entries := make([]types.PutRecordsRequestEntry, len(batch))
		for i, r := range batch {
			entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String(r.PartitionKey), Data: r.Data}
		}
		out, err := s.client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: &s.cfg.StreamName, Records: entries})
		if err != nil {
			return s.wrap(err)
		}
		if aws.ToInt32(out.FailedRecordCount) == 0 {
			return nil
		}
		var failed []stream.KinesisRecord
		for i, r := range out.Records {
			if r.ErrorCode != nil {
				failed = append(failed, batch[i])
			}
		}
		if attempt >= s.cfg.MaxAttempts {
			return fmt.Errorf("stream/kinesis: %s: %d records still failing after %d attempts (%s)",
				s.cfg.StreamName, len(failed), attempt, aws.ToString(firstError(out.Records)))
		}
		batch = failed
		if err := wait.Sleep(ctx, backoff); err != nil {
			return err
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

func firstError(recs []types.PutRecordsResultEntry) *string {
	for _, r := range recs {
		if r.ErrorCode != nil {
			return r.ErrorCode
		}
	}
	return nil
}

// wrap marks the errors that impair a stream.
func (s *Sink) wrap(err error) error {
	var notFound *types.ResourceNotFoundException
	if errors.As(err, &notFound) {
		return fmt.Errorf("%w: %s: %w", stream.ErrStreamNotFound, s.cfg.StreamName, err)
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException", "KMSAccessDeniedException":
			return fmt.Errorf("%w: %s: %w", stream.ErrAccessDenied, s.cfg.StreamName, err)
		case "ResourceNotFoundException":
			return fmt.Errorf("%w: %s: %w", stream.ErrStreamNotFound, s.cfg.StreamName, err)
		}
	}
	return fmt.Errorf("stream/kinesis: %s: %w", s.cfg.StreamName, err)
}
