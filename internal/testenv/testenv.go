// Package testenv gives tests the services that scripts/test.sh starts on
// loopback (MinIO for S3, kinesalite for Kinesis): their endpoints and
// credentials, and fresh buckets. A test that needs a service skips when
// the service is not configured, unless QUILL_TEST_REQUIRE_SERVICES is set
// (scripts/test.sh sets it), in which case it fails.
package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// The environment scripts/test.sh sets.
const (
	S3EndpointVar = "QUILL_TEST_S3_ENDPOINT" // MinIO's URL
	S3KMSKeyVar   = "QUILL_TEST_S3_KMS_KEY"  // the key id MinIO's KMS knows
	requireVar    = "QUILL_TEST_REQUIRE_SERVICES"
)

// The credentials of the test services.
const (
	AccessKey = "minioadmin"
	SecretKey = "minioadmin123"
	Region    = "us-east-1"
)

func need(t testing.TB, envVar, service string) string {
	t.Helper()
	v := os.Getenv(envVar)
	if v != "" {
		return v
	}
	if os.Getenv(requireVar) != "" {
		t.Fatalf("%s is not set: %s was not started (scripts/test.sh starts it)", envVar, service)
	}
	t.Skipf("%s is not set: run the tests with bash scripts/test.sh, which starts %s", envVar, service)
	return ""
}

// S3Endpoint returns MinIO's URL.
func S3Endpoint(t testing.TB) string { return need(t, S3EndpointVar, "MinIO") }

// S3KMSKey returns the KMS key id MinIO encrypts SSE_KMS objects with.
func S3KMSKey(t testing.TB) string { return need(t, S3KMSKeyVar, "MinIO") }

// AWSConfig is an SDK configuration for the test services: static
// credentials, the test region, and endpoint as the base endpoint.
func AWSConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
		BaseEndpoint: aws.String(endpoint),
	}
}

// S3Client returns a path-style S3 client for MinIO.
func S3Client(t testing.TB) *s3.Client {
	return s3.NewFromConfig(AWSConfig(S3Endpoint(t)), func(o *s3.Options) { o.UsePathStyle = true })
}

// NewBucket creates a bucket with a fresh name and returns its name.
func NewBucket(t testing.TB) string {
	t.Helper()
	c := S3Client(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "quill-test-" + hex.EncodeToString(b[:])
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &name}); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
	return name
}

// SetS3Env points the SDK's standard configuration of this process (and
// of the processes it starts) at MinIO, as a user would.
func SetS3Env(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL_S3", S3Endpoint(t))
	t.Setenv("AWS_ACCESS_KEY_ID", AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", SecretKey)
	t.Setenv("AWS_REGION", Region)
}

// The environment of the Kinesis tests.
const (
	KinesisEndpointVar = "QUILL_TEST_KINESIS_ENDPOINT" // kinesalite's URL
	NodePathVar        = "QUILL_TEST_NODE_PATH"        // node_modules with aws-kinesis-agg and the Node.js QLDB driver
)

// KinesisEndpoint returns kinesalite's URL.
func KinesisEndpoint(t testing.TB) string { return need(t, KinesisEndpointVar, "kinesalite") }

// KinesisClient returns a client for kinesalite.
func KinesisClient(t testing.TB) *kinesis.Client {
	return kinesis.NewFromConfig(AWSConfig(KinesisEndpoint(t)))
}

// NewKinesisStream creates a one-shard stream with a fresh name, waits
// until it is ACTIVE, and returns its name.
func NewKinesisStream(t testing.TB, shards int32) string {
	t.Helper()
	c := KinesisClient(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "quill-test-" + hex.EncodeToString(b[:])
	if _, err := c.CreateStream(context.Background(), &kinesis.CreateStreamInput{StreamName: &name, ShardCount: &shards}); err != nil {
		t.Fatalf("create stream %s: %v", name, err)
	}
	w := kinesis.NewStreamExistsWaiter(c)
	if err := w.Wait(context.Background(), &kinesis.DescribeStreamInput{StreamName: &name}, 30*time.Second,
		func(o *kinesis.StreamExistsWaiterOptions) {
			o.MinDelay = 20 * time.Millisecond
			o.MaxDelay = 200 * time.Millisecond
		}); err != nil {
		t.Fatalf("stream %s: %v", name, err)
	}
	return name
}

// ReadKinesisStream returns every record of every shard of the stream, in
// each shard's order.
func ReadKinesisStream(t testing.TB, name string) []ktypes.Record {
	t.Helper()
	c := KinesisClient(t)
	ctx := context.Background()
	shards, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: &name})
	if err != nil {
		t.Fatalf("list shards of %s: %v", name, err)
	}
	var out []ktypes.Record
	for _, sh := range shards.Shards {
		it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: &name, ShardId: sh.ShardId,
			ShardIteratorType: ktypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatalf("shard iterator: %v", err)
		}
		iter := it.ShardIterator
		for iter != nil {
			got, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(10000)})
			if err != nil {
				t.Fatalf("get records: %v", err)
			}
			out = append(out, got.Records...)
			if len(got.Records) == 0 {
				break
			}
			iter = got.NextShardIterator
		}
	}
	return out
}

