package ion

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// writerGen makes a random value of the kinds BinaryWriter writes and the
// calls that write it.
type writerGen struct {
	rng   *rand.Rand
	names []string
}

func (g *writerGen) value(depth int) (Value, func(w *BinaryWriter)) {
	k := g.rng.IntN(6)
	if depth >= 3 {
		k = g.rng.IntN(4)
	}
	switch k {
	case 0:
		s := string(make([]byte, g.rng.IntN(30))) + "é"
		return String(s), func(w *BinaryWriter) { w.String(s) }
	case 1:
		b := make([]byte, g.rng.IntN(40))
		for i := range b {
			b[i] = byte(g.rng.IntN(256))
		}
		return Blob(b), func(w *BinaryWriter) { w.Blob(b) }
	case 2:
		n := []int64{0, 1, -1, 127, 128, -128, 1 << 40, math.MaxInt64, math.MinInt64 + 1, math.MinInt64, g.rng.Int64()}[g.rng.IntN(11)]
		return Int(n), func(w *BinaryWriter) { w.Int(n) }
	case 3:
		t := time.UnixMilli(g.rng.Int64N(1e13)).Add(time.Duration(g.rng.IntN(1e6)))
		if g.rng.IntN(4) == 0 {
			t = t.Truncate(time.Second) // no fraction
		}
		return SystemTime(t), func(w *BinaryWriter) { w.SystemTime(t) }
	case 4:
		var kids []Value
		var calls []func(*BinaryWriter)
		for range g.rng.IntN(20) {
			v, c := g.value(depth + 1)
			kids, calls = append(kids, v), append(calls, c)
		}
		return List(kids...), func(w *BinaryWriter) {
			w.BeginList()
			for _, c := range calls {
				c(w)
			}
			w.End()
		}
	default:
		var fields []Field
		var names []string
		var calls []func(*BinaryWriter)
		for range g.rng.IntN(12) {
			name := g.names[g.rng.IntN(len(g.names))]
			v, c := g.value(depth + 1)
			fields, names, calls = append(fields, F(name, v)), append(names, name), append(calls, c)
		}
		return Struct(fields...), func(w *BinaryWriter) {
			w.BeginStruct()
			for i, c := range calls {
				w.Field(names[i])
				c(w)
			}
			w.End()
		}
	}
}

// localSymbols lists the field names of v that are neither system nor
// shared symbols, in the order AppendBinary meets them.
func localSymbols(v Value, shared *SharedSymbolTable, seen map[string]bool, out []string) []string {
	for _, f := range v.kids {
		if v.typ == StructType {
			name, _ := f.Name.Text()
			_, system := systemSID(name)
			_, inShared := shared.sids[name]
			if !system && !inShared && !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
		}
		out = localSymbols(f.Value, shared, seen, out)
	}
	return out
}

// A stream written by calls is byte for byte the one AppendBinaryShared
// writes for the value the calls describe, and decodes to that value.
func TestBinaryWriterWritesWhatTheEncoderWrites(t *testing.T) {
	g := &writerGen{rng: rand.New(rand.NewPCG(3, 5)),
		names: []string{"colour", "statements", "version", "name", "a", "KmA3ZZca7vAIiJAK9S5Iwl", "ü", ""}}
	var w BinaryWriter
	for round := range 2000 {
		v, write := g.value(0)
		if round%2 == 0 {
			v, write = g.value(2) // scalars and flat containers too
		}
		shared := testShared
		if round%3 == 0 {
			shared = nil
		}
		local := localSymbols(v, testShared, map[string]bool{}, nil)
		if shared == nil {
			local = localSymbols(v, &SharedSymbolTable{}, map[string]bool{}, nil)
		}
		prefix := []byte("keep")
		w.Start(prefix, shared, local...)
		write(&w)
		got, err := w.Finish()
		require.NoError(t, err)
		want := append([]byte("keep"), AppendBinary(nil, v)...)
		if shared != nil {
			want = AppendBinaryShared([]byte("keep"), v, shared)
		}
		require.Equal(t, want, got, "round %d: %s", round, v)
		back, err := Parse(got[len(prefix):])
		require.NoError(t, err)
		require.True(t, Equal(back, v), "round %d", round)
	}
}

func TestBinaryWriterReportsMisuse(t *testing.T) {
	var w BinaryWriter
	w.Start(nil, testShared, "mine")
	w.BeginStruct()
	w.Field("unknown")
	w.Int(1)
	w.End()
	_, err := w.Finish()
	require.ErrorContains(t, err, `field name "unknown" is not in the stream's symbol tables`)

	w.Start(nil, nil)
	w.BeginList()
	_, err = w.Finish()
	require.ErrorContains(t, err, "1 containers left open")

	w.Start(nil, nil)
	w.End()
	_, err = w.Finish()
	require.ErrorContains(t, err, "End without an open container")
}

func TestSystemTimeFieldDigestIsTheFieldDigestOfSystemTime(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for range 2000 {
		tm := time.Unix(0, rng.Int64N(1<<62)).In(time.FixedZone("x", 3600*rng.IntN(12)))
		if rng.IntN(3) == 0 {
			tm = tm.Truncate(time.Second)
		}
		require.Equal(t, FieldDigest("txTime", SystemTime(tm)), SystemTimeFieldDigest("txTime", tm), "%v", tm)
	}
}
