package ion

import (
	"encoding/binary"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	amzion "github.com/amazon-ion/ion-go/ion"
	refion "github.com/amzn/ion-go/ion"
	ionhash "github.com/amzn/ion-hash-go"
	"github.com/stretchr/testify/require"
)

// referenceHash is the SHA-256 Ion hash of the single value in text as
// computed by github.com/amzn/ion-hash-go, the reference implementation
// (which reads with its own ion-go, v1.1.3).
func referenceHash(t testing.TB, text string) []byte {
	t.Helper()
	hr, err := ionhash.NewHashReader(refion.NewReaderString(text), ionhash.NewCryptoHasherProvider(ionhash.SHA256))
	require.NoError(t, err)
	require.True(t, hr.Next(), "reference reader found no value in %q: %v", text, hr.Err())
	hr.Next() // hashes the value
	require.NoError(t, hr.Err(), "reference reader on %q", text)
	sum, err := hr.Sum(nil)
	require.NoError(t, err)
	return sum
}

// checkAgainstReference parses text, hashes it, and compares with the
// reference implementation and with the hash of v (the value the text was
// made from, if any).
func checkAgainstReference(t testing.TB, text string) {
	t.Helper()
	v, err := ParseText(text)
	require.NoError(t, err, "parse %q", text)
	got := Hash(v)
	require.Equal(t, referenceHash(t, text), got[:], "hash of %q", text)
}

// valueGen builds random Ion values from a byte stream, so that a fuzzer
// can steer it and a seeded PRNG can drive it in ordinary tests.
type valueGen struct {
	next func() byte
}

func genFromBytes(data []byte) *valueGen {
	i := 0
	return &valueGen{next: func() byte {
		if i >= len(data) {
			return 0
		}
		i++
		return data[i-1]
	}}
}

func genFromSeed(seed uint64) *valueGen {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return &valueGen{next: func() byte { return byte(r.Uint32()) }}
}

func (g *valueGen) intn(n int) int { return int(g.next()) % n }

func (g *valueGen) u64() uint64 {
	var b [8]byte
	for i := range b {
		b[i] = g.next()
	}
	return binary.BigEndian.Uint64(b[:])
}

// text returns a short string from an alphabet that includes the Ion Hash
// marker bytes, quotes, escapes, control characters and non-ASCII runes.
func (g *valueGen) text() string {
	alphabet := []rune{'a', 'b', 'Z', '0', '_', '$', ' ', '\'', '"', '\\', '\n', '\t', 0x00, 0x0B, 0x0C, 0x0E, 0x7F,
		'é', '€', '😀', 0x2028, 0xFEFF}
	n := g.intn(6)
	var b strings.Builder
	for range n {
		b.WriteRune(alphabet[g.intn(len(alphabet))])
	}
	return b.String()
}

func (g *valueGen) bytes(maxByte int) []byte {
	b := make([]byte, g.intn(7))
	for i := range b {
		b[i] = byte(g.intn(maxByte))
	}
	return b
}

func (g *valueGen) symbol() Symbol {
	if g.intn(16) == 0 {
		return SymbolZero
	}
	names := []string{"a", "b", "id", "data", "", "x y", "null", "$ion", "é"}
	if g.intn(3) == 0 {
		return Sym(g.text())
	}
	return Sym(names[g.intn(len(names))])
}

func (g *valueGen) timestamp() amzion.Timestamp {
	// Ion's years are 0001 to 9999; 250*40+40 would reach 10001.
	year := min(2+g.intn(250)*40+g.intn(40), 9999)
	month, day := 1+g.intn(12), 1+g.intn(28)
	hour, minute, sec := g.intn(24), g.intn(60), g.intn(60)
	digits := uint8(1 + g.intn(9))
	nanos := int(g.u64() % 1e9)
	for range 9 - int(digits) {
		nanos -= nanos % int(math.Pow10(9-int(digits)))
	}
	precisions := []amzion.TimestampPrecision{amzion.TimestampPrecisionYear, amzion.TimestampPrecisionMonth,
		amzion.TimestampPrecisionDay, amzion.TimestampPrecisionMinute, amzion.TimestampPrecisionSecond,
		amzion.TimestampPrecisionNanosecond}
	p := precisions[g.intn(len(precisions))]
	if p <= amzion.TimestampPrecisionDay {
		return amzion.NewDateTimestamp(time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC), p)
	}
	kind, loc := amzion.TimezoneUTC, time.UTC
	switch g.intn(3) {
	case 0:
		kind = amzion.TimezoneUnspecified // -00:00
	case 1:
		off := (g.intn(2*1439+1) - 1439) * 60
		if off != 0 {
			kind, loc = amzion.TimezoneLocal, time.FixedZone("", off)
		}
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nanos, loc)
	if p != amzion.TimestampPrecisionNanosecond {
		return amzion.NewTimestamp(t.Truncate(time.Second), p, kind)
	}
	return amzion.NewTimestampWithFractionalSeconds(t, p, kind, digits)
}

