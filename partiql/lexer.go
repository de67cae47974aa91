package partiql

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokenKind classifies a token.
type tokenKind int

const (
	tokEOF     tokenKind = iota
	tokIdent             // a bare identifier or keyword
	tokQuoted            // a "quoted identifier"
	tokString            // a 'string literal'
	tokNumber            // 12, 1.5, 1e3
	tokIon               // `an Ion literal`
	tokParam             // ?
	tokOp                // punctuation and operators
	tokAtIdent           // @ident (PartiQL's scope qualifier)
)

// token is one lexical token; pos is its byte offset in the statement.
type token struct {
	kind tokenKind
	text string // identifier, literal contents or operator
	pos  int
}

// String quotes the token as an error message shows it.
func (t token) String() string {
	switch t.kind {
	case tokEOF:
		return "end of statement"
	case tokQuoted:
		return `"` + t.text + `"`
	case tokString:
		return "'" + t.text + "'"
	case tokIon:
		return "`" + t.text + "`"
	default:
		return "'" + t.text + "'"
	}
}

// keyword reports whether the token is the keyword kw (case-insensitive).
func (t token) keyword(kw string) bool { return t.kind == tokIdent && strings.EqualFold(t.text, kw) }

// lex splits a statement into tokens. Comments (-- to the end of the line,
// /* ... */) are skipped.
func lex(src string) ([]token, error) {
	var out []token
	i := 0
	for i < len(src) {
		r, size := utf8.DecodeRuneInString(src[i:])
		switch {
		case unicode.IsSpace(r):
			i += size
		case strings.HasPrefix(src[i:], "--"):
			end := strings.IndexByte(src[i:], '\n')
			if end < 0 {
				i = len(src)
			} else {
				i += end
			}
		case strings.HasPrefix(src[i:], "/*"):
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return nil, errAt(src, i, "a /* comment is not closed")
			}
			i += end + 4
		case r == '_' || r == '$' || unicode.IsLetter(r):
			j := i
			for j < len(src) {
				r, s := utf8.DecodeRuneInString(src[j:])
				if r != '_' && r != '$' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
					break
				}
				j += s
			}
			out = append(out, token{kind: tokIdent, text: src[i:j], pos: i})
			i = j
		case r >= '0' && r <= '9' || r == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			j := scanNumber(src, i)
			out = append(out, token{kind: tokNumber, text: src[i:j], pos: i})
			i = j
		case r == '\'' || r == '"':
			text, j, err := scanQuoted(src, i, byte(r))
			if err != nil {
				return nil, err
			}
			kind := tokString
			if r == '"' {
				kind = tokQuoted
			}
			out = append(out, token{kind: kind, text: text, pos: i})
			i = j
		case r == '`':
			j, err := scanIon(src, i)
			if err != nil {
				return nil, err
			}
			out = append(out, token{kind: tokIon, text: src[i+1 : j-1], pos: i})
			i = j
		case r == '?':
			out = append(out, token{kind: tokParam, text: "?", pos: i})
			i++
		case r == '@':
			j := i + 1
			for j < len(src) && (src[j] == '_' || src[j] == '$' || src[j] < utf8.RuneSelf && unicode.IsLetter(rune(src[j])) || src[j] >= '0' && src[j] <= '9') {
				j++
			}
			if j == i+1 {
				return nil, errAt(src, i, "'@' must be followed by a name")
			}
			out = append(out, token{kind: tokAtIdent, text: src[i+1 : j], pos: i})
			i = j
		default:
			op := ""
			for _, cand := range []string{"<<", ">>", "<=", ">=", "<>", "!=", "||"} {
				if strings.HasPrefix(src[i:], cand) {
					op = cand
					break
				}
			}
			if op == "" {
				if !strings.ContainsRune("()[]{},.:;*+-/%<>=", r) {
					return nil, errAt(src, i, fmt.Sprintf("unexpected character %q", r))
				}
				op = string(r)
			}
			out = append(out, token{kind: tokOp, text: op, pos: i})
			i += len(op)
		}
	}
	return append(out, token{kind: tokEOF, pos: len(src)}), nil
}

func scanNumber(src string, i int) int {
	j := i
	digits := func() {
		for j < len(src) && src[j] >= '0' && src[j] <= '9' {
			j++
		}
	}
	digits()
	if j < len(src) && src[j] == '.' {
		j++
		digits()
	}
	if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
		k := j + 1
		if k < len(src) && (src[k] == '+' || src[k] == '-') {
			k++
		}
		if k < len(src) && src[k] >= '0' && src[k] <= '9' {
			j = k
			digits()
		}
	}
	return j
}

// scanQuoted reads a quoted literal; a doubled quote stands for itself, as
// in SQL.
func scanQuoted(src string, i int, q byte) (string, int, error) {
	var b strings.Builder
	j := i + 1
	for {
		k := strings.IndexByte(src[j:], q)
		if k < 0 {
			what := "string literal"
			if q == '"' {
				what = "quoted identifier"
			}
			return "", 0, errAt(src, i, "the "+what+" is not closed")
		}
		b.WriteString(src[j : j+k])
		j += k + 1
		if j < len(src) && src[j] == q {
			b.WriteByte(q)
			j++
			continue
		}
		return b.String(), j, nil
	}
}

// scanIon finds the closing backtick of an Ion literal, skipping backticks
// inside Ion strings and comments.
func scanIon(src string, i int) (int, error) {
	j := i + 1
	for j < len(src) {
		switch c := src[j]; c {
		case '`':
			return j + 1, nil
		case '"', '\'':
			if strings.HasPrefix(src[j:], "'''") {
				k := strings.Index(src[j+3:], "'''")
				if k < 0 {
					return 0, errAt(src, i, "the Ion literal is not closed")
				}
				j += k + 6
				continue
			}
			j++
			for j < len(src) && src[j] != c {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			j++
		default:
			j++
		}
	}
	return 0, errAt(src, i, "the Ion literal is not closed (a ` is missing)")
}
