package partiql

import (
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	amzion "github.com/amazon-ion/ion-go/ion"
	"github.com/quilldb/quill/ion"
)

// scalarFunctions are the functions QLDB documents, besides the
// aggregates, with their argument counts (min, max; -1 for any).
var scalarFunctions = map[string][2]int{
	"COALESCE":         {1, -1},
	"NULLIF":           {2, 2},
	"EXISTS":           {1, 1},
	"SIZE":             {1, 1},
	"CHAR_LENGTH":      {1, 1},
	"CHARACTER_LENGTH": {1, 1},
	"LOWER":            {1, 1},
	"UPPER":            {1, 1},
	"SUBSTRING":        {2, 3},
	"TRIM":             {1, 1},
	"UTCNOW":           {0, 0},
	"TO_TIMESTAMP":     {1, 2},
	"TO_STRING":        {1, 2},
	"DATE_ADD":         {3, 3},
	"DATE_DIFF":        {3, 3},
}

func knownFunction(name string) bool {
	_, ok := scalarFunctions[name]
	return ok || aggregates[name]
}

func functionNames() []string {
	var out []string
	for n := range scalarFunctions {
		out = append(out, n)
	}
	for n := range aggregates {
		out = append(out, n)
	}
	slices.Sort(out)
	return append(out, "CAST", "EXTRACT")
}

var castTypes = map[string]bool{"INT": true, "INTEGER": true, "DECIMAL": true, "FLOAT": true,
	"STRING": true, "SYMBOL": true, "BOOL": true, "BOOLEAN": true, "TIMESTAMP": true}

