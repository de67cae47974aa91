// Package server serves a quill.DB over QLDB's REST-JSON control plane
// (API 2019-01-02) and its qldb-session data plane (API 2019-07-11, AWS
// JSON 1.0, X-Amz-Target QLDBSession.SendCommand, on the same listener),
// so that AWS SDKs, the AWS CLI, QLDB's drivers and samples work against
// Quill unchanged: ledgers, tags, GetDigest, GetBlock, GetRevision,
// exports, streams, and PartiQL in sessions. Errors carry QLDB's exception
// names in the X-Amzn-ErrorType header and the __type member. Requests may
// be unsigned or SigV4-signed; with Options.Keys set, a valid SigV4
// signature from one of the keys is required.
package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/quilldb/quill"
)

// Options configure the handler. A nil *Options means all defaults.
type Options struct {
	// Logger receives one structured access-log line per request. Default:
	// discard.
	Logger *slog.Logger
	// Keys maps access key ids to secret keys. When it is not empty, every
	// request must carry a valid SigV4 signature (service qldb) made with
	// one of them; otherwise signed and unsigned requests are accepted.
	Keys map[string]string
	// MaxBodyBytes caps request bodies. Default: 2 MiB (an IonText may be 1
	// MiB).
	MaxBodyBytes int64
	// MaxClockSkew is how far a signed request's X-Amz-Date may be from the
	// server's clock. Default: 15 minutes, as AWS.
	MaxClockSkew time.Duration
	// Clock is the time source for signature checks and session expiry.
	// Default: time.Now.
	Clock func() time.Time
	// MaxSessionsPerLedger bounds the open qldb-session sessions of a
	// ledger; StartSession past it fails with LimitExceededException.
	// Default: 1500, QLDB's quota.
	MaxSessionsPerLedger int
	// SessionIdleTimeout ends a session that received no command for this
	// long (its open transaction is aborted); its token then gets
	// InvalidSessionException and drivers start a new session. Default:
	// 15 minutes.
	SessionIdleTimeout time.Duration
}

func (o *Options) ensureDefaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = 2 << 20
	}
	if o.MaxClockSkew == 0 {
		o.MaxClockSkew = 15 * time.Minute
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.MaxSessionsPerLedger == 0 {
		o.MaxSessionsPerLedger = 1500
	}
	if o.SessionIdleTimeout == 0 {
		o.SessionIdleTimeout = 15 * time.Minute
	}
}

// Handler is the control-plane http.Handler.
type Handler struct {
	db       *quill.DB
	opts     Options
	sessions sessions
}

// New returns a handler serving db.
func New(db *quill.DB, opts *Options) *Handler {
	var o Options
	if opts != nil {
		o = *opts
	}
	o.ensureDefaults()
	h := &Handler{db: db, opts: o}
	h.sessions.byToken = map[string]*session{}
	h.sessions.perLedger = map[string]int{}
	return h
}

// request is one call being served.
type request struct {
	ctx   context.Context
	w     http.ResponseWriter
	r     *http.Request
	body  []byte
	op    string
	parts []string // unescaped path segments
	// logAttrs are added to the request's access-log line.
	logAttrs []slog.Attr
	// dynamoDB marks a request of DynamoDB's protocol: its errors take
	// DynamoDB's shape.
	dynamoDB bool
	// session marks a qldb-session request (AWS JSON 1.0).
	session bool
}

// ServeHTTP routes a request to its operation.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := requestID()
	w.Header().Set("x-amzn-RequestId", id)
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	req := &request{ctx: r.Context(), w: rec, r: r, op: "Unknown"}
	err := h.serve(req)
	switch {
	case err != nil && req.dynamoDB:
		writeDynamoDBError(rec, err)
	case err != nil:
		writeError(rec, err, req.session || isSession(r))
	}
	attrs := append([]slog.Attr{
		slog.String("request_id", id), slog.String("operation", req.op), slog.String("method", r.Method),
		slog.String("path", r.URL.EscapedPath()), slog.Int("status", rec.status),
		slog.Duration("duration", time.Since(start)), slog.String("remote", r.RemoteAddr)}, req.logAttrs...)
	h.opts.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
}

func (h *Handler) serve(req *request) error {
	r := req.r
	if r.URL.Path == "/healthz" && r.Method == http.MethodGet {
		req.op = "Health"
		req.w.Header().Set("Content-Type", "text/plain")
		_, err := io.WriteString(req.w, "ok\n")
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(req.w, r.Body, h.opts.MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return apiError(http.StatusBadRequest, "RequestEntityTooLargeException",
				fmt.Sprintf("the request body is larger than %d bytes", h.opts.MaxBodyBytes))
		}
		return apiError(http.StatusBadRequest, "SerializationException", "cannot read the request body: "+err.Error())
	}
	req.body = body
	req.dynamoDB = isDynamoDB(r)
	if len(h.opts.Keys) > 0 {
		if err := h.verifySignature(r, body); err != nil {
			return err
		}
	}
	if isDynamoDB(r) {
		return h.serveDynamoDB(req)
	}
	if isSession(r) {
		return h.serveSession(req)
	}
	// Route on the escaped path: an ARN's %2F must not split a segment.
	segs := strings.Split(strings.Trim(r.URL.EscapedPath(), "/"), "/")
	for _, s := range segs {
		u, err := url.PathUnescape(s)
		if err != nil {
			return apiError(http.StatusBadRequest, "InvalidParameterException", "malformed path segment "+s)
		}
		req.parts = append(req.parts, u)
	}
	op, handle := route(r.Method, req.parts)
	if handle == nil {
		return apiError(http.StatusNotFound, "UnknownOperationException",
			fmt.Sprintf("no operation for %s %s", r.Method, r.URL.EscapedPath()))
	}
	req.op = op
	return handle(h, req)
}

