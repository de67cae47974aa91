package partiql

import (
	"errors"
	"fmt"
	"strings"
)

// Error is a PartiQL error: a statement that does not parse, uses a form
// outside Quill's subset, or fails while it runs (a missing table, a value
// of the wrong type). Line and Column (from 1) locate the offending token
// when the error has a position; Token quotes it.
type Error struct {
	Line, Column int // 0 when the error has no position
	Token        string
	Message      string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return "partiql: " + e.Message
	}
	if e.Token != "" {
		return fmt.Sprintf("partiql: line %d, column %d, at %s: %s", e.Line, e.Column, e.Token, e.Message)
	}
	return fmt.Sprintf("partiql: line %d, column %d: %s", e.Line, e.Column, e.Message)
}

// errAt builds an Error located at byte offset pos of src.
func errAt(src string, pos int, msg string) *Error {
	line, col := position(src, pos)
	return &Error{Line: line, Column: col, Message: msg}
}

// errToken builds an Error that quotes the token it is about.
func errToken(src string, t token, msg string) *Error {
	e := errAt(src, t.pos, msg)
	e.Token = t.String()
	return e
}

func position(src string, pos int) (line, col int) {
	pos = min(pos, len(src))
	before := src[:pos]
	line = strings.Count(before, "\n") + 1
	col = len([]rune(before[strings.LastIndexByte(before, '\n')+1:])) + 1
	return line, col
}

// errorf builds an Error without a position, for failures while a
// statement runs.
func errorf(format string, args ...any) *Error {
	return &Error{Message: fmt.Sprintf(format, args...)}
}

// messageOf is an error's message without its position.
func messageOf(err error) string {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Message
	}
	return err.Error()
}
