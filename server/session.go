package server

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/quilldb/quill"
	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/merkle"
	"github.com/quilldb/quill/partiql"
	"github.com/quilldb/quill/server/internal/wire"
)

// The qldb-session data plane (qldb-api.md §5): sessions on a ledger, one
// open transaction per session, PartiQL statements whose results are
// paged, and the commit digest the drivers compute.

const sessionTarget = "QLDBSession.SendCommand"

func isSession(r *http.Request) bool {
	return r.Method == http.MethodPost && r.Header.Get("X-Amz-Target") == sessionTarget
}

// Page bounds: a page holds at most this many values and, unless a single
// value is larger, at most this many bytes of Ion binary.
const (
	pageMaxValues = 200
	pageMaxBytes  = 1 << 20
)

// sessionError is a qldb-session exception. Every modelled one is sent
// with status 400 (the model gives none; qldb-api.md §2.1).
func sessionError(typ, format string, args ...any) error {
	return apiError(http.StatusBadRequest, typ, fmt.Sprintf(format, args...))
}

func badRequest(format string, args ...any) error {
	return sessionError("BadRequestException", format, args...)
}

func invalidSession(format string, args ...any) error {
	return sessionError("InvalidSessionException", format, args...)
}

// sessions holds every open session of a handler.
type sessions struct {
	mu        sync.Mutex
	byToken   map[string]*session
	perLedger map[string]int
	lastSweep time.Time
}

// session is one qldb-session session: a ledger and at most one open
// transaction with its pages.
type session struct {
	mu       sync.Mutex // one command at a time
	token    string
	ledger   *quill.Ledger
	lastUsed time.Time
	ended    bool

	tx     *quill.Transaction
	digest merkle.Hash
	pages  map[string][]wire.ValueHolder // remaining values by page token
	reads  int64                         // IOs of the transaction, for its commit
	writes int64
}

func (h *Handler) serveSession(req *request) error {
	req.session = true
	req.op = "SendCommand"
	var in wire.SendCommandRequest
	if err := json.Unmarshal(bytes.TrimSpace(req.body), &in); err != nil {
		return apiError(http.StatusBadRequest, "SerializationException", "the request body is not a SendCommand JSON object: "+err.Error())
	}
	start := time.Now()
	commands := 0
	for _, set := range []bool{in.StartSession != nil, in.StartTransaction != nil, in.EndSession != nil,
		in.CommitTransaction != nil, in.AbortTransaction != nil, in.ExecuteStatement != nil, in.FetchPage != nil} {
		if set {
			commands++
		}
	}
	if commands != 1 {
		return badRequest("a SendCommand request carries exactly one command (StartSession, StartTransaction, ExecuteStatement, FetchPage, CommitTransaction, AbortTransaction or EndSession), got %d", commands)
	}
	var out wire.SendCommandResult
	var err error
	if in.StartSession != nil {
		req.op = "StartSession"
		if in.SessionToken != nil {
			return badRequest("StartSession takes no SessionToken")
		}
		out.StartSession, err = h.startSession(req, in.StartSession)
	} else {
		err = h.sessionCommand(req, &in, &out)
	}
	if err != nil {
		return err
	}
	timing := wire.TimingInformation{ProcessingTimeMilliseconds: processingMillis(time.Since(start))}
	switch {
	case out.StartSession != nil:
		out.StartSession.TimingInformation = timing
	case out.StartTransaction != nil:
		out.StartTransaction.TimingInformation = timing
	case out.EndSession != nil:
		out.EndSession.TimingInformation = timing
	case out.CommitTransaction != nil:
		out.CommitTransaction.TimingInformation = timing
	case out.AbortTransaction != nil:
		out.AbortTransaction.TimingInformation = timing
	case out.ExecuteStatement != nil:
		out.ExecuteStatement.TimingInformation = timing
	case out.FetchPage != nil:
		out.FetchPage.TimingInformation = timing
	}
	body, err := json.Marshal(out)
	if err != nil {
		return err
	}
	req.w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_, err = req.w.Write(body)
	return err
}

// processingMillis rounds up, so that any work shows as at least 1 ms.
func processingMillis(d time.Duration) int64 {
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}