func (g *valueGen) value(depth int) Value {
	var v Value
	kind := g.intn(16)
	if depth >= 3 && kind >= 11 {
		kind %= 11
	}
	switch kind {
	case 0:
		v = NullOf(Type(g.intn(int(StructType) + 1)))
	case 1:
		v = Bool(g.intn(2) == 1)
	case 2:
		switch g.intn(4) {
		case 0:
			v = Int(int64(g.intn(256)) - 128)
		case 1:
			v = Int(int64(g.u64()))
		case 2:
			v = Uint(g.u64())
		default:
			b := new(big.Int).SetUint64(g.u64())
			b.Lsh(b, uint(64+g.intn(64)))
			if g.intn(2) == 0 {
				b.Neg(b)
			}
			v = BigInt(b)
		}
	case 3:
		f := math.Float64frombits(g.u64())
		specials := []float64{0, math.Copysign(0, -1), 1, -1.5, math.Inf(1), math.Inf(-1), math.NaN(), 1e300, 5e-324}
		if g.intn(3) == 0 {
			f = specials[g.intn(len(specials))]
		}
		v = Float(f)
	case 4:
		exp := int32(g.intn(41) - 20)
		switch g.intn(4) {
		case 0:
			v = DecimalOf(amzion.NewDecimal(big.NewInt(0), exp, true)) // -0 with any exponent
		case 1:
			v = Decimal(0, exp)
		default:
			v = Decimal(int64(g.u64()>>uint(g.intn(64))), exp)
			if g.intn(2) == 0 {
				v = DecimalOf(amzion.NewDecimal(new(big.Int).Neg(v.BigInt()), exp, false))
			}
		}
	case 5:
		v = Timestamp(g.timestamp())
	case 6:
		v = SymbolValue(g.symbol())
	case 7:
		v = String(g.text())
	case 8:
		v = Clob(g.bytes(128))
	case 9:
		v = Blob(g.bytes(256))
	case 10:
		v = String("plain")
	case 11, 12:
		elems := make([]Value, g.intn(4))
		for i := range elems {
			elems[i] = g.value(depth + 1)
		}
		if kind == 11 {
			v = List(elems...)
		} else {
			v = Sexp(elems...)
		}
	default:
		fields := make([]Field, g.intn(5))
		for i := range fields {
			fields[i] = Field{Name: g.symbol(), Value: g.value(depth + 1)}
		}
		v = Struct(fields...)
	}
	if g.intn(5) == 0 {
		anns := make([]Symbol, 1+g.intn(2))
		for i := range anns {
			anns[i] = g.symbol()
		}
		v = v.WithAnnotations(anns...)
	}
	return v
}

// checkGenerated writes a generated value as Ion text, and checks that our
// hash of it, of the text, and of the binary encoding agree with each other
// and with the reference implementation.
func checkGenerated(t testing.TB, v Value) {
	t.Helper()
	text, err := MarshalText(v)
	require.NoError(t, err)
	parsed, err := ParseText(string(text))
	require.NoError(t, err, "parse our own text %q", text)
	want := Hash(v)
	require.Equal(t, want, Hash(parsed), "text round trip changed the hash of %s", text)
	bin, err := MarshalBinary(v)
	require.NoError(t, err)
	fromBin, err := Parse(bin)
	require.NoError(t, err)
	require.Equal(t, want, Hash(fromBin), "binary round trip changed the hash of %s", text)
	require.Equal(t, referenceHash(t, string(text)), want[:], "hash of %s", text)
}

func TestIonHashAgreesWithReferenceOnRandomValues(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 300
	}
	for seed := range uint64(n) {
		checkGenerated(t, genFromSeed(seed).value(0))
	}
}

func FuzzIonHashAgreesWithReference(f *testing.F) {
	f.Add([]byte{13, 3, 0, 1, 2, 5, 5, 1})
	f.Add([]byte{5, 200, 7, 12, 1, 17, 3, 40, 5, 9, 9, 9, 9, 9, 9, 9, 9, 2})
	f.Add([]byte{11, 3, 4, 0, 0, 0, 0, 0, 0, 0, 1, 6, 7, 2, 8, 9})
	f.Fuzz(func(t *testing.T, data []byte) {
		checkGenerated(t, genFromBytes(data).value(0))
	})
}

func TestIonHashAgreesWithReferenceOnQLDBValues(t *testing.T) {
	for _, text := range []string{
		`{VIN:"1N4AL11D75C109151",LicensePlateNumber:"LEWISR261LL",State:"WA",PendingPenaltyTicketAmount:90.25,ValidFromDate:2017-08-21,ValidToDate:2020-05-11,Owners:{PrimaryOwner:{PersonId:"BFJKdXhnLRT27sXBnojNGW"},SecondaryOwners:[{PersonId:"CMVdR77XP8zAglmmFDGTvt"}]},City:"Everett"}`,
		`{id:"JUJgkIcNbhS2goq8RqLuZ4",version:3,txTime:2019-09-16T19:37:05.344Z,txId:"FnQeJBAicTX0Ah32ZnVtSX"}`,
		`2019-09-16T19:37:05.000Z`,
		`2019-09-16T19:37:05.344-00:00`,
		`{a:1,a:1,a:2}`,
		`ann::{id:"x",count:3}`,
	} {
		checkAgainstReference(t, text)
	}
}

// TestNaNHashesCanonically checks that a NaN built in Go, whatever payload
// bits it carries (math.NaN() sets one), hashes as the quiet NaN
// 0x7ff8000000000000 that the official suite expects for nan.
func TestNaNHashesCanonically(t *testing.T) {
	want := []byte{0x0b, 0x40, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0, 0x0e}
	for _, bits := range []uint64{math.Float64bits(math.NaN()), 0x7ff0000000000001, 0xfff8000000000000} {
		got := (&hasher{digest: identityDigest}).preimage(Float(math.Float64frombits(bits)))
		require.Equal(t, want, got, "NaN %#x", bits)
	}
}
