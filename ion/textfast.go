package ion

import (
	"encoding/base64"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	amzion "github.com/amazon-ion/ion-go/ion"
)

// A fast path for reading Ion text. ion-go's text reader tokenizes a byte
// at a time through bufio and strings.Builder; verifying a revision spent
// half its time there. The fast path reads the Ion that QLDB and Quill
// write (structs, lists, strings, symbols, annotations, ints, decimals,
// timestamps, blobs, bools, nulls) and gives up, silently, on anything
// else or anything malformed: long strings, sexps, clobs, comments, floats,
// big ints, $-symbols, escaped newlines, unusual whitespace. ParseAll then
// reads the input with ion-go, which stays the reference: every error
// message comes from it, and the fast path must produce exactly ion-go's
// values for what it accepts (fuzzed against it in textfast_test.go).
// Decimals and timestamps are still converted by ion-go's own functions.

// textParser reads one Ion text stream; ok is cleared at the first thing
// it does not handle.
type textParser struct {
	s   string
	pos int
	ok  bool
}

// parseTextFast returns the top-level values of data, or ok=false if the
// fast path does not handle it.
func parseTextFast(data []byte) (vals []Value, ok bool) {
	if !utf8.Valid(data) {
		return nil, false
	}
	p := &textParser{s: string(data), ok: true}
	for p.ok {
		p.skipSpace()
		if p.pos == len(p.s) {
			return vals, true
		}
		v := p.value()
		if !p.ok {
			return nil, false
		}
		vals = append(vals, v)
		if p.pos < len(p.s) && !isSpace(p.s[p.pos]) {
			return nil, false // top-level values are separated by whitespace here
		}
	}
	return nil, false
}

func (p *textParser) fail() { p.ok = false }

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

func (p *textParser) skipSpace() {
	for p.pos < len(p.s) && isSpace(p.s[p.pos]) {
		p.pos++
	}
}

