package ion

import (
	"time"

	amzion "github.com/amazon-ion/ion-go/ion"
)

// SystemTime returns t as QLDB writes system timestamps (blockTimestamp,
// txTime, startTime): truncated to exactly millisecond precision, in UTC
// with the Z offset, such as 2019-09-16T19:37:05.360Z. A time that falls on
// a whole second keeps its three fractional digits (.000), because the Ion
// hash of a timestamp depends on its precision.
func SystemTime(t time.Time) Value {
	t = t.UTC().Truncate(time.Millisecond)
	return Timestamp(amzion.NewTimestampWithFractionalSeconds(t, amzion.TimestampPrecisionNanosecond, amzion.TimezoneUTC, 3))
}

// IsSystemTime reports whether v is a timestamp with exactly millisecond
// precision and the UTC offset, as SystemTime makes them.
func IsSystemTime(v Value) bool {
	if v.typ != TimestampType || v.IsNull() {
		return false
	}
	ts := v.TimestampValue()
	_, off := ts.GetDateTime().Zone()
	return ts.GetPrecision() == amzion.TimestampPrecisionNanosecond && ts.GetNumberOfFractionalSeconds() == 3 &&
		ts.GetTimezoneKind() == amzion.TimezoneUTC && off == 0
}

// appendTimestampRepr appends a timestamp's Ion Hash representation, which
// is its Ion binary encoding: offset in minutes (-0 when unknown), then the
// UTC components its precision has, then fractional seconds as an exponent
// and a coefficient (omitted when zero).
func appendTimestampRepr(b []byte, ts amzion.Timestamp) []byte {
	t, p := ts.GetDateTime(), ts.GetPrecision()
	if ts.GetTimezoneKind() == amzion.TimezoneUnspecified || p <= amzion.TimestampPrecisionDay {
		b = append(b, 0xC0)
	} else {
		_, off := t.Zone()
		b = appendVarInt(b, int64(off/60))
	}
	t = t.UTC()
	b = appendVarUint(b, uint64(t.Year()))
	if p >= amzion.TimestampPrecisionMonth {
		b = appendVarUint(b, uint64(t.Month()))
	}
	if p >= amzion.TimestampPrecisionDay {
		b = appendVarUint(b, uint64(t.Day()))
	}
	if p >= amzion.TimestampPrecisionMinute {
		b = appendVarUint(b, uint64(t.Hour()))
		b = appendVarUint(b, uint64(t.Minute()))
	}
	if p >= amzion.TimestampPrecisionSecond {
		b = appendVarUint(b, uint64(t.Second()))
	}
	if digits := ts.GetNumberOfFractionalSeconds(); p == amzion.TimestampPrecisionNanosecond && digits > 0 {
		b = appendVarInt(b, -int64(digits))
		if coef := ts.TruncatedNanoseconds(); coef > 0 {
			b = appendIonInt(b, false, &Value{n: uint64(coef)})
		}
	}
	return b
}