func (h *Handler) startSession(req *request, in *wire.StartSessionRequest) (*wire.StartSessionResult, error) {
	if in.LedgerName == nil || *in.LedgerName == "" {
		return nil, badRequest("StartSession.LedgerName is required")
	}
	name := *in.LedgerName
	l, err := h.db.Ledger(req.ctx, name)
	if err != nil {
		var qe *quill.Error
		if errors.As(err, &qe) {
			return nil, badRequest("cannot start a session on ledger %s: %s", name, qe.Message)
		}
		return nil, err
	}
	s := &h.sessions
	s.mu.Lock()
	defer s.mu.Unlock()
	h.sweepLocked()
	if s.perLedger[name] >= h.opts.MaxSessionsPerLedger {
		return nil, sessionError("LimitExceededException", "ledger %s has %d active sessions, the limit; end sessions or wait for idle ones to expire (after %v)",
			name, s.perLedger[name], h.opts.SessionIdleTimeout)
	}
	token := randomToken(32)
	s.byToken[token] = &session{token: token, ledger: l, lastUsed: h.opts.Clock()}
	s.perLedger[name]++
	req.logAttrs = append(req.logAttrs, slog.String("ledger", name))
	return &wire.StartSessionResult{SessionToken: token}, nil
}

// sweepLocked ends sessions idle for longer than the timeout, at most once
// a second. Open transactions hold no locks, so an abandoned session costs
// only its memory until then.
func (h *Handler) sweepLocked() {
	s := &h.sessions
	now := h.opts.Clock()
	if now.Sub(s.lastSweep) < time.Second {
		return
	}
	s.lastSweep = now
	for token, ss := range s.byToken {
		if ss.mu.TryLock() {
			if now.Sub(ss.lastUsed) > h.opts.SessionIdleTimeout {
				h.endLocked(token, ss)
			}
			ss.mu.Unlock()
		}
	}
}

// endLocked removes a session. The caller holds the session's lock and
// the sessions' (locks are taken in that order, or the session's with
// TryLock).
func (h *Handler) endLocked(token string, ss *session) {
	if ss.ended {
		return
	}
	ss.ended = true
	if ss.tx != nil {
		ss.tx.Abort()
		ss.tx, ss.pages = nil, nil
	}
	delete(h.sessions.byToken, token)
	name := ss.ledger.Name()
	if h.sessions.perLedger[name]--; h.sessions.perLedger[name] <= 0 {
		delete(h.sessions.perLedger, name)
	}
}

// endSession removes a session whose lock the caller holds.
func (h *Handler) endSession(ss *session) {
	h.sessions.mu.Lock()
	defer h.sessions.mu.Unlock()
	h.endLocked(ss.token, ss)
}

// lookupSession finds the session of a token and locks it.
func (h *Handler) lookupSession(token *string) (*session, error) {
	if token == nil || *token == "" {
		return nil, badRequest("SessionToken is required for every command but StartSession")
	}
	s := &h.sessions
	s.mu.Lock()
	h.sweepLocked()
	ss, ok := s.byToken[*token]
	s.mu.Unlock()
	if !ok {
		return nil, invalidSession("the session does not exist or has expired (sessions expire after %v idle); start a new session", h.opts.SessionIdleTimeout)
	}
	ss.mu.Lock()
	if ss.ended {
		ss.mu.Unlock()
		return nil, invalidSession("the session has ended; start a new session")
	}
	if idle := h.opts.Clock().Sub(ss.lastUsed); idle > h.opts.SessionIdleTimeout {
		h.endSession(ss)
		ss.mu.Unlock()
		return nil, invalidSession("the session expired after %v idle; start a new session", idle.Round(time.Second))
	}
	ss.lastUsed = h.opts.Clock()
	return ss, nil
}

