package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/quilldb/quill"
	"github.com/quilldb/quill/server/internal/wire"
)

// httpError is an error with its wire form.
type httpError struct {
	status int
	body   wire.Error
}

func (e *httpError) Error() string { return e.body.Type + ": " + e.body.Message }

func apiError(status int, typ, msg string) error {
	return &httpError{status: status, body: wire.Error{Type: typ, Message: msg}}
}

// statusOf is the HTTP status of each of QLDB's exceptions (qldb-api.md
// §2.1).
var statusOf = map[quill.ErrorCode]int{
	quill.CodeInvalidParameter:           http.StatusBadRequest,
	quill.CodeResourceNotFound:           http.StatusNotFound,
	quill.CodeResourceAlreadyExists:      http.StatusConflict,
	quill.CodeResourceInUse:              http.StatusConflict,
	quill.CodeLimitExceeded:              http.StatusBadRequest,
	quill.CodeResourcePreconditionNotMet: http.StatusPreconditionFailed,
}

// toHTTPError maps Quill's errors to QLDB's exceptions and status codes;
// anything else is an internal failure.
func toHTTPError(err error) *httpError {
	var (
		he *httpError
		qe *quill.Error
	)
	switch {
	case errors.As(err, &he):
		return he
	case errors.As(err, &qe):
		status, ok := statusOf[qe.Code]
		if !ok {
			status = http.StatusBadRequest
		}
		return &httpError{status, wire.Error{Type: string(qe.Code), Message: qe.Error(),
			ParameterName: qe.Parameter, ResourceType: qe.ResourceType, ResourceName: qe.ResourceName}}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &httpError{http.StatusServiceUnavailable, wire.Error{Type: "ServiceUnavailableException", Message: err.Error()}}
	case errors.Is(err, quill.ErrClosed):
		return &httpError{http.StatusServiceUnavailable, wire.Error{Type: "ServiceUnavailableException", Message: "the server is shutting down"}}
	}
	return &httpError{http.StatusInternalServerError, wire.Error{Type: "InternalFailure", Message: err.Error()}}
}

func writeError(w http.ResponseWriter, err error, session bool) {
	he := toHTTPError(err)
	body, _ := json.Marshal(he.body)
	if session {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	w.Header().Set("X-Amzn-ErrorType", he.body.Type)
	w.WriteHeader(he.status)
	_, _ = w.Write(body)
}
