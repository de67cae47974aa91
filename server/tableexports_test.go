package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/klauspost/compress/gzip"
	"github.com/quilldb/quill"
	"github.com/quilldb/quill/internal/testenv"
	"github.com/stretchr/testify/require"
)

func dynamoClient(url string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: staticCreds("AKIDEXAMPLE", "secret"), RetryMaxAttempts: 1})
}

// TestTableExportThroughDynamoDBsSDK drives ExportTableToPointInTime,
// DescribeExport and ListExports with aws-sdk-go-v2's dynamodb client
// against MinIO, and reads every data file back with the s3 client.
func TestTableExportThroughDynamoDBsSDK(t *testing.T) {
	f := newFixture(t, nil, &quill.Options{ExportSinks: s3Sinks(testenv.S3Endpoint(t))})
	bucket := testenv.NewBucket(t)
	_, err := f.db.CreateLedger(ctx, &quill.CreateLedgerInput{Name: "dmv", PermissionsMode: quill.PermissionsStandard})
	require.NoError(t, err)
	l, err := f.db.Ledger(ctx, "dmv")
	require.NoError(t, err)
	var tableID string
	require.NoError(t, l.Execute(ctx, func(tx *quill.Tx) error {
		var err error
		tableID, err = tx.CreateTable("Vehicle")
		return err
	}))
	for i := range 30 {
		require.NoError(t, l.Execute(ctx, func(tx *quill.Tx) error {
			_, err := tx.Insert("Vehicle", []byte(fmt.Sprintf(`{VIN:"V%03d",Price:%d.50,Made:2019-06-01T,Photo:{{aGk=}}}`, i, i)))
			return err
		}))
	}
	tableArn := f.db.TableArn("dmv", tableID)
	c := dynamoClient(f.srv.URL)
	s3c := testenv.S3Client(t)
	for _, format := range []dtypes.ExportFormat{dtypes.ExportFormatIon, dtypes.ExportFormatDynamodbJson} {
		out, err := c.ExportTableToPointInTime(ctx, &dynamodb.ExportTableToPointInTimeInput{TableArn: &tableArn,
			S3Bucket: &bucket, S3Prefix: aws.String("tables/" + string(format)), ExportFormat: format, ClientToken: aws.String("t-" + string(format))})
		require.NoError(t, err)
		arn := *out.ExportDescription.ExportArn
		var d *dtypes.ExportDescription
		for deadline := time.Now().Add(30 * time.Second); ; {
			desc, err := c.DescribeExport(ctx, &dynamodb.DescribeExportInput{ExportArn: &arn})
			require.NoError(t, err)
			d = desc.ExportDescription
			if d.ExportStatus != dtypes.ExportStatusInProgress {
				break
			}
			require.True(t, time.Now().Before(deadline))
			time.Sleep(10 * time.Millisecond)
		}
		require.Equal(t, dtypes.ExportStatusCompleted, d.ExportStatus, aws.ToString(d.FailureMessage))
		require.Equal(t, int64(30), aws.ToInt64(d.ItemCount))
		require.Equal(t, tableArn, *d.TableArn)

		get := func(key string) []byte {
			obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
			require.NoError(t, err, key)
			defer obj.Body.Close()
			b, err := io.ReadAll(obj.Body)
			require.NoError(t, err)
			return b
		}
		var summary struct {
			ManifestFilesS3Key string
			ItemCount          int
			OutputFormat       string
		}
		require.NoError(t, json.Unmarshal(get(*d.ExportManifest), &summary))
		require.Equal(t, string(format), summary.OutputFormat)
		items := 0
		for _, line := range strings.Split(strings.TrimSpace(string(get(summary.ManifestFilesS3Key))), "\n") {
			var file struct {
				DataFileS3Key string
				ItemCount     int
				Etag          string
			}
			require.NoError(t, json.Unmarshal([]byte(line), &file))
			data := get(file.DataFileS3Key)
			head, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &file.DataFileS3Key})
			require.NoError(t, err)
			require.Equal(t, `"`+file.Etag+`"`, *head.ETag, "the manifest's ETag is the store's")
			zr, err := gzip.NewReader(bytes.NewReader(data))
			require.NoError(t, err)
			raw, err := io.ReadAll(zr)
			require.NoError(t, err)
			n := bytes.Count(raw, []byte("\n"))
			require.Equal(t, file.ItemCount, n)
			items += n
			if format == dtypes.ExportFormatDynamodbJson {
				var first struct {
					Item map[string]map[string]any
				}
				require.NoError(t, json.Unmarshal(raw[:bytes.IndexByte(raw, '\n')], &first))
				require.Contains(t, first.Item["Price"], "N")
				require.Contains(t, first.Item["Photo"], "B")
			}
		}
		require.Equal(t, 30, items)

		// The same token with other parameters is DynamoDB's conflict.
		_, err = c.ExportTableToPointInTime(ctx, &dynamodb.ExportTableToPointInTimeInput{TableArn: &tableArn,
			S3Bucket: &bucket, S3Prefix: aws.String("elsewhere"), ExportFormat: format, ClientToken: aws.String("t-" + string(format))})
		var conflict *dtypes.ExportConflictException
		require.ErrorAs(t, err, &conflict)
	}

	var arns []string
	p := dynamodb.NewListExportsPaginator(c, &dynamodb.ListExportsInput{TableArn: &tableArn, MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		require.NoError(t, err)
		for _, s := range page.ExportSummaries {
			arns = append(arns, *s.ExportArn)
		}
	}
	require.Len(t, arns, 2)

	_, err = c.DescribeExport(ctx, &dynamodb.DescribeExportInput{ExportArn: aws.String(tableArn + "/export/01234567890123-a1b2c3d4")})
	var notFound *dtypes.ExportNotFoundException
	require.ErrorAs(t, err, &notFound)
	_, err = c.ExportTableToPointInTime(ctx, &dynamodb.ExportTableToPointInTimeInput{TableArn: aws.String(f.db.TableArn("dmv", "NoSuchTable")), S3Bucket: &bucket})
	var noTable *dtypes.TableNotFoundException
	require.ErrorAs(t, err, &noTable)
	future := time.Now().Add(time.Hour)
	_, err = c.ExportTableToPointInTime(ctx, &dynamodb.ExportTableToPointInTimeInput{TableArn: &tableArn, S3Bucket: &bucket, ExportTime: &future})
	var badTime *dtypes.InvalidExportTimeException
	require.ErrorAs(t, err, &badTime)
}
