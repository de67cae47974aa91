package ion

import (
	"math"
	"strconv"
)

// AppendDynamoDBItem writes a struct as a DynamoDB item in DynamoDB JSON,
// the data format of DynamoDB's table exports: {"field":{"S":"..."},...}.
// Field values map as AppendDynamoDBJSON maps them. v must be a struct.
func AppendDynamoDBItem(dst []byte, v Value) []byte {
	dst = append(dst, '{')
	for i := range v.kids {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, v.kids[i].Name.String())
		dst = append(dst, ':')
		dst = appendDynamoDB(dst, &v.kids[i].Value)
	}
	return append(dst, '}')
}

// AppendDynamoDBJSON writes v as a DynamoDB attribute value:
//
//	null of any type      {"NULL":true}
//	bool                  {"BOOL":true}
//	int, decimal          {"N":"12.50"}  (exact: the decimal's own digits, exponent as E)
//	float                 {"N":"1.5"}, or {"S":"nan"}, {"S":"+inf"}, {"S":"-inf"} (N has none)
//	string, symbol        {"S":"..."}
//	timestamp             {"S":"2019-06-01T00:00Z"} (its Ion text, precision and offset kept)
//	blob, clob            {"B":"base64"}
//	list, sexp            {"L":[...]}
//	struct                {"M":{...}}
//
// Annotations are dropped, as DynamoDB has no place for them.
func AppendDynamoDBJSON(dst []byte, v Value) []byte { return appendDynamoDB(dst, &v) }

func appendDynamoDB(b []byte, v *Value) []byte {
	if v.IsNull() || (v.typ == SymbolType && v.flags&flagZero != 0) {
		return append(b, `{"NULL":true}`...)
	}
	switch v.typ {
	case BoolType:
		if v.BoolValue() {
			return append(b, `{"BOOL":true}`...)
		}
		return append(b, `{"BOOL":false}`...)
	case IntType:
		b = append(b, `{"N":"`...)
		b = appendText(b, withoutAnnotations(v))
		return append(b, `"}`...)
	case DecimalType:
		b = append(b, `{"N":"`...)
		start := len(b)
		b = appendDecimalJSON(b, v)
		for i := start; i < len(b); i++ {
			if b[i] == 'e' {
				b[i] = 'E'
			}
		}
		return append(b, `"}`...)
	case FloatType:
		f := v.FloatValue()
		switch {
		case math.IsNaN(f):
			return append(b, `{"S":"nan"}`...)
		case math.IsInf(f, 1):
			return append(b, `{"S":"+inf"}`...)
		case math.IsInf(f, -1):
			return append(b, `{"S":"-inf"}`...)
		}
		b = append(b, `{"N":"`...)
		b = strconv.AppendFloat(b, f, 'g', -1, 64)
		return append(b, `"}`...)
	case TimestampType:
		b = append(b, `{"S":"`...)
		b = appendTimestampText(b, v.TimestampValue())
		return append(b, `"}`...)
	case StringType, SymbolType:
		b = append(b, `{"S":`...)
		b = appendJSONString(b, v.str)
		return append(b, '}')
	case ClobType, BlobType:
		b = append(b, `{"B":`...)
		b = appendJSON(b, withoutAnnotations(v))
		return append(b, '}')
	case ListType, SexpType:
		b = append(b, `{"L":[`...)
		for i := range v.kids {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendDynamoDB(b, &v.kids[i].Value)
		}
		return append(b, "]}"...)
	default: // StructType
		b = append(b, `{"M":`...)
		b = AppendDynamoDBItem(b, *v)
		return append(b, '}')
	}
}
