package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/qldb"
	"github.com/aws/aws-sdk-go-v2/service/qldb/types"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/quilldb/quill"
	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/journal"
	"github.com/quilldb/quill/merkle"
	"github.com/quilldb/quill/verify"
	"github.com/stretchr/testify/require"
)

var ctx = context.Background()

type fixture struct {
	db     *quill.DB
	srv    *httptest.Server
	client *qldb.Client
}

func staticCreds(id, secret string) aws.CredentialsProvider {
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, Source: "test"}, nil
	})
}

func newFixture(t *testing.T, opts *Options, dbOpts *quill.Options) *fixture {
	t.Helper()
	if dbOpts == nil {
		dbOpts = &quill.Options{}
	}
	dbOpts.Journal.FS = vfs.NewMem()
	db, err := quill.Open("data", dbOpts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	srv := httptest.NewServer(New(db, opts))
	t.Cleanup(srv.Close)
	return &fixture{db: db, srv: srv, client: newClient(srv.URL, "AKIDEXAMPLE", "secret", nil)}
}

func newClient(url, id, secret string, rt http.RoundTripper) *qldb.Client {
	hc := &http.Client{Transport: rt}
	if rt == nil {
		hc = http.DefaultClient
	}
	return qldb.New(qldb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  staticCreds(id, secret),
		Retryer:      aws.NopRetryer{},
		HTTPClient:   hc,
	})
}

func TestEveryOperationThroughTheAWSSDK(t *testing.T) {
	f := newFixture(t, nil, nil)
	c := f.client
	created, err := c.CreateLedger(ctx, &qldb.CreateLedgerInput{Name: aws.String("vehicle-registration"),
		PermissionsMode: types.PermissionsModeStandard, Tags: map[string]*string{"team": aws.String("dmv")}})
	require.NoError(t, err)
	require.Equal(t, types.LedgerStateActive, created.State)
	require.True(t, *created.DeletionProtection)
	require.Equal(t, "arn:aws:qldb:us-east-1:000000000000:ledger/vehicle-registration", *created.Arn)
	require.WithinDuration(t, time.Now(), *created.CreationDateTime, time.Minute)

	desc, err := c.DescribeLedger(ctx, &qldb.DescribeLedgerInput{Name: aws.String("vehicle-registration")})
	require.NoError(t, err)
	require.Equal(t, types.PermissionsModeStandard, desc.PermissionsMode)
	require.Equal(t, types.EncryptionStatusEnabled, desc.EncryptionDescription.EncryptionStatus)
	require.Equal(t, created.CreationDateTime.UnixMilli(), desc.CreationDateTime.UnixMilli())

	list, err := c.ListLedgers(ctx, &qldb.ListLedgersInput{})
	require.NoError(t, err)
	require.Len(t, list.Ledgers, 1)
	require.Nil(t, list.NextToken)

	perm, err := c.UpdateLedgerPermissionsMode(ctx, &qldb.UpdateLedgerPermissionsModeInput{
		Name: aws.String("vehicle-registration"), PermissionsMode: types.PermissionsModeAllowAll})
	require.NoError(t, err)
	require.Equal(t, types.PermissionsModeAllowAll, perm.PermissionsMode)

	arn := created.Arn
	_, err = c.TagResource(ctx, &qldb.TagResourceInput{ResourceArn: arn, Tags: map[string]*string{"env": aws.String("test"), "b c": aws.String("x")}})
	require.NoError(t, err)
	_, err = c.UntagResource(ctx, &qldb.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"b c"}})
	require.NoError(t, err)
	tags, err := c.ListTagsForResource(ctx, &qldb.ListTagsForResourceInput{ResourceArn: arn})
	require.NoError(t, err)
	require.Equal(t, map[string]*string{"team": aws.String("dmv"), "env": aws.String("test")}, tags.Tags)

	// Deletion protection: refused, then lifted, then the ledger goes.
	_, err = c.DeleteLedger(ctx, &qldb.DeleteLedgerInput{Name: aws.String("vehicle-registration")})
	var precondition *types.ResourcePreconditionNotMetException
	require.ErrorAs(t, err, &precondition)
	up, err := c.UpdateLedger(ctx, &qldb.UpdateLedgerInput{Name: aws.String("vehicle-registration"), DeletionProtection: aws.Bool(false)})
	require.NoError(t, err)
	require.False(t, *up.DeletionProtection)
	_, err = c.DeleteLedger(ctx, &qldb.DeleteLedgerInput{Name: aws.String("vehicle-registration")})
	require.NoError(t, err)
	_, err = c.DescribeLedger(ctx, &qldb.DescribeLedgerInput{Name: aws.String("vehicle-registration")})
	var notFound *types.ResourceNotFoundException
	require.ErrorAs(t, err, &notFound)
	require.Equal(t, "LEDGER", *notFound.ResourceType)
}