type handlerFunc func(h *Handler, req *request) error

// route maps method and path to an operation.
func route(method string, p []string) (string, handlerFunc) {
	switch {
	case len(p) == 1 && p[0] == "ledgers":
		switch method {
		case http.MethodPost:
			return "CreateLedger", (*Handler).createLedger
		case http.MethodGet:
			return "ListLedgers", (*Handler).listLedgers
		}
	case len(p) == 2 && p[0] == "ledgers":
		switch method {
		case http.MethodGet:
			return "DescribeLedger", (*Handler).describeLedger
		case http.MethodPatch:
			return "UpdateLedger", (*Handler).updateLedger
		case http.MethodDelete:
			return "DeleteLedger", (*Handler).deleteLedger
		}
	case len(p) == 3 && p[0] == "ledgers":
		switch {
		case p[2] == "permissions-mode" && method == http.MethodPatch:
			return "UpdateLedgerPermissionsMode", (*Handler).updatePermissionsMode
		case p[2] == "digest" && method == http.MethodPost:
			return "GetDigest", (*Handler).getDigest
		case p[2] == "block" && method == http.MethodPost:
			return "GetBlock", (*Handler).getBlock
		case p[2] == "revision" && method == http.MethodPost:
			return "GetRevision", (*Handler).getRevision
		case p[2] == "journal-s3-exports" && method == http.MethodPost:
			return "ExportJournalToS3", (*Handler).exportJournalToS3
		case p[2] == "journal-s3-exports" && method == http.MethodGet:
			return "ListJournalS3ExportsForLedger", (*Handler).listJournalS3Exports
		case p[2] == "journal-kinesis-streams" && method == http.MethodPost:
			return "StreamJournalToKinesis", (*Handler).streamJournalToKinesis
		case p[2] == "journal-kinesis-streams" && method == http.MethodGet:
			return "ListJournalKinesisStreamsForLedger", (*Handler).listJournalKinesisStreams
		}
	case len(p) == 4 && p[0] == "ledgers" && p[2] == "journal-kinesis-streams" && method == http.MethodGet:
		return "DescribeJournalKinesisStream", (*Handler).describeJournalKinesisStream
	case len(p) == 4 && p[0] == "ledgers" && p[2] == "journal-kinesis-streams" && method == http.MethodDelete:
		return "CancelJournalKinesisStream", (*Handler).cancelJournalKinesisStream
	case len(p) == 4 && p[0] == "ledgers" && p[2] == "journal-s3-exports" && method == http.MethodGet:
		return "DescribeJournalS3Export", (*Handler).describeJournalS3Export
	case len(p) == 1 && p[0] == "journal-s3-exports" && method == http.MethodGet:
		return "ListJournalS3Exports", (*Handler).listJournalS3Exports
	case len(p) == 2 && p[0] == "tags":
		switch method {
		case http.MethodPost:
			return "TagResource", (*Handler).tagResource
		case http.MethodDelete:
			return "UntagResource", (*Handler).untagResource
		case http.MethodGet:
			return "ListTagsForResource", (*Handler).listTags
		}
	}
	return "", nil
}

// decode reads the JSON body into v. An empty body is an empty object.
// Errors name the member whose value has the wrong type.
func (req *request) decode(v any) error {
	body := bytes.TrimSpace(req.body)
	if len(body) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field == "" {
			return apiError(http.StatusBadRequest, "SerializationException",
				fmt.Sprintf("the request body must be a JSON object, got %s", typeErr.Value))
		}
		if errors.As(err, &typeErr) {
			return &quill.Error{Code: quill.CodeInvalidParameter, Parameter: typeErr.Field,
				Message: fmt.Sprintf("must be a JSON %s, got %s", jsonKind(typeErr.Type.Kind().String()), typeErr.Value)}
		}
		return apiError(http.StatusBadRequest, "SerializationException", "the request body is not valid JSON: "+err.Error())
	}
	if dec.More() {
		return apiError(http.StatusBadRequest, "SerializationException", "the request body holds more than one JSON value")
	}
	return nil
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "map", "struct":
		return "object"
	case "slice":
		return "array"
	}
	return "number"
}

// reply writes a 200 JSON response.
func (req *request) reply(v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	req.w.Header().Set("Content-Type", "application/json")
	_, err = req.w.Write(body)
	return err
}

func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	s := hex.EncodeToString(b[:])
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}