// Deaggregate unpacks Kinesis records with AWS's aws-kinesis-agg (run by
// node): the user records' data, in order.
func Deaggregate(t testing.TB, records []ktypes.Record) [][]byte {
	t.Helper()
	nodePath := need(t, NodePathVar, "the node modules of the stream tests")
	_, file, _, _ := runtime.Caller(0)
	var in bytes.Buffer
	for _, r := range records {
		line, _ := json.Marshal(map[string]string{"partitionKey": aws.ToString(r.PartitionKey),
			"data": base64.StdEncoding.EncodeToString(r.Data), "sequenceNumber": aws.ToString(r.SequenceNumber)})
		in.Write(append(line, '\n'))
	}
	cmd := exec.Command("node", filepath.Join(filepath.Dir(file), "deaggregate.js")) //nolint:gosec // the script beside this file
	cmd.Env = append(os.Environ(), "NODE_PATH="+nodePath)
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("aws-kinesis-agg: %v: %s", err, stderr.String())
	}
	var data [][]byte
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		var users []struct{ Data string }
		if err := json.Unmarshal(line, &users); err != nil {
			t.Fatalf("aws-kinesis-agg printed %q: %v", line, err)
		}
		for _, u := range users {
			b, err := base64.StdEncoding.DecodeString(u.Data)
			if err != nil {
				t.Fatalf("aws-kinesis-agg data: %v", err)
			}
			data = append(data, b)
		}
	}
	return data
}

// SetKinesisEnv points the SDK's standard configuration of this process
// (and of the processes it starts) at kinesalite.
func SetKinesisEnv(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL_KINESIS", KinesisEndpoint(t))
	t.Setenv("AWS_ACCESS_KEY_ID", AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", SecretKey)
	t.Setenv("AWS_REGION", Region)
}

// NodePath returns the node_modules directory scripts/services.sh
// installed (aws-kinesis-agg, kinesalite, AWS's QLDB driver for Node.js).
func NodePath(t testing.TB) string { return need(t, NodePathVar, "the npm packages") }

// RunNodeQLDBDriver runs internal/testenv/qldbdriver.js, AWS's QLDB driver
// for Node.js, against a server's ledger and returns its output lines.
func RunNodeQLDBDriver(t testing.TB, endpoint, ledger string) []string {
	t.Helper()
	nodePath := NodePath(t)
	_, file, _, _ := runtime.Caller(0)
	cmd := exec.Command("node", filepath.Join(filepath.Dir(file), "qldbdriver.js"), endpoint, ledger) //nolint:gosec // the script beside this file
	cmd.Env = append(os.Environ(), "NODE_PATH="+nodePath)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node qldbdriver.js: %v\n%s", err, stderr.String())
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}