func (p *textParser) peek() byte {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

// value reads an optionally annotated value.
func (p *textParser) value() Value {
	var annots []Symbol
	for p.ok {
		start := p.pos
		var sym string
		switch c := p.peek(); {
		case isIdentStart(c):
			sym = p.identifier()
			if keyword(sym) {
				p.pos = start
				return p.unannotated(annots)
			}
		case c == '\'':
			sym = p.quotedSymbol()
		default:
			return p.unannotated(annots)
		}
		if !p.ok {
			return Value{}
		}
		if strings.HasPrefix(p.s[p.pos:], "::") {
			p.pos += 2
			annots = append(annots, Sym(sym))
			p.skipSpace()
			continue
		}
		p.endOfScalar()
		return annotate(SymbolValue(Sym(sym)), annots)
	}
	return Value{}
}

func annotate(v Value, annots []Symbol) Value {
	if len(annots) > 0 {
		v.annots = annots
	}
	return v
}

// unannotated reads a value that is not a symbol (symbols are read by
// value, which must see whether they are annotations).
func (p *textParser) unannotated(annots []Symbol) Value {
	c := p.peek()
	switch {
	case c == '{' && strings.HasPrefix(p.s[p.pos:], "{{"):
		return annotate(p.blob(), annots)
	case c == '{':
		return annotate(p.structValue(), annots)
	case c == '[':
		return annotate(p.list(), annots)
	case c == '"':
		s := p.quoted('"')
		p.endOfScalar()
		return annotate(String(s), annots)
	case c == '-' || c >= '0' && c <= '9':
		return annotate(p.number(), annots)
	case isIdentStart(c):
		return annotate(p.keywordValue(), annots)
	}
	p.fail()
	return Value{}
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func isIdentPart(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' || c == '$' }

// identifier reads [A-Za-z_][A-Za-z0-9_$]*. Identifiers starting with $
// (symbol IDs, system symbols) are not handled: isIdentStart excludes $.
func (p *textParser) identifier() string {
	start := p.pos
	for p.pos < len(p.s) && isIdentPart(p.s[p.pos]) {
		p.pos++
	}
	return p.s[start:p.pos]
}

func keyword(s string) bool { return s == "null" || s == "true" || s == "false" || s == "nan" }

var nullTypes = map[string]Type{
	"null": NullType, "bool": BoolType, "int": IntType, "float": FloatType, "decimal": DecimalType,
	"timestamp": TimestampType, "symbol": SymbolType, "string": StringType, "clob": ClobType,
	"blob": BlobType, "list": ListType, "sexp": SexpType, "struct": StructType,
}

// keywordValue reads null, a typed null, true or false.
func (p *textParser) keywordValue() Value {
	word := p.identifier()
	var v Value
	switch word {
	case "true", "false":
		v = Bool(word == "true")
	case "null":
		if p.peek() == '.' {
			p.pos++
			t, ok := nullTypes[p.identifier()]
			if !ok {
				p.fail()
				return Value{}
			}
			v = NullOf(t)
		}
	default: // nan, or an identifier where a value cannot be a symbol
		p.fail()
		return Value{}
	}
	p.endOfScalar()
	return v
}

// endOfScalar requires what follows a scalar to end it.
func (p *textParser) endOfScalar() {
	if p.pos == len(p.s) {
		return
	}
	switch c := p.s[p.pos]; {
	case isSpace(c), c == ',', c == ']', c == '}':
	default:
		p.fail()
	}
}

func (p *textParser) structValue() Value {
	p.pos++ // {
	v := Value{typ: StructType, kids: []Field{}}
	p.skipSpace()
	if p.peek() == '}' {
		p.pos++
		return v
	}
	for p.ok {
		var name string
		switch c := p.peek(); {
		case isIdentStart(c):
			if name = p.identifier(); keyword(name) {
				p.fail()
			}
		case c == '\'':
			name = p.quotedSymbol()
		case c == '"':
			name = p.quoted('"')
		default:
			p.fail()
		}
		p.skipSpace()
		if p.peek() != ':' || strings.HasPrefix(p.s[p.pos:], "::") {
			p.fail()
			break
		}
		p.pos++
		p.skipSpace()
		f := Field{Name: Sym(name), Value: p.value()}
		v.kids = append(v.kids, f)
		if p.listEnd('}') {
			break
		}
	}
	return v
}

func (p *textParser) list() Value {
	p.pos++ // [
	v := Value{typ: ListType, kids: []Field{}}
	p.skipSpace()
	if p.peek() == ']' {
		p.pos++
		return v
	}
	for p.ok {
		v.kids = append(v.kids, Field{Value: p.value()})
		if p.listEnd(']') {
			break
		}
	}
	return v
}

// listEnd reads the separator after an element: true at the closing
// bracket, false after a comma followed by another element.
func (p *textParser) listEnd(closing byte) bool {
	if !p.ok {
		return true
	}
	p.skipSpace()
	switch p.peek() {
	case closing:
		p.pos++
		return true
	case ',':
		p.pos++
		p.skipSpace()
		if p.peek() == closing { // a trailing comma: left to ion-go
			p.fail()
			return true
		}
		return false
	}
	p.fail()
	return true
}

// quotedSymbol reads a '...' symbol. Not handled: a long string (three
// quotes) and text starting with $ (ion-go gives '$ion_symbol_table'
// annotations and the like their system meaning).
func (p *textParser) quotedSymbol() string {
	if strings.HasPrefix(p.s[p.pos:], "''") {
		p.fail()
		return ""
	}
	s := p.quoted('\'')
	if strings.HasPrefix(s, "$") {
		p.fail()
	}
	return s
}

// quoted reads a string or quoted symbol delimited by q, with its escapes.
func (p *textParser) quoted(q byte) string {
	p.pos++
	start := p.pos
	// Most strings have no escapes: return a slice of the input.
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		switch {
		case c == q:
			p.pos++
			return p.s[start : p.pos-1]
		case c == '\\':
			return p.escaped(q, start)
		case c < 0x20:
			p.fail()
			return ""
		}
		p.pos++
	}
	p.fail()
	return ""
}

func (p *textParser) escaped(q byte, start int) string {
	var b strings.Builder
	b.WriteString(p.s[start:p.pos])
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		switch {
		case c == q:
			p.pos++
			return b.String()
		case c < 0x20:
			p.fail()
			return ""
		case c != '\\':
			b.WriteByte(c)
			p.pos++
			continue
		}
		p.pos++ // the backslash
		if p.pos >= len(p.s) {
			break
		}
		e := p.s[p.pos]
		p.pos++
		switch e {
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'f':
			b.WriteByte('\f')
		case 'r':
			b.WriteByte('\r')
		case 'v':
			b.WriteByte('\v')
		case '0':
			b.WriteByte(0)
		case '?', '\'', '"', '/', '\\':
			b.WriteByte(e)
		case 'x', 'u', 'U':
			n := 2 // \xHH
			switch e {
			case 'u':
				n = 4
			case 'U':
				n = 8
			}
			if p.pos+n > len(p.s) {
				p.fail()
				return ""
			}
			cp, err := strconv.ParseUint(p.s[p.pos:p.pos+n], 16, 32)
			p.pos += n
			if err != nil || cp >= 0xD800 && cp <= 0xDFFF || cp > utf8.MaxRune {
				p.fail() // surrogates (pairs included) are left to ion-go
				return ""
			}
			b.WriteRune(rune(cp))
		default: // an escaped newline, or no escape at all
			p.fail()
			return ""
		}
	}
	p.fail()
	return ""
}

// blob reads {{ base64 }}; a clob ({{ "..." }}) is not handled.
func (p *textParser) blob() Value {
	p.pos += 2
	end := strings.Index(p.s[p.pos:], "}}")
	if end < 0 {
		p.fail()
		return Value{}
	}
	body := p.s[p.pos : p.pos+end]
	p.pos += end + 2
	var clean strings.Builder
	for i := range len(body) {
		c := body[i]
		switch {
		case isSpace(c):
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/', c == '=':
			clean.WriteByte(c)
		default:
			p.fail() // a clob, or not base64
			return Value{}
		}
	}
	raw, err := base64.StdEncoding.DecodeString(clean.String())
	if err != nil {
		p.fail()
		return Value{}
	}
	return Value{typ: BlobType, str: string(raw)}
}

// The number and timestamp forms the fast path reads; everything else that
// starts like a number is left to ion-go.
var (
	intForm       = regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)
	decimalForm   = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([dD][+-]?[0-9]+)?$`)
	timestampForm = regexp.MustCompile(`^[0-9]{4}(T|-[0-9]{2}T|-[0-9]{2}-[0-9]{2}T?|-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}:[0-9]{2}))$`)
)

func isNumberPart(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' ||
		c == '.' || c == ':' || c == '+' || c == '-' || c == '_'
}

func (p *textParser) number() Value {
	start := p.pos
	for p.pos < len(p.s) && isNumberPart(p.s[p.pos]) {
		p.pos++
	}
	tok := p.s[start:p.pos]
	p.endOfScalar()
	if !p.ok {
		return Value{}
	}
	switch {
	case intForm.MatchString(tok):
		i, err := strconv.ParseInt(tok, 10, 64)
		if err != nil || tok == "-0" {
			break // big ints and -0 are left to ion-go
		}
		return Int(i)
	case decimalForm.MatchString(tok):
		d, err := amzion.ParseDecimal(tok)
		if err != nil {
			break
		}
		return DecimalOf(d)
	case timestampForm.MatchString(tok):
		ts, err := amzion.ParseTimestamp(tok)
		if err != nil {
			break
		}
		return Timestamp(ts)
	}
	p.fail()
	return Value{}
}
