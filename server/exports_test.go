package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	amzion "github.com/amazon-ion/ion-go/ion"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/qldb"
	"github.com/aws/aws-sdk-go-v2/service/qldb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/quilldb/quill"
	"github.com/quilldb/quill/export"
	s3sink "github.com/quilldb/quill/export/s3"
	"github.com/quilldb/quill/internal/testenv"
	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/merkle"
	"github.com/quilldb/quill/verify"
	"github.com/stretchr/testify/require"
)

// s3Sinks writes exports to MinIO.
func s3Sinks(endpoint string) func(context.Context, export.Target) (export.Sink, error) {
	return func(_ context.Context, t export.Target) (export.Sink, error) {
		return s3sink.NewFromConfig(testenv.AWSConfig(endpoint),
			s3sink.Config{Bucket: t.Bucket, Encryption: t.Encryption, KmsKeyArn: t.KmsKeyArn}), nil
	}
}

func exportFixture(t *testing.T, blocks int) (*fixture, time.Time, time.Time) {
	t.Helper()
	f := newFixture(t, nil, &quill.Options{ExportSinks: s3Sinks(testenv.S3Endpoint(t)), ExportObjectSize: 4000})
	start := time.Now().Add(-time.Minute)
	_, err := f.client.CreateLedger(ctx, &qldb.CreateLedgerInput{Name: aws.String("exported"), PermissionsMode: types.PermissionsModeStandard})
	require.NoError(t, err)
	l, err := f.db.Ledger(ctx, "exported")
	require.NoError(t, err)
	require.NoError(t, l.Execute(ctx, func(tx *quill.Tx) error { _, err := tx.CreateTable("Vehicle"); return err }))
	for i := range blocks - 2 {
		require.NoError(t, l.Execute(ctx, func(tx *quill.Tx) error {
			_, err := tx.Insert("Vehicle", []byte(fmt.Sprintf(`{VIN:"1N4AL11D75C%06d",Price:12.50,When:2019-06-01T00:00Z,Photo:{{aGVsbG8=}}}`, i)))
			return err
		}))
	}
	time.Sleep(2 * time.Millisecond) // the end is exclusive, to the millisecond
	return f, start, time.Now()
}

func waitExport(t *testing.T, c *qldb.Client, ledger, id string) *types.JournalS3ExportDescription {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := c.DescribeJournalS3Export(ctx, &qldb.DescribeJournalS3ExportInput{Name: aws.String(ledger), ExportId: aws.String(id)})
		require.NoError(t, err)
		if out.ExportDescription.Status != types.ExportStatusInProgress {
			return out.ExportDescription
		}
		require.True(t, time.Now().Before(deadline), "export %s still IN_PROGRESS", id)
		time.Sleep(20 * time.Millisecond)
	}
}

