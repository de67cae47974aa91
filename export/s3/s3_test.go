package s3

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/quilldb/quill/export"
	"github.com/quilldb/quill/internal/testenv"
	"github.com/stretchr/testify/require"
)

var ctx = context.Background()

func newSink(t *testing.T, endpoint string, cfg Config) *Sink {
	t.Helper()
	return NewFromConfig(testenv.AWSConfig(endpoint), cfg)
}

func TestPutSmallAndMultipartObjects(t *testing.T) {
	bucket := testenv.NewBucket(t)
	s := newSink(t, testenv.S3Endpoint(t), Config{Bucket: bucket})
	small := []byte("{a:1}\n")
	require.NoError(t, s.Put(ctx, "p/small.ion", small))
	large := bytes.Repeat([]byte("0123456789abcdef"), (17<<20)/16+5) // three parts
	require.NoError(t, s.Put(ctx, "p/large.ion", large))
	for key, want := range map[string][]byte{"p/small.ion": small, "p/large.ion": large} {
		got, err := s.Get(ctx, key)
		require.NoError(t, err)
		require.Equal(t, want, got, key)
	}
	head, err := testenv.S3Client(t).HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &bucket, Key: ptr("p/large.ion")})
	require.NoError(t, err)
	require.Contains(t, *head.ETag, "-3", "a multipart upload of three parts")
	require.Empty(t, head.ServerSideEncryption, "NO_ENCRYPTION sends no header")
}

func TestServerSideEncryptionHeaders(t *testing.T) {
	bucket := testenv.NewBucket(t)
	cases := map[string]Config{
		"SSE_S3":  {Bucket: bucket, Encryption: SSES3},
		"SSE_KMS": {Bucket: bucket, Encryption: SSEKMS, KmsKeyArn: testenv.S3KMSKey(t)},
	}
	want := map[string]types.ServerSideEncryption{"SSE_S3": types.ServerSideEncryptionAes256, "SSE_KMS": types.ServerSideEncryptionAwsKms}
	for name, cfg := range cases {
		s := newSink(t, testenv.S3Endpoint(t), cfg)
		key := "enc/" + name
		require.NoError(t, s.Put(ctx, key, []byte("secret")), name)
		head, err := testenv.S3Client(t).HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &bucket, Key: &key})
		require.NoError(t, err)
		require.Equal(t, want[name], head.ServerSideEncryption, name)
		got, err := s.Get(ctx, key)
		require.NoError(t, err)
		require.Equal(t, "secret", string(got))
	}
}

func TestMissingBucketIsARefusal(t *testing.T) {
	s := newSink(t, testenv.S3Endpoint(t), Config{Bucket: "quill-no-such-bucket"})
	err := s.Put(ctx, "k", []byte("x"))
	require.ErrorIs(t, err, export.ErrTargetRefused)
	require.ErrorContains(t, err, "NoSuchBucket")
	err = s.Put(ctx, "k", make([]byte, 9<<20))
	require.ErrorIs(t, err, export.ErrTargetRefused, "multipart too")
}

func TestUnavailableStoreIsRetried(t *testing.T) {
	bucket := testenv.NewBucket(t)
	target, err := url.Parse(testenv.S3Endpoint(t))
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var calls atomic.Int32
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 { // the first two requests find the store unavailable
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`<Error><Code>SlowDown</Code><Message>busy</Message></Error>`))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer flaky.Close()
	s := newSink(t, flaky.URL, Config{Bucket: bucket})
	require.NoError(t, s.Put(ctx, "retried", []byte("x")))
	require.Equal(t, int32(3), calls.Load())
	got, err := newSink(t, testenv.S3Endpoint(t), Config{Bucket: bucket}).Get(ctx, "retried")
	require.NoError(t, err)
	require.Equal(t, "x", string(got))
}

func TestStandardConfigurationFindsTheEndpoint(t *testing.T) {
	testenv.SetS3Env(t)
	bucket := testenv.NewBucket(t)
	s, err := New(ctx, Config{Bucket: bucket})
	require.NoError(t, err)
	require.NoError(t, s.Put(ctx, "k", []byte("v")), "AWS_ENDPOINT_URL_S3 and path-style addressing")
}

func ptr[T any](v T) *T { return &v }
