package wire

// The qldb-session data plane (API 2019-07-11, AWS JSON 1.0): one
// operation, SendCommand, whose request and response carry exactly one
// command member. Blobs are []byte, which encoding/json reads and writes
// as standard base64, as the protocol has them.

// SendCommandRequest is the body of QLDBSession.SendCommand.
type SendCommandRequest struct {
	SessionToken      *string                   `json:"SessionToken,omitempty"`
	StartSession      *StartSessionRequest      `json:"StartSession,omitempty"`
	StartTransaction  *struct{}                 `json:"StartTransaction,omitempty"`
	EndSession        *struct{}                 `json:"EndSession,omitempty"`
	CommitTransaction *CommitTransactionRequest `json:"CommitTransaction,omitempty"`
	AbortTransaction  *struct{}                 `json:"AbortTransaction,omitempty"`
	ExecuteStatement  *ExecuteStatementRequest  `json:"ExecuteStatement,omitempty"`
	FetchPage         *FetchPageRequest         `json:"FetchPage,omitempty"`
}

// StartSessionRequest names the ledger of a new session.
type StartSessionRequest struct {
	LedgerName *string `json:"LedgerName"`
}

// CommitTransactionRequest commits the open transaction.
type CommitTransactionRequest struct {
	TransactionID *string `json:"TransactionId"`
	CommitDigest  []byte  `json:"CommitDigest"`
}

// ExecuteStatementRequest runs one PartiQL statement.
type ExecuteStatementRequest struct {
	TransactionID *string       `json:"TransactionId"`
	Statement     *string       `json:"Statement"`
	Parameters    []ValueHolder `json:"Parameters,omitempty"`
}

// FetchPageRequest asks for the next page of a statement's results.
type FetchPageRequest struct {
	TransactionID *string `json:"TransactionId"`
	NextPageToken *string `json:"NextPageToken"`
}

// SendCommandResult is the response: the member of the command sent.
type SendCommandResult struct {
	StartSession      *StartSessionResult      `json:"StartSession,omitempty"`
	StartTransaction  *StartTransactionResult  `json:"StartTransaction,omitempty"`
	EndSession        *TimedResult             `json:"EndSession,omitempty"`
	CommitTransaction *CommitTransactionResult `json:"CommitTransaction,omitempty"`
	AbortTransaction  *TimedResult             `json:"AbortTransaction,omitempty"`
	ExecuteStatement  *ExecuteStatementResult  `json:"ExecuteStatement,omitempty"`
	FetchPage         *FetchPageResult         `json:"FetchPage,omitempty"`
}

// TimingInformation is the server's processing time of a command.
type TimingInformation struct {
	ProcessingTimeMilliseconds int64 `json:"ProcessingTimeMilliseconds"`
}

// IOUsage counts a command's reads and writes.
type IOUsage struct {
	ReadIOs  int64 `json:"ReadIOs"`
	WriteIOs int64 `json:"WriteIOs"`
}

// TimedResult is the result of the commands that return only timing.
type TimedResult struct {
	TimingInformation TimingInformation `json:"TimingInformation"`
}

// StartSessionResult carries the new session's token.
type StartSessionResult struct {
	SessionToken      string            `json:"SessionToken"`
	TimingInformation TimingInformation `json:"TimingInformation"`
}

// StartTransactionResult carries the new transaction's id.
type StartTransactionResult struct {
	TransactionID     string            `json:"TransactionId"`
	TimingInformation TimingInformation `json:"TimingInformation"`
}

// CommitTransactionResult echoes the committed transaction's digest.
type CommitTransactionResult struct {
	TransactionID     string            `json:"TransactionId"`
	CommitDigest      []byte            `json:"CommitDigest"`
	TimingInformation TimingInformation `json:"TimingInformation"`
	ConsumedIOs       IOUsage           `json:"ConsumedIOs"`
}

// Page is a page of results; Values is always present, NextPageToken only
// when more pages follow.
type Page struct {
	Values        []ValueHolder `json:"Values"`
	NextPageToken *string       `json:"NextPageToken,omitempty"`
}

// ExecuteStatementResult is a statement's first page.
type ExecuteStatementResult struct {
	FirstPage         Page              `json:"FirstPage"`
	TimingInformation TimingInformation `json:"TimingInformation"`
	ConsumedIOs       IOUsage           `json:"ConsumedIOs"`
}

// FetchPageResult is a later page.
type FetchPageResult struct {
	Page              Page              `json:"Page"`
	TimingInformation TimingInformation `json:"TimingInformation"`
	ConsumedIOs       IOUsage           `json:"ConsumedIOs"`
}