func TestErrorsAreTypedExceptions(t *testing.T) {
	f := newFixture(t, nil, &quill.Options{MaxLedgers: 1})
	c := f.client
	_, err := c.CreateLedger(ctx, &qldb.CreateLedgerInput{Name: aws.String("a"), PermissionsMode: types.PermissionsModeAllowAll})
	require.NoError(t, err)

	_, err = c.CreateLedger(ctx, &qldb.CreateLedgerInput{Name: aws.String("a"), PermissionsMode: types.PermissionsModeAllowAll})
	var exists *types.ResourceAlreadyExistsException
	require.ErrorAs(t, err, &exists)

	_, err = c.CreateLedger(ctx, &qldb.CreateLedgerInput{Name: aws.String("b"), PermissionsMode: types.PermissionsModeAllowAll})
	var limit *types.LimitExceededException
	require.ErrorAs(t, err, &limit)

	_, err = c.CreateLedger(ctx, &qldb.CreateLedgerInput{Name: aws.String("bad--name"), PermissionsMode: types.PermissionsModeAllowAll})
	var invalid *types.InvalidParameterException
	require.ErrorAs(t, err, &invalid)
	require.Equal(t, "Name", *invalid.ParameterName)
	require.Contains(t, *invalid.Message, "two hyphens")

	_, err = c.GetDigest(ctx, &qldb.GetDigestInput{Name: aws.String("missing")})
	var notFound *types.ResourceNotFoundException
	require.ErrorAs(t, err, &notFound)

	_, err = c.GetBlock(ctx, &qldb.GetBlockInput{Name: aws.String("a"), BlockAddress: &types.ValueHolder{IonText: aws.String("{strandId:1}")}})
	require.ErrorAs(t, err, &invalid)
	require.Equal(t, "BlockAddress", *invalid.ParameterName)

	_, err = c.GetRevision(ctx, &qldb.GetRevisionInput{Name: aws.String("a"),
		BlockAddress: &types.ValueHolder{IonText: aws.String("{strandId:\"x\",sequenceNo:0}")}, DocumentId: aws.String("0123456789012345678901")})
	require.ErrorAs(t, err, &invalid)
}

func TestPagingThroughMoreThanAHundredLedgers(t *testing.T) {
	f := newFixture(t, nil, &quill.Options{MaxLedgers: 1000})
	for i := range 205 {
		_, err := f.db.CreateLedger(ctx, &quill.CreateLedgerInput{Name: fmt.Sprintf("l-%03d", i), PermissionsMode: quill.PermissionsAllowAll})
		require.NoError(t, err)
	}
	var names []string
	p := qldb.NewListLedgersPaginator(f.client, &qldb.ListLedgersInput{MaxResults: aws.Int32(100)})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		require.NoError(t, err)
		pages++
		for _, l := range page.Ledgers {
			names = append(names, *l.Name)
		}
	}
	require.Equal(t, 3, pages)
	require.Len(t, names, 205)
	require.Equal(t, "l-204", names[204])
}

// dotFromSpec is QLDB's pairwise hash written here from the spec (§3.2),
// independently of the merkle package, as the AWS samples do it.
func dotFromSpec(a, b []byte) []byte {
	if len(a) == 0 {
		return b
	}
	if len(b) == 0 {
		return a
	}
	less := false
	for i := 31; i >= 0; i-- {
		if a[i] != b[i] {
			less = int8(a[i]) < int8(b[i])
			break
		}
	}
	var sum [32]byte
	if less {
		sum = sha256.Sum256(append(append([]byte{}, a...), b...))
	} else {
		sum = sha256.Sum256(append(append([]byte{}, b...), a...))
	}
	return sum[:]
}