func (h *Handler) sessionCommand(req *request, in *wire.SendCommandRequest, out *wire.SendCommandResult) error {
	ss, err := h.lookupSession(in.SessionToken)
	if err != nil {
		return err
	}
	defer ss.mu.Unlock()
	req.logAttrs = append(req.logAttrs, slog.String("ledger", ss.ledger.Name()))
	switch {
	case in.EndSession != nil:
		req.op = "EndSession"
		h.endSession(ss)
		out.EndSession = &wire.TimedResult{}
		return nil
	case in.AbortTransaction != nil:
		req.op = "AbortTransaction"
		ss.closeTx()
		out.AbortTransaction = &wire.TimedResult{}
		return nil
	case in.StartTransaction != nil:
		req.op = "StartTransaction"
		if ss.tx != nil {
			if err := ss.checkExpiry(); err != nil {
				return h.expired(ss, err)
			}
			return badRequest("transaction %s is open in this session; commit or abort it first", ss.tx.ID())
		}
		tx, err := ss.ledger.Begin(req.ctx)
		if err != nil {
			return statementError(err)
		}
		ss.tx, ss.pages, ss.reads, ss.writes = tx, map[string][]wire.ValueHolder{}, 0, 0
		ss.digest = merkle.Hash(ion.Hash(ion.String(tx.ID())))
		out.StartTransaction = &wire.StartTransactionResult{TransactionID: tx.ID()}
		return nil
	case in.ExecuteStatement != nil:
		req.op = "ExecuteStatement"
		res, err := h.executeStatement(req, ss, in.ExecuteStatement)
		out.ExecuteStatement = res
		return err
	case in.FetchPage != nil:
		req.op = "FetchPage"
		if err := ss.checkTx(in.FetchPage.TransactionID); err != nil {
			return h.expired(ss, err)
		}
		if in.FetchPage.NextPageToken == nil {
			return badRequest("FetchPage.NextPageToken is required")
		}
		values, ok := ss.pages[*in.FetchPage.NextPageToken]
		if !ok {
			return badRequest("NextPageToken %q is not a page of this transaction", *in.FetchPage.NextPageToken)
		}
		delete(ss.pages, *in.FetchPage.NextPageToken)
		out.FetchPage = &wire.FetchPageResult{Page: ss.page(values)}
		return nil
	}
	req.op = "CommitTransaction"
	res, err := h.commit(req, ss, in.CommitTransaction)
	out.CommitTransaction = res
	return err
}

func (ss *session) closeTx() {
	if ss.tx != nil {
		ss.tx.Abort()
	}
	ss.tx, ss.pages = nil, nil
}

func (ss *session) checkExpiry() error {
	if ss.tx != nil && ss.tx.Expired() {
		return quill.ErrTransactionExpired
	}
	return nil
}

// checkTx checks that id names the session's open transaction.
func (ss *session) checkTx(id *string) error {
	if id == nil || *id == "" {
		return badRequest("TransactionId is required")
	}
	if len(*id) != ion.IDLength {
		return badRequest("TransactionId must be %d characters, got %d", ion.IDLength, len(*id))
	}
	if ss.tx == nil || ss.tx.ID() != *id {
		return badRequest("transaction %s is not open in this session", *id)
	}
	return ss.checkExpiry()
}

// expired turns an expired transaction into QLDB's answer, which ends the
// session: drivers do not retry it.
func (h *Handler) expired(ss *session, err error) error {
	if !errors.Is(err, quill.ErrTransactionExpired) {
		return err
	}
	id := ss.tx.ID()
	h.endSession(ss)
	return invalidSession("Transaction %s has expired", id)
}

// page takes the first page off values and keeps the rest under a new
// token.
func (ss *session) page(values []wire.ValueHolder) wire.Page {
	n, size := 0, 0
	for n < len(values) && n < pageMaxValues {
		size += len(values[n].IonBinary)
		if n > 0 && size > pageMaxBytes {
			break
		}
		n++
	}
	p := wire.Page{Values: values[:n:n]}
	if n < len(values) {
		token := randomToken(24)
		ss.pages[token] = values[n:]
		p.NextPageToken = &token
	}
	return p
}

func (h *Handler) executeStatement(req *request, ss *session, in *wire.ExecuteStatementRequest) (*wire.ExecuteStatementResult, error) {
	if err := ss.checkTx(in.TransactionID); err != nil {
		return nil, h.expired(ss, err)
	}
	if in.Statement == nil || *in.Statement == "" {
		return nil, badRequest("ExecuteStatement.Statement is required")
	}
	stmt := *in.Statement
	if n := len([]rune(stmt)); n > 100_000 {
		return nil, badRequest("ExecuteStatement.Statement is %d characters, the limit is 100000", n)
	}
	params := make([]ion.Value, len(in.Parameters))
	digest := merkle.Hash(ion.Hash(ion.String(stmt)))
	for i, p := range in.Parameters {
		v, err := parameter(i, p)
		if err != nil {
			return nil, err
		}
		params[i] = v
		digest = merkle.Dot(digest, merkle.Hash(ion.Hash(v)))
	}
	// The drivers fold a statement into their digest before sending it,
	// whatever its outcome; so does the server.
	ss.digest = merkle.Dot(ss.digest, digest)
	req.logAttrs = append(req.logAttrs, slog.String("statement", truncate(stmt, 200)))
	res, err := ss.tx.Execute(req.ctx, stmt, params...)
	if err != nil {
		if errors.Is(err, quill.ErrTransactionExpired) {
			return nil, h.expired(ss, err)
		}
		if errors.Is(err, quill.ErrOCCConflict) {
			ss.closeTx()
		}
		return nil, statementError(err)
	}
	values := make([]wire.ValueHolder, len(res.Values))
	for i, v := range res.Values {
		values[i] = wire.ValueHolder{IonBinary: ion.AppendBinary(nil, v)}
	}
	ss.reads += res.Stats.DocumentsRead
	ss.writes += res.Stats.DocumentsWritten
	return &wire.ExecuteStatementResult{FirstPage: ss.page(values),
		ConsumedIOs: wire.IOUsage{ReadIOs: res.Stats.DocumentsRead, WriteIOs: res.Stats.DocumentsWritten}}, nil
}