func castTypeNames() []string {
	out := make([]string, 0, len(castTypes))
	for n := range castTypes {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

var dateParts = map[string]bool{"YEAR": true, "MONTH": true, "DAY": true, "HOUR": true, "MINUTE": true,
	"SECOND": true, "TIMEZONE_HOUR": true, "TIMEZONE_MINUTE": true}

func (x *executor) call(c *Call, e *env) (value, error) {
	if aggregates[c.Name] {
		return x.aggregate(c, e)
	}
	n := scalarFunctions[c.Name]
	if len(c.Args) < n[0] || n[1] >= 0 && len(c.Args) > n[1] {
		return missing, x.errAt(c, c.Name+" takes "+arity(n)+" argument(s)")
	}
	switch c.Name {
	case "DATE_ADD", "DATE_DIFF":
		return x.dateArith(c, e)
	case "TO_STRING", "TO_TIMESTAMP":
		if len(c.Args) == 2 {
			return missing, x.errAt(c.Args[1], c.Name+" with a format pattern is not supported by Quill: without one it reads or writes Ion text")
		}
	}
	args := make([]value, len(c.Args))
	for i, a := range c.Args {
		v, err := x.eval(a, e)
		if err != nil {
			return missing, err
		}
		args[i] = v
	}
	switch c.Name {
	case "COALESCE":
		for _, a := range args {
			if !a.absent() {
				return a, nil
			}
		}
		return some(ion.Null()), nil
	case "NULLIF":
		if cmpTruth("=", args[0], args[1]) == isTrue {
			return some(ion.Null()), nil
		}
		return args[0], nil
	case "EXISTS":
		a := args[0]
		if a.absent() || a.Type() != ion.ListType && a.Type() != ion.SexpType && a.Type() != ion.StructType {
			return missing, x.errAt(c, "EXISTS needs a collection or a subquery, got "+typeName(a))
		}
		return some(ion.Bool(a.Len() > 0)), nil
	case "UTCNOW":
		return some(ion.SystemTime(x.store.Now())), nil
	}
	a := args[0]
	if a.missing {
		return missing, nil
	}
	if a.IsNull() {
		return some(ion.Null()), nil
	}
	switch c.Name {
	case "SIZE":
		if t := a.Type(); t != ion.ListType && t != ion.SexpType && t != ion.StructType {
			return missing, x.errAt(c, "SIZE needs a list, bag or struct, got "+typeName(a))
		}
		return some(ion.Int(int64(a.Len()))), nil
	case "TO_STRING":
		return some(ion.String(strings.TrimRight(a.String(), "\n"))), nil
	case "TO_TIMESTAMP":
		if !isText(a.Value) {
			return missing, x.errAt(c, "TO_TIMESTAMP needs a string, got "+typeName(a))
		}
		v, err := ion.ParseText(textOf(a.Value))
		if err != nil || v.Type() != ion.TimestampType {
			return missing, x.errAt(c, "TO_TIMESTAMP: "+strconv.Quote(textOf(a.Value))+" is not an Ion timestamp (format patterns are not supported by Quill)")
		}
		return some(v), nil
	}
	if !isText(a.Value) {
		return missing, x.errAt(c, c.Name+" needs a string, got "+typeName(a))
	}
	s := textOf(a.Value)
	switch c.Name {
	case "CHAR_LENGTH", "CHARACTER_LENGTH":
		return some(ion.Int(int64(len([]rune(s))))), nil
	case "LOWER":
		return some(ion.String(strings.ToLower(s))), nil
	case "UPPER":
		return some(ion.String(strings.ToUpper(s))), nil
	case "TRIM":
		return some(ion.String(strings.Trim(s, " "))), nil
	}
	// SUBSTRING(s, start [, length]), positions from 1 as in SQL.
	var start, length int64 = 0, -1
	for i, a := range args[1:] {
		if a.absent() {
			return some(ion.Null()), nil
		}
		n, ok := a.Int64()
		if a.Type() != ion.IntType || !ok {
			return missing, x.errAt(c, "SUBSTRING's positions must be integers, got "+typeName(a))
		}
		if i == 0 {
			start = n
		} else {
			length = n
		}
	}
	rs := []rune(s)
	from, to := start-1, int64(len(rs))
	if length >= 0 {
		to = min(to, from+length)
	}
	from = max(from, 0)
	if from >= to {
		return some(ion.String("")), nil
	}
	return some(ion.String(string(rs[from:to]))), nil
}

func arity(n [2]int) string {
	switch {
	case n[0] == n[1]:
		return strconv.Itoa(n[0])
	case n[1] < 0:
		return "at least " + strconv.Itoa(n[0])
	}
	return strconv.Itoa(n[0]) + " to " + strconv.Itoa(n[1])
}

// dateArith is DATE_ADD(part, n, t) and DATE_DIFF(part, t1, t2); the part
// is a bare word.
func (x *executor) dateArith(c *Call, e *env) (value, error) {
	id, ok := c.Args[0].(*Ident)
	part := ""
	if ok {
		part = strings.ToUpper(id.Name)
	}
	if !dateParts[part] || strings.HasPrefix(part, "TIMEZONE") {
		return missing, x.errAt(c, c.Name+"'s first argument is a date part: year, month, day, hour, minute or second")
	}
	a, err := x.eval(c.Args[1], e)
	if err != nil {
		return missing, err
	}
	b, err := x.eval(c.Args[2], e)
	if err != nil {
		return missing, err
	}
	if a.absent() || b.absent() {
		return some(ion.Null()), nil
	}
	if c.Name == "DATE_ADD" {
		n, ok := a.Int64()
		if a.Type() != ion.IntType || !ok || b.Type() != ion.TimestampType {
			return missing, x.errAt(c, "DATE_ADD takes a part, an integer and a timestamp")
		}
		t := b.Time()
		switch part {
		case "YEAR":
			t = t.AddDate(int(n), 0, 0)
		case "MONTH":
			t = t.AddDate(0, int(n), 0)
		case "DAY":
			t = t.AddDate(0, 0, int(n))
		case "HOUR":
			t = t.Add(time.Duration(n) * time.Hour)
		case "MINUTE":
			t = t.Add(time.Duration(n) * time.Minute)
		case "SECOND":
			t = t.Add(time.Duration(n) * time.Second)
		}
		ts := b.TimestampValue()
		return some(ion.Timestamp(amzion.NewTimestampWithFractionalSeconds(t, max(ts.GetPrecision(), precisionOf(part)), ts.GetTimezoneKind(), ts.GetNumberOfFractionalSeconds()))), nil
	}
	if a.Type() != ion.TimestampType || b.Type() != ion.TimestampType {
		return missing, x.errAt(c, "DATE_DIFF takes a part and two timestamps")
	}
	t1, t2 := a.Time().UTC(), b.Time().UTC()
	var d int64
	switch part {
	case "YEAR":
		d = int64(t2.Year() - t1.Year())
	case "MONTH":
		d = int64((t2.Year()-t1.Year())*12 + int(t2.Month()) - int(t1.Month()))
	case "DAY":
		d = int64(t2.Sub(t1) / (24 * time.Hour))
	case "HOUR":
		d = int64(t2.Sub(t1) / time.Hour)
	case "MINUTE":
		d = int64(t2.Sub(t1) / time.Minute)
	case "SECOND":
		d = int64(t2.Sub(t1) / time.Second)
	}
	return some(ion.Int(d)), nil
}

func precisionOf(part string) amzion.TimestampPrecision {
	switch part {
	case "YEAR":
		return amzion.TimestampPrecisionYear
	case "MONTH":
		return amzion.TimestampPrecisionMonth
	case "DAY":
		return amzion.TimestampPrecisionDay
	case "HOUR", "MINUTE":
		return amzion.TimestampPrecisionMinute
	}
	return amzion.TimestampPrecisionSecond
}

func (x *executor) extract(ex *Extract, v value) (value, error) {
	if v.absent() {
		return some(ion.Null()), nil
	}
	if v.Type() != ion.TimestampType {
		return missing, x.errAt(ex, "EXTRACT needs a timestamp, got "+typeName(v))
	}
	t := v.Time()
	_, off := t.Zone()
	var n int
	switch ex.Part {
	case "YEAR":
		n = t.Year()
	case "MONTH":
		n = int(t.Month())
	case "DAY":
		n = t.Day()
	case "HOUR":
		n = t.Hour()
	case "MINUTE":
		n = t.Minute()
	case "SECOND":
		// Seconds with their fraction, as a decimal.
		r := new(big.Rat).SetFrac64(int64(t.Second())*1e9+int64(t.Nanosecond()), 1e9)
		return some(ratDecimal(r)), nil
	case "TIMEZONE_HOUR":
		n = off / 3600
	case "TIMEZONE_MINUTE":
		n = off % 3600 / 60
	}
	return some(ion.Int(int64(n))), nil
}

func (x *executor) cast(c *Cast, v value) (value, error) {
	if v.absent() {
		return v, nil
	}
	fail := func() (value, error) {
		return missing, x.errAt(c, "cannot CAST "+strings.TrimSpace(v.String())+" AS "+c.Type)
	}
	switch c.Type {
	case "STRING", "SYMBOL":
		s := ""
		switch {
		case isText(v.Value):
			s = textOf(v.Value)
		case v.Type() == ion.ListType || v.Type() == ion.StructType || v.Type() == ion.SexpType:
			return fail()
		default:
			s = strings.TrimSpace(v.Value.WithAnnotations().String())
		}
		if c.Type == "SYMBOL" {
			return some(ion.SymbolValue(ion.Sym(s))), nil
		}
		return some(ion.String(s)), nil
	case "BOOL", "BOOLEAN":
		switch {
		case v.Type() == ion.BoolType:
			return v, nil
		case isNumber(v.Value):
			r, ok := rat(v.Value)
			return some(ion.Bool(!ok || r.Sign() != 0)), nil
		case isText(v.Value):
			switch strings.ToLower(textOf(v.Value)) {
			case "true":
				return some(ion.Bool(true)), nil
			case "false":
				return some(ion.Bool(false)), nil
			}
		}
		return fail()
	case "TIMESTAMP":
		if v.Type() == ion.TimestampType {
			return v, nil
		}
		if isText(v.Value) {
			t, err := ion.ParseText(textOf(v.Value))
			if err == nil && t.Type() == ion.TimestampType {
				return some(t), nil
			}
		}
		return fail()
	}
	// Numbers.
	src := v.Value
	if isText(src) {
		n, err := parseNumber(strings.TrimSpace(textOf(src)))
		if err != nil {
			return fail()
		}
		src = n
	} else if src.Type() == ion.BoolType {
		src = ion.Int(map[bool]int64{false: 0, true: 1}[src.BoolValue()])
	}
	if !isNumber(src) {
		return fail()
	}
	switch c.Type {
	case "FLOAT":
		return some(ion.Float(floatOf(src))), nil
	case "DECIMAL":
		if src.Type() == ion.DecimalType {
			return some(src), nil
		}
		if src.Type() == ion.IntType {
			return some(ion.DecimalOf(toDecimal(src))), nil
		}
		r, ok := rat(src)
		if !ok {
			return fail()
		}
		return some(ratDecimal(r)), nil
	}
	// INT truncates toward zero.
	r, ok := rat(src)
	if !ok {
		return fail()
	}
	return some(ion.BigInt(new(big.Int).Quo(r.Num(), r.Denom()))), nil
}