func TestRevisionProofVerifiesAgainstTheDigest(t *testing.T) {
	f := newFixture(t, nil, nil)
	_, err := f.db.CreateLedger(ctx, &quill.CreateLedgerInput{Name: "proofs", PermissionsMode: quill.PermissionsStandard})
	require.NoError(t, err)
	l, err := f.db.Ledger(ctx, "proofs")
	require.NoError(t, err)
	var id string
	require.NoError(t, l.Execute(ctx, func(tx *quill.Tx) error {
		if _, err := tx.CreateTable("Vehicle"); err != nil {
			return err
		}
		id, err = tx.Insert("Vehicle", []byte(`{VIN:"1N4AL11D75C109151",PendingPenaltyTicketAmount:90.25}`))
		return err
	}))
	for i := range 5 {
		require.NoError(t, l.Execute(ctx, func(tx *quill.Tx) error {
			_, err := tx.Insert("Vehicle", []byte(fmt.Sprintf(`{VIN:"V%d"}`, i)))
			return err
		}))
	}
	hist, err := l.History(ctx, "Vehicle", id, time.Time{}, time.Time{})
	require.NoError(t, err)

	digest, err := f.client.GetDigest(ctx, &qldb.GetDigestInput{Name: aws.String("proofs")})
	require.NoError(t, err)
	require.Len(t, digest.Digest, 32)
	// The caller writes the address with spaces, as the samples do.
	addr := fmt.Sprintf(`{strandId: "%s", sequenceNo: %d}`, hist[0].Address.Strand, hist[0].Address.SequenceNo)
	rev, err := f.client.GetRevision(ctx, &qldb.GetRevisionInput{Name: aws.String("proofs"),
		BlockAddress: &types.ValueHolder{IonText: aws.String(addr)}, DocumentId: aws.String(id),
		DigestTipAddress: digest.DigestTipAddress})
	require.NoError(t, err)

	revision, err := ion.ParseText(*rev.Revision.IonText)
	require.NoError(t, err)
	proof, err := verify.ParseProof([]byte(*rev.Proof.IonText))
	require.NoError(t, err)
	// With Quill's verifier...
	require.NoError(t, verify.RevisionAgainstDigest(revision, proof, digest.Digest))
	hashField, _ := revision.Get("hash")
	var hashes []merkle.Hash
	for _, p := range proof {
		hashes = append(hashes, merkle.Hash(p))
	}
	require.Equal(t, merkle.Hash(digest.Digest), merkle.Fold(merkle.Hash(hashField.Bytes()), hashes))
	// ...and with the samples' fold written from the spec.
	acc := hashField.Bytes()
	for _, p := range proof {
		acc = dotFromSpec(acc, p)
	}
	require.Equal(t, digest.Digest, acc)

	block, err := f.client.GetBlock(ctx, &qldb.GetBlockInput{Name: aws.String("proofs"),
		BlockAddress: &types.ValueHolder{IonText: aws.String(addr)}, DigestTipAddress: digest.DigestTipAddress})
	require.NoError(t, err)
	blockValue, err := ion.ParseText(*block.Block.IonText)
	require.NoError(t, err)
	blockProof, err := verify.ParseProof([]byte(*block.Proof.IonText))
	require.NoError(t, err)
	require.NoError(t, verify.BlockAgainstDigest(blockValue, blockProof, digest.Digest))
	noProof, err := f.client.GetBlock(ctx, &qldb.GetBlockInput{Name: aws.String("proofs"),
		BlockAddress: &types.ValueHolder{IonText: aws.String(addr)}})
	require.NoError(t, err)
	require.Nil(t, noProof.Proof)
}

// rawCall sends a request the SDK would not, to test input handling.
func rawCall(t *testing.T, url, method, path, body string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url+path, strings.NewReader(body))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	out := map[string]any{}
	if len(raw) > 0 && resp.Header.Get("Content-Type") == "application/json" {
		require.NoError(t, json.Unmarshal(raw, &out), "%s", raw)
	}
	return resp.StatusCode, resp.Header, out
}

func TestBadInputGetsAWSShapedErrors(t *testing.T) {
	f := newFixture(t, &Options{MaxBodyBytes: 1024}, nil)
	cases := []struct {
		name, method, path, body string
		status                   int
		errType, param           string
		message                  string // a part of the message, when it matters
	}{
		{"malformed JSON", "POST", "/ledgers", `{"Name":`, 400, "SerializationException", "", ""},
		{"member of the wrong type", "POST", "/ledgers", `{"Name":5,"PermissionsMode":"ALLOW_ALL"}`, 400, "InvalidParameterException", "Name", ""},
		{"missing member", "POST", "/ledgers", `{"Name":"x"}`, 400, "InvalidParameterException", "PermissionsMode", ""},
		{"oversized body", "POST", "/ledgers", `{"Name":"` + strings.Repeat("x", 2000) + `"}`, 400, "RequestEntityTooLargeException", "", ""},
		{"unknown path", "GET", "/nope", ``, 404, "UnknownOperationException", "", ""},
		{"wrong method", "PUT", "/ledgers", ``, 404, "UnknownOperationException", "", ""},
		{"bad ledger name", "GET", "/ledgers/-x-", ``, 400, "InvalidParameterException", "Name", ""},
		{"bad max_results", "GET", "/ledgers?max_results=500", ``, 400, "InvalidParameterException", "MaxResults", `got "500"`},
		{"max_results 0", "GET", "/ledgers?max_results=0", ``, 400, "InvalidParameterException", "MaxResults", `got "0"`},
		{"bad token", "GET", "/ledgers?next_token=zz", ``, 400, "InvalidParameterException", "NextToken", ""},
		{"body not an object", "POST", "/ledgers", `["x"]`, 400, "SerializationException", "", "must be a JSON object"},
		{"body a string", "POST", "/ledgers", `"x"`, 400, "SerializationException", "", "must be a JSON object"},
		{"bad KMS key", "POST", "/ledgers", `{"Name":"k","PermissionsMode":"STANDARD","KmsKey":"my key"}`, 400, "InvalidParameterException", "KmsKey", "alias"},
		{"control character in a tag key", "POST", "/ledgers", `{"Name":"k","PermissionsMode":"STANDARD","Tags":{"a\u0007b":"v"}}`, 400, "InvalidParameterException", "Tags", "control"},
		{"control character in a tag value", "POST", "/ledgers", `{"Name":"k","PermissionsMode":"STANDARD","Tags":{"a":"v\nw"}}`, 400, "InvalidParameterException", "Tags", "control"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, hdr, body := rawCall(t, f.srv.URL, c.method, c.path, c.body)
			require.Equal(t, c.status, status)
			require.Equal(t, c.errType, hdr.Get("X-Amzn-ErrorType"))
			require.Equal(t, c.errType, body["__type"])
			require.NotEmpty(t, body["Message"])
			require.NotEmpty(t, hdr.Get("x-amzn-RequestId"))
			if c.param != "" {
				require.Equal(t, c.param, body["ParameterName"])
			}
			require.Contains(t, body["Message"], c.message)
		})
	}
	// A key QLDB accepts is recorded as given.
	status, _, body := rawCall(t, f.srv.URL, "POST", "/ledgers",
		`{"Name":"kms","PermissionsMode":"STANDARD","KmsKey":"arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}`)
	require.Equal(t, 200, status, "%v", body)
	require.Equal(t, "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", body["KmsKeyArn"])
	status, _, _ = rawCall(t, f.srv.URL, "GET", "/healthz", "")
	require.Equal(t, 200, status)
}