// parameter decodes a statement parameter, Ion binary or Ion text.
func parameter(i int, p wire.ValueHolder) (ion.Value, error) {
	field := fmt.Sprintf("ExecuteStatement.Parameters[%d]", i)
	switch {
	case p.IonBinary != nil && p.IonText != nil:
		return ion.Value{}, badRequest("%s has both IonBinary and IonText; give one", field)
	case p.IonBinary != nil:
		if len(p.IonBinary) > 131072 {
			return ion.Value{}, badRequest("%s.IonBinary is %d bytes, the limit is 131072", field, len(p.IonBinary))
		}
		if !ion.IsBinary(p.IonBinary) {
			return ion.Value{}, badRequest("%s.IonBinary must start with the Ion binary version marker E0 01 00 EA", field)
		}
		v, err := ion.Parse(p.IonBinary)
		if err != nil {
			return ion.Value{}, badRequest("%s.IonBinary is not one Ion value: %v", field, err)
		}
		return v, nil
	case p.IonText != nil:
		if n := len([]rune(*p.IonText)); n > 1048576 || n == 0 {
			return ion.Value{}, badRequest("%s.IonText must be 1 to 1048576 characters, got %d", field, n)
		}
		v, err := ion.ParseText(*p.IonText)
		if err != nil {
			return ion.Value{}, badRequest("%s.IonText is not one Ion value: %v", field, err)
		}
		return v, nil
	}
	return ion.Value{}, badRequest("%s has neither IonBinary nor IonText", field)
}

func (h *Handler) commit(req *request, ss *session, in *wire.CommitTransactionRequest) (*wire.CommitTransactionResult, error) {
	if err := ss.checkTx(in.TransactionID); err != nil {
		return nil, h.expired(ss, err)
	}
	if len(in.CommitDigest) != merkle.Size {
		return nil, badRequest("CommitTransaction.CommitDigest must be %d bytes, got %d", merkle.Size, len(in.CommitDigest))
	}
	tx := ss.tx
	if !bytes.Equal(in.CommitDigest, ss.digest[:]) {
		ss.closeTx()
		return nil, badRequest("CommitDigest %s does not match the digest of the statements and parameters this server received in transaction %s (%s); the transaction is aborted and wrote nothing",
			base64.StdEncoding.EncodeToString(in.CommitDigest), tx.ID(), base64.StdEncoding.EncodeToString(ss.digest[:]))
	}
	digest := ss.digest
	reads, writes := ss.reads, ss.writes
	ss.tx, ss.pages = nil, nil
	rec, err := tx.Commit(req.ctx)
	if err != nil {
		if errors.Is(err, quill.ErrTransactionExpired) {
			ss.tx = tx
			return nil, h.expired(ss, err)
		}
		return nil, statementError(err)
	}
	if rec.Written {
		req.logAttrs = append(req.logAttrs, slog.String("block", fmt.Sprint(rec.Block.SequenceNo)))
	}
	return &wire.CommitTransactionResult{TransactionID: tx.ID(), CommitDigest: digest[:],
		ConsumedIOs: wire.IOUsage{ReadIOs: reads, WriteIOs: writes}}, nil
}

// statementError maps a statement's or a commit's failure to the
// exception the drivers act on: OCC conflicts are retried, bad statements
// are not.
func statementError(err error) error {
	var pe *partiql.Error
	var qe *quill.Error
	switch {
	case errors.Is(err, quill.ErrOCCConflict):
		return sessionError("OccConflictException", "%s", strings.TrimPrefix(err.Error(), "quill: "))
	case errors.As(err, &pe):
		return badRequest("%s", strings.TrimPrefix(pe.Error(), "partiql: "))
	case errors.As(err, &qe):
		return badRequest("%s", strings.TrimPrefix(qe.Error(), "quill: "))
	case errors.Is(err, quill.ErrTransactionClosed):
		return badRequest("%v", err)
	}
	return err
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
