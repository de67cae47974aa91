package kinesis

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/stream"
	"github.com/stretchr/testify/require"
)

// scripted answers PutRecords as the script says: kinesalite cannot fail
// part of a batch or throttle, so these tests script the service's answers
// (the README says so). Each call's request entries are kept.
type scripted struct {
	mu     sync.Mutex
	calls  [][]string // partition keys per call
	answer func(call int, keys []string) (status int, body any)
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in struct {
		StreamName string
		Records    []struct{ PartitionKey string }
	}
	body, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(body, &in)
	keys := make([]string, len(in.Records))
	for i, rec := range in.Records {
		keys[i] = rec.PartitionKey
	}
	s.mu.Lock()
	s.calls = append(s.calls, keys)
	call := len(s.calls)
	s.mu.Unlock()
	status, out := s.answer(call, keys)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(out)
}

func sinkFor(url string, aggregate bool) *Sink {
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")}
	return NewFromConfig(cfg, Config{StreamName: "s", Aggregate: aggregate, MaxAttempts: 5})
}

func records(n int) []stream.Record {
	out := make([]stream.Record, n)
	for i := range out {
		out[i] = stream.ControlRecord("arn", fmt.Sprintf("key-%d", i), stream.ControlCreated)
	}
	return out
}

func ok(keys []string) map[string]any {
	res := make([]map[string]any, len(keys))
	for i := range keys {
		res[i] = map[string]any{"SequenceNumber": fmt.Sprint(i), "ShardId": "shardId-000000000000"}
	}
	return map[string]any{"FailedRecordCount": 0, "Records": res}
}

func TestFailedEntriesAreSentAgainAloneUntilAccepted(t *testing.T) {
	s := &scripted{answer: func(call int, keys []string) (int, any) {
		if call == 1 { // the first batch: entries 1 and 3 throttled
			res := ok(keys)
			recs := res["Records"].([]map[string]any)
			for _, i := range []int{1, 3} {
				recs[i] = map[string]any{"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "slow down"}
			}
			res["FailedRecordCount"] = 2
			return 200, res
		}
		return 200, ok(keys)
	}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	require.NoError(t, sinkFor(srv.URL, false).Put(context.Background(), records(5)), "throttling is not an error")
	require.Equal(t, [][]string{{"key-0", "key-1", "key-2", "key-3", "key-4"}, {"key-1", "key-3"}}, s.calls)
}

func TestEntriesFailingTooOftenAreAnError(t *testing.T) {
	s := &scripted{answer: func(_ int, keys []string) (int, any) {
		res := ok(keys)
		res["Records"].([]map[string]any)[0] = map[string]any{"ErrorCode": "InternalFailure", "ErrorMessage": "x"}
		res["FailedRecordCount"] = 1
		return 200, res
	}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	err := sinkFor(srv.URL, false).Put(context.Background(), records(2))
	require.ErrorContains(t, err, "InternalFailure")
	require.Len(t, s.calls, 5, "MaxAttempts")
	require.Empty(t, stream.Cause(err), "not a refusal: the stream is not impaired by it")
}

func TestRefusalsImpairTheStream(t *testing.T) {
	for code, cause := range map[string]string{
		"ResourceNotFoundException": stream.CauseStreamNotFound,
		"AccessDeniedException":     stream.CausePermissionDenied,
	} {
		s := &scripted{answer: func(int, []string) (int, any) {
			return 400, map[string]any{"__type": code, "message": "no"}
		}}
		srv := httptest.NewServer(s)
		err := sinkFor(srv.URL, true).Put(context.Background(), records(1))
		srv.Close()
		require.Equal(t, cause, stream.Cause(err), code)
	}
}

func TestBatchesStayWithinPutRecordsLimits(t *testing.T) {
	s := &scripted{answer: func(_ int, keys []string) (int, any) { return 200, ok(keys) }}
	srv := httptest.NewServer(s)
	defer srv.Close()
	big := make([]stream.Record, 1200)
	for i := range big {
		big[i] = stream.Record{PartitionKey: fmt.Sprintf("k%d", i), Data: ion.AppendBinary(nil, ion.String(fmt.Sprint(i)))}
	}
	require.NoError(t, sinkFor(srv.URL, false).Put(context.Background(), big))
	require.Len(t, s.calls, 3)
	require.Len(t, s.calls[0], 500)
	require.Len(t, s.calls[2], 200)
}
