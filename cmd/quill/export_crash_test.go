package main

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/qldb"
	"github.com/aws/aws-sdk-go-v2/service/qldb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/quilldb/quill"
	"github.com/quilldb/quill/internal/testenv"
	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/merkle"
	"github.com/quilldb/quill/verify"
	"github.com/stretchr/testify/require"
)

// TestExportSurvivesSIGKILL kills quill serve with SIGKILL in the middle of
// a journal export to MinIO, starts it again, and requires the export to
// complete with every block of the range exactly once, verified and folding
// to the ledger's digest.
func TestExportSurvivesSIGKILL(t *testing.T) {
	testenv.SetS3Env(t) // the child processes inherit it, as a user's shell would pass it
	bucket := testenv.NewBucket(t)
	bin := buildQuill(t)
	dir := t.TempDir()
	const blocks = 3000
	db, err := quill.Open(dir, nil)
	require.NoError(t, err)
	_, err = db.CreateLedger(context.Background(), &quill.CreateLedgerInput{Name: "big", PermissionsMode: quill.PermissionsStandard})
	require.NoError(t, err)
	l, err := db.Ledger(context.Background(), "big")
	require.NoError(t, err)
	require.NoError(t, l.Execute(context.Background(), func(tx *quill.Tx) error { _, err := tx.CreateTable("T"); return err }))
	for i := range blocks - 2 {
		require.NoError(t, l.Execute(context.Background(), func(tx *quill.Tx) error {
			_, err := tx.Insert("T", []byte(fmt.Sprintf(`{n:%d,pad:"%s"}`, i, strings.Repeat("q", 100))))
			return err
		}))
	}
	require.NoError(t, db.Close())
	time.Sleep(2 * time.Millisecond) // the end is exclusive, to the millisecond
	end := time.Now()

	// Paced, so that the kill lands in the middle.
	url, _, cmd := startServe(t, bin, dir, "-export-object-size", "30000", "-export-max-blocks-per-second", "1500")
	client := newQLDBClient(url)
	start := end.Add(-time.Hour)
	out, err := client.ExportJournalToS3(context.Background(), &qldb.ExportJournalToS3Input{Name: aws.String("big"),
		InclusiveStartTime: &start, ExclusiveEndTime: &end, RoleArn: aws.String("arn:aws:iam::123456789012:role/QLDBExport"),
		OutputFormat: types.OutputFormatIonBinary,
		S3ExportConfiguration: &types.S3ExportConfiguration{Bucket: &bucket, Prefix: aws.String("crash/"),
			EncryptionConfiguration: &types.S3EncryptionConfiguration{ObjectEncryptionType: types.S3ObjectEncryptionTypeNoEncryption}}})
	require.NoError(t, err)
	s3c := testenv.S3Client(t)
	dataObjects := func() int {
		list, err := s3c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: aws.String("crash/")})
		require.NoError(t, err)
		n := 0
		for _, o := range list.Contents {
			if !strings.HasSuffix(*o.Key, ".manifest") {
				n++
			}
		}
		return n
	}
	deadline := time.Now().Add(30 * time.Second)
	for dataObjects() < 3 {
		require.True(t, time.Now().Before(deadline), "the export wrote nothing")
		time.Sleep(10 * time.Millisecond)
	}
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	_, err = quillDescribe(client, *out.ExportId)
	require.Error(t, err, "the server is dead")
	require.Less(t, dataObjects(), 3000*130/30000, "killed in the middle of the export")
	var d *types.JournalS3ExportDescription

	url, _, cmd = startServe(t, bin, dir)
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	client = newQLDBClient(url)
	deadline = time.Now().Add(60 * time.Second)
	for {
		d, err = quillDescribe(client, *out.ExportId)
		require.NoError(t, err)
		if d.Status != types.ExportStatusInProgress {
			break
		}
		require.True(t, time.Now().Before(deadline), "the resumed export did not finish")
		time.Sleep(20 * time.Millisecond)
	}
	require.Equal(t, types.ExportStatusCompleted, d.Status)

	digest, err := client.GetDigest(context.Background(), &qldb.GetDigestInput{Name: aws.String("big")})
	require.NoError(t, err)
	get := func(key string) []byte {
		obj, err := s3c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
		require.NoError(t, err, key)
		defer obj.Body.Close()
		data, err := io.ReadAll(obj.Body)
		require.NoError(t, err)
		return data
	}
	list, err := s3c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: aws.String("crash/")})
	require.NoError(t, err)
	var manifestKey string
	for _, o := range list.Contents {
		if strings.HasSuffix(*o.Key, ".completed.manifest") {
			manifestKey = *o.Key
		}
	}
	require.NotEmpty(t, manifestKey)
	m, err := ion.Parse(get(manifestKey))
	require.NoError(t, err)
	keys, _ := m.Get("keys")
	rangeOf := regexp.MustCompile(`\.(\d+)-(\d+)\.ion$`)
	var chain verify.ChainVerifier
	next := uint64(0)
	for _, k := range keys.Elems() {
		r := rangeOf.FindStringSubmatch(k.Text())
		require.NotNil(t, r, k.Text())
		first, _ := strconv.ParseUint(r[1], 10, 64)
		last, _ := strconv.ParseUint(r[2], 10, 64)
		require.Equal(t, next, first, "contiguous, no block twice")
		vals, err := ion.ParseAll(get(k.Text()))
		require.NoError(t, err)
		require.Len(t, vals, int(last-first+1))
		for _, v := range vals {
			require.NoError(t, chain.Add(v))
		}
		next = last + 1
	}
	require.Equal(t, uint64(blocks), next, "every block of the range")
	folded, ok := chain.Digest()
	require.True(t, ok)
	require.Equal(t, merkle.Hash(digest.Digest), folded)
}

func newQLDBClient(url string) *qldb.Client {
	return qldb.New(qldb.Options{Region: testenv.Region, BaseEndpoint: aws.String(url),
		Credentials: testenv.AWSConfig(url).Credentials, Retryer: aws.NopRetryer{}})
}

func quillDescribe(c *qldb.Client, id string) (*types.JournalS3ExportDescription, error) {
	out, err := c.DescribeJournalS3Export(context.Background(), &qldb.DescribeJournalS3ExportInput{Name: aws.String("big"), ExportId: aws.String(id)})
	if err != nil {
		return nil, err
	}
	return out.ExportDescription, nil
}