// TestJournalExportToMinIOThroughTheSDK exports a ledger in every format
// through aws-sdk-go-v2's qldb client, then reads every object back with
// the s3 client and checks the manifests, the keys, the ranges, and that
// every block appears once and verifies.
func TestJournalExportToMinIOThroughTheSDK(t *testing.T) {
	const blocks = 40
	f, start, end := exportFixture(t, blocks)
	bucket := testenv.NewBucket(t)
	s3c := testenv.S3Client(t)
	digest, err := f.client.GetDigest(ctx, &qldb.GetDigestInput{Name: aws.String("exported")})
	require.NoError(t, err)
	l, err := f.db.Ledger(ctx, "exported")
	require.NoError(t, err)
	strand := l.StrandID()

	for _, format := range []types.OutputFormat{types.OutputFormatIonText, types.OutputFormatIonBinary, types.OutputFormatJson} {
		t.Run(string(format), func(t *testing.T) {
			prefix := "journal/" + string(format) + "/"
			out, err := f.client.ExportJournalToS3(ctx, &qldb.ExportJournalToS3Input{Name: aws.String("exported"),
				InclusiveStartTime: &start, ExclusiveEndTime: &end, RoleArn: aws.String("arn:aws:iam::123456789012:role/QLDBExport"),
				OutputFormat: format,
				S3ExportConfiguration: &types.S3ExportConfiguration{Bucket: &bucket, Prefix: &prefix,
					EncryptionConfiguration: &types.S3EncryptionConfiguration{ObjectEncryptionType: types.S3ObjectEncryptionTypeNoEncryption}}})
			require.NoError(t, err)
			require.Len(t, *out.ExportId, 22)
			d := waitExport(t, f.client, "exported", *out.ExportId)
			require.Equal(t, types.ExportStatusCompleted, d.Status)
			require.Equal(t, format, d.OutputFormat)
			require.Equal(t, bucket, *d.S3ExportConfiguration.Bucket)
			require.WithinDuration(t, end, *d.ExclusiveEndTime, time.Millisecond)

			get := func(key string) []byte {
				obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
				require.NoError(t, err, key)
				defer obj.Body.Close()
				var buf bytes.Buffer
				_, err = buf.ReadFrom(obj.Body)
				require.NoError(t, err)
				return buf.Bytes()
			}
			started := get(prefix + *out.ExportId + ".started.manifest")
			manifest := get(prefix + *out.ExportId + "." + strand + ".completed.manifest")
			var keys []string
			if format == types.OutputFormatJson {
				var m struct{ Keys []string }
				require.NoError(t, json.Unmarshal(manifest, &m))
				keys = m.Keys
				require.True(t, json.Valid(started))
			} else {
				// Read with ion-go, an Ion reader this project did not write.
				var m struct {
					Keys []string `ion:"keys"`
				}
				require.NoError(t, amzion.Unmarshal(manifest, &m))
				keys = m.Keys
				var sm map[string]any
				require.NoError(t, amzion.Unmarshal(started, &sm))
				require.Equal(t, *out.ExportId, sm["exportId"])
			}
			require.Greater(t, len(keys), 1)

			// Every object the store holds under the prefix is the two
			// manifests or a listed key.
			listed, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
			require.NoError(t, err)
			require.Len(t, listed.Contents, len(keys)+2)

			keyPattern := regexp.MustCompile(`^` + regexp.QuoteMeta(prefix) + `\d{4}/\d{2}/\d{2}/\d{2}/` + strand + `\.(\d+)-(\d+)\.` + map[bool]string{true: "json", false: "ion"}[format == types.OutputFormatJson] + `$`)
			var chain verify.ChainVerifier
			next := 0
			for _, key := range keys {
				m := keyPattern.FindStringSubmatch(key)
				require.NotNil(t, m, "key %s", key)
				var first, last int
				_, err := fmt.Sscan(m[1], &first)
				require.NoError(t, err)
				_, err = fmt.Sscan(m[2], &last)
				require.NoError(t, err)
				require.Equal(t, next, first, "contiguous ranges")
				data := get(key)
				if format == types.OutputFormatJson {
					lines := strings.Split(strings.TrimSpace(string(data)), "\n")
					require.Len(t, lines, last-first+1)
					for i, line := range lines {
						var b struct {
							BlockAddress struct{ SequenceNo int } `json:"blockAddress"`
							BlockHash    string                   `json:"blockHash"`
						}
						require.NoError(t, json.Unmarshal([]byte(line), &b))
						require.Equal(t, first+i, b.BlockAddress.SequenceNo)
						require.NotEmpty(t, b.BlockHash)
					}
				} else {
					// ion-go reads the object; Quill's verifier checks it.
					dec := amzion.NewReaderBytes(data)
					n := 0
					for dec.Next() {
						n++
					}
					require.NoError(t, dec.Err())
					require.Equal(t, last-first+1, n, "ion-go sees every block")
					vals, err := ion.ParseAll(data)
					require.NoError(t, err)
					for _, v := range vals {
						require.NoError(t, chain.Add(v))
					}
				}
				next = last + 1
			}
			require.Equal(t, blocks, next, "every block exactly once")
			if format != types.OutputFormatJson {
				folded, ok := chain.Digest()
				require.True(t, ok)
				require.Equal(t, merkle.Hash(digest.Digest), folded, "the export folds to GetDigest's digest")
			}
		})
	}

	// Both list operations, through the SDK's paginators.
	var ids []string
	p := qldb.NewListJournalS3ExportsForLedgerPaginator(f.client, &qldb.ListJournalS3ExportsForLedgerInput{Name: aws.String("exported"), MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		require.NoError(t, err)
		for _, d := range page.JournalS3Exports {
			ids = append(ids, *d.ExportId)
		}
	}
	require.Len(t, ids, 3)
	all, err := f.client.ListJournalS3Exports(ctx, &qldb.ListJournalS3ExportsInput{})
	require.NoError(t, err)
	require.Len(t, all.JournalS3Exports, 3)
}

func TestJournalExportToAMissingBucketIsCancelledWithItsCause(t *testing.T) {
	f, start, end := exportFixture(t, 3)
	out, err := f.client.ExportJournalToS3(ctx, &qldb.ExportJournalToS3Input{Name: aws.String("exported"),
		InclusiveStartTime: &start, ExclusiveEndTime: &end, RoleArn: aws.String("arn:aws:iam::123456789012:role/QLDBExport"),
		S3ExportConfiguration: &types.S3ExportConfiguration{Bucket: aws.String("quill-no-such-bucket"), Prefix: aws.String(""),
			EncryptionConfiguration: &types.S3EncryptionConfiguration{ObjectEncryptionType: types.S3ObjectEncryptionTypeSseS3}}})
	require.NoError(t, err)
	d := waitExport(t, f.client, "exported", *out.ExportId)
	require.Equal(t, types.ExportStatusCancelled, d.Status)
	q, err := f.db.DescribeJournalS3Export(ctx, "exported", *out.ExportId)
	require.NoError(t, err)
	require.Contains(t, q.ErrorCause, "NoSuchBucket")
}

func TestJournalExportErrorsThroughTheSDK(t *testing.T) {
	f := newFixture(t, nil, &quill.Options{ExportSinks: s3Sinks("http://127.0.0.1:9")})
	_, err := f.client.CreateLedger(ctx, &qldb.CreateLedgerInput{Name: aws.String("e"), PermissionsMode: types.PermissionsModeStandard})
	require.NoError(t, err)
	future := time.Now().Add(time.Hour)
	past := time.Now().Add(-time.Hour)
	in := func(name string, end time.Time) *qldb.ExportJournalToS3Input {
		return &qldb.ExportJournalToS3Input{Name: aws.String(name), InclusiveStartTime: &past, ExclusiveEndTime: &end,
			RoleArn: aws.String("arn:aws:iam::123456789012:role/QLDBExport"),
			S3ExportConfiguration: &types.S3ExportConfiguration{Bucket: aws.String("bucket"), Prefix: aws.String(""),
				EncryptionConfiguration: &types.S3EncryptionConfiguration{ObjectEncryptionType: types.S3ObjectEncryptionTypeNoEncryption}}}
	}
	// QLDB's model declares few errors for these operations, so the SDK
	// reports the others as generic API errors with the exception's code.
	code := func(err error) string {
		var apiErr smithy.APIError
		require.ErrorAs(t, err, &apiErr)
		return apiErr.ErrorCode()
	}
	_, err = f.client.ExportJournalToS3(ctx, in("e", future))
	require.Equal(t, "InvalidParameterException", code(err))
	require.ErrorContains(t, err, "ExclusiveEndTime")
	_, err = f.client.ExportJournalToS3(ctx, in("missing", past.Add(time.Minute)))
	var nf *types.ResourceNotFoundException
	require.ErrorAs(t, err, &nf, "modeled for ExportJournalToS3")
	_, err = f.client.DescribeJournalS3Export(ctx, &qldb.DescribeJournalS3ExportInput{Name: aws.String("e"), ExportId: aws.String("AAAAAAAAAAAAAAAAAAAAAA")})
	require.ErrorAs(t, err, &nf)
	_, err = f.client.ListJournalS3ExportsForLedger(ctx, &qldb.ListJournalS3ExportsForLedgerInput{Name: aws.String("missing")})
	require.Equal(t, "ResourceNotFoundException", code(err))
}