// tamperer changes the body of signed requests after signing.
type tamperer struct{}

func (tamperer) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		b, _ := io.ReadAll(r.Body)
		b = bytes.Replace(b, []byte(`"ALLOW_ALL"`), []byte(`"STANDARD"`), 1)
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.ContentLength = int64(len(b))
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestStrictAuthChecksSigV4(t *testing.T) {
	f := newFixture(t, &Options{Keys: map[string]string{"AKIDEXAMPLE": "secret"}}, nil)
	_, err := f.client.CreateLedger(ctx, &qldb.CreateLedgerInput{Name: aws.String("signed"), PermissionsMode: types.PermissionsModeAllowAll})
	require.NoError(t, err, "a correctly signed request passes")
	arn := "arn:aws:qldb:us-east-1:000000000000:ledger/signed"
	_, err = f.client.ListTagsForResource(ctx, &qldb.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	require.NoError(t, err, "the double-escaped canonical URI of a /tags/ path")
	_, err = f.client.UntagResource(ctx, &qldb.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"a b", "c"}})
	require.NoError(t, err, "a canonical query with repeated keys and spaces")

	for name, c := range map[string]*qldb.Client{
		"wrong secret":  newClient(f.srv.URL, "AKIDEXAMPLE", "wrong", nil),
		"unknown key":   newClient(f.srv.URL, "AKIDOTHER", "secret", nil),
		"tampered body": newClient(f.srv.URL, "AKIDEXAMPLE", "secret", tamperer{}),
	} {
		_, err := c.CreateLedger(ctx, &qldb.CreateLedgerInput{Name: aws.String("evil"), PermissionsMode: types.PermissionsModeAllowAll})
		require.Error(t, err, name)
		var re interface{ HTTPStatusCode() int }
		require.True(t, errors.As(err, &re), name)
		require.Equal(t, 403, re.HTTPStatusCode(), name)
	}
	status, hdr, _ := rawCall(t, f.srv.URL, "GET", "/ledgers", "")
	require.Equal(t, 403, status)
	require.Equal(t, "MissingAuthenticationTokenException", hdr.Get("X-Amzn-ErrorType"))
	_, err = f.db.DescribeLedger(ctx, "evil")
	require.Error(t, err, "no rejected request created anything")
}

func TestTimestampsAreEpochSeconds(t *testing.T) {
	f := newFixture(t, nil, &quill.Options{Journal: journal.Options{Clock: func() time.Time { return time.UnixMilli(1700000000123) }}})
	_, err := f.db.CreateLedger(ctx, &quill.CreateLedgerInput{Name: "t", PermissionsMode: quill.PermissionsAllowAll})
	require.NoError(t, err)
	_, _, body := rawCall(t, f.srv.URL, "GET", "/ledgers/t", "")
	require.InDelta(t, 1700000000.123, body["CreationDateTime"], 1e-6)
	_, _, digest := rawCall(t, f.srv.URL, "POST", "/ledgers/t/digest", "")
	raw, err := base64.StdEncoding.DecodeString(digest["Digest"].(string))
	require.NoError(t, err)
	require.Len(t, raw, 32)
}
