// Package testenv gives tests the services that scripts/test.sh starts on
// loopback (MinIO for S3, kinesalite for Kinesis): their endpoints and
// credentials, and fresh buckets. A test that needs a service skips when
// the service is not configured, unless QUILL_TEST_REQUIRE_SERVICES is set
// (scripts/test.sh sets it), in which case it fails.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
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
