package quill

import (
	"errors"
	"fmt"
)

// The error types below map one to one to QLDB's exceptions, so that the
// server can answer with the exception AWS clients expect. Check them with
// errors.As.

// InvalidParameterError is QLDB's InvalidParameterException: a parameter
// breaks a rule. Parameter names it as QLDB's API does (Name, Tags, ...).
type InvalidParameterError struct {
	Parameter string
	Message   string
}

func (e *InvalidParameterError) Error() string {
	return fmt.Sprintf("quill: invalid parameter %s: %s", e.Parameter, e.Message)
}

func invalidParam(param, format string, args ...any) error {
	return &InvalidParameterError{Parameter: param, Message: fmt.Sprintf(format, args...)}
}

// ResourceNotFoundError is QLDB's ResourceNotFoundException.
type ResourceNotFoundError struct {
	ResourceType string // "LEDGER", "TABLE", "DOCUMENT", "STREAM", ...
	ResourceName string
	Message      string
}

func (e *ResourceNotFoundError) Error() string {
	return fmt.Sprintf("quill: %s %q not found: %s", e.ResourceType, e.ResourceName, e.Message)
}

// ResourceAlreadyExistsError is QLDB's ResourceAlreadyExistsException.
type ResourceAlreadyExistsError struct {
	ResourceType string
	ResourceName string
	Message      string
}

func (e *ResourceAlreadyExistsError) Error() string {
	return fmt.Sprintf("quill: %s %q already exists: %s", e.ResourceType, e.ResourceName, e.Message)
}

// ResourceInUseError is QLDB's ResourceInUseException.
type ResourceInUseError struct {
	ResourceType string
	ResourceName string
	Message      string
}

func (e *ResourceInUseError) Error() string {
	return fmt.Sprintf("quill: %s %q is in use: %s", e.ResourceType, e.ResourceName, e.Message)
}

// LimitExceededError is QLDB's LimitExceededException.
type LimitExceededError struct {
	ResourceType string
	Message      string
}

func (e *LimitExceededError) Error() string {
	return fmt.Sprintf("quill: limit exceeded for %s: %s", e.ResourceType, e.Message)
}

// ResourcePreconditionNotMetError is QLDB's
// ResourcePreconditionNotMetException, such as deleting a ledger whose
// deletion protection is on.
type ResourcePreconditionNotMetError struct {
	ResourceType string
	ResourceName string
	Message      string
}

func (e *ResourcePreconditionNotMetError) Error() string {
	return fmt.Sprintf("quill: %s %q: precondition not met: %s", e.ResourceType, e.ResourceName, e.Message)
}

// ErrOCCConflict is returned when a transaction read something that another
// transaction changed before it committed (QLDB's OccConflictException).
// Execute retries such transactions; it returns an error wrapping
// ErrOCCConflict only when the retries run out.
var ErrOCCConflict = errors.New("quill: optimistic concurrency conflict")

// ErrClosed is returned by calls on a closed DB.
var ErrClosed = errors.New("quill: closed")
