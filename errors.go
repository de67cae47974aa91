package quill

import (
	"errors"
	"fmt"
)

// ErrorCode names the QLDB exception an Error stands for, so that the
// server answers with the exception AWS clients expect.
type ErrorCode string

// The codes of Quill's errors, QLDB's exception names.
const (
	// CodeInvalidParameter: a parameter breaks a rule; Error.Parameter
	// names it as QLDB's API does (Name, Tags, BlockAddress, ...).
	CodeInvalidParameter ErrorCode = "InvalidParameterException"
	// CodeResourceNotFound: the named ledger, table, document, export or
	// stream does not exist.
	CodeResourceNotFound ErrorCode = "ResourceNotFoundException"
	// CodeResourceAlreadyExists: a resource with that name exists.
	CodeResourceAlreadyExists ErrorCode = "ResourceAlreadyExistsException"
	// CodeResourceInUse: the resource is busy in a way that forbids the call.
	CodeResourceInUse ErrorCode = "ResourceInUseException"
	// CodeLimitExceeded: a quota (ledgers, tables, indexes, documents per
	// transaction, concurrent exports, ...) would be exceeded.
	CodeLimitExceeded ErrorCode = "LimitExceededException"
	// CodeResourcePreconditionNotMet: the resource's state forbids the call,
	// such as deleting a ledger whose deletion protection is on.
	CodeResourcePreconditionNotMet ErrorCode = "ResourcePreconditionNotMetException"
)

// Error is every error of Quill's API that maps to one of QLDB's
// exceptions. Check it with errors.As and look at Code, or with errors.Is
// against ErrInvalidParameter, ErrResourceNotFound and the other values
// below, which match any Error of their code.
type Error struct {
	Code         ErrorCode
	ResourceType string // "LEDGER", "TABLE", "DOCUMENT", "INDEX", "TRANSACTION", ...
	ResourceName string
	Parameter    string // for CodeInvalidParameter: the parameter's name
	Message      string
}

func (e *Error) Error() string {
	switch {
	case e.Parameter != "":
		return fmt.Sprintf("quill: invalid parameter %s: %s", e.Parameter, e.Message)
	case e.ResourceName != "":
		return fmt.Sprintf("quill: %s %s %q: %s", e.Code.short(), e.ResourceType, e.ResourceName, e.Message)
	case e.ResourceType != "":
		return fmt.Sprintf("quill: %s %s: %s", e.Code.short(), e.ResourceType, e.Message)
	}
	return fmt.Sprintf("quill: %s: %s", e.Code.short(), e.Message)
}

// Is makes errors.Is(err, ErrResourceNotFound) (and the others) true for
// every Error of that code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.ResourceType == "" && t.ResourceName == "" && t.Parameter == "" && t.Message == ""
}

// short is the code as words for messages: "resource not found".
func (c ErrorCode) short() string {
	switch c {
	case CodeInvalidParameter:
		return "invalid parameter"
	case CodeResourceNotFound:
		return "not found"
	case CodeResourceAlreadyExists:
		return "already exists"
	case CodeResourceInUse:
		return "in use"
	case CodeLimitExceeded:
		return "limit exceeded"
	case CodeResourcePreconditionNotMet:
		return "precondition not met"
	}
	return string(c)
}

// Values to match with errors.Is: each matches every Error of its code.
var (
	ErrInvalidParameter           = &Error{Code: CodeInvalidParameter}
	ErrResourceNotFound           = &Error{Code: CodeResourceNotFound}
	ErrResourceAlreadyExists      = &Error{Code: CodeResourceAlreadyExists}
	ErrResourceInUse              = &Error{Code: CodeResourceInUse}
	ErrLimitExceeded              = &Error{Code: CodeLimitExceeded}
	ErrResourcePreconditionNotMet = &Error{Code: CodeResourcePreconditionNotMet}
)

func invalidParam(param, format string, args ...any) error {
	return &Error{Code: CodeInvalidParameter, Parameter: param, Message: fmt.Sprintf(format, args...)}
}

func notFound(resourceType, name, message string) error {
	return &Error{Code: CodeResourceNotFound, ResourceType: resourceType, ResourceName: name, Message: message}
}

// ErrOCCConflict is returned when a transaction read something that another
// transaction changed before it committed (QLDB's OccConflictException).
// Execute retries such transactions; it returns an error wrapping
// ErrOCCConflict only when the retries run out.
var ErrOCCConflict = errors.New("quill: optimistic concurrency conflict")

// ErrClosed is returned by calls on a closed DB.
var ErrClosed = errors.New("quill: closed")

// ErrTransactionExpired is returned by a Transaction (Ledger.Begin) used
// after Options.TransactionTimeout: it wrote nothing and is over.
var ErrTransactionExpired = errors.New("quill: the transaction has expired")

// ErrTransactionClosed is returned by a Transaction used after its commit
// or abort.
var ErrTransactionClosed = errors.New("quill: the transaction is committed or aborted")
