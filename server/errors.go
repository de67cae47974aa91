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

// toHTTPError maps Quill's typed errors to QLDB's exceptions and status
// codes (qldb-api.md §2.1); anything else is an internal failure.
func toHTTPError(err error) *httpError {
	var (
		he           *httpError
		invalid      *quill.InvalidParameterError
		notFound     *quill.ResourceNotFoundError
		exists       *quill.ResourceAlreadyExistsError
		inUse        *quill.ResourceInUseError
		limit        *quill.LimitExceededError
		precondition *quill.ResourcePreconditionNotMetError
	)
	switch {
	case errors.As(err, &he):
		return he
	case errors.As(err, &invalid):
		return &httpError{http.StatusBadRequest, wire.Error{Type: "InvalidParameterException",
			Message: invalid.Error(), ParameterName: invalid.Parameter}}
	case errors.As(err, &notFound):
		return &httpError{http.StatusNotFound, wire.Error{Type: "ResourceNotFoundException",
			Message: notFound.Error(), ResourceType: notFound.ResourceType, ResourceName: notFound.ResourceName}}
	case errors.As(err, &exists):
		return &httpError{http.StatusConflict, wire.Error{Type: "ResourceAlreadyExistsException",
			Message: exists.Error(), ResourceType: exists.ResourceType, ResourceName: exists.ResourceName}}
	case errors.As(err, &inUse):
		return &httpError{http.StatusConflict, wire.Error{Type: "ResourceInUseException",
			Message: inUse.Error(), ResourceType: inUse.ResourceType, ResourceName: inUse.ResourceName}}
	case errors.As(err, &limit):
		return &httpError{http.StatusBadRequest, wire.Error{Type: "LimitExceededException",
			Message: limit.Error(), ResourceType: limit.ResourceType}}
	case errors.As(err, &precondition):
		return &httpError{http.StatusPreconditionFailed, wire.Error{Type: "ResourcePreconditionNotMetException",
			Message: precondition.Error(), ResourceType: precondition.ResourceType, ResourceName: precondition.ResourceName}}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &httpError{http.StatusServiceUnavailable, wire.Error{Type: "ServiceUnavailableException", Message: err.Error()}}
	case errors.Is(err, quill.ErrClosed):
		return &httpError{http.StatusServiceUnavailable, wire.Error{Type: "ServiceUnavailableException", Message: "the server is shutting down"}}
	}
	return &httpError{http.StatusInternalServerError, wire.Error{Type: "InternalFailure", Message: err.Error()}}
}

func writeError(w http.ResponseWriter, err error) {
	he := toHTTPError(err)
	body, _ := json.Marshal(he.body)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", he.body.Type)
	w.WriteHeader(he.status)
	_, _ = w.Write(body)
}
