package merkle

import (
	"fmt"
	"testing"
)

func BenchmarkDot(b *testing.B) {
	x, y := leafHash(1), leafHash(2)
	b.ReportAllocs()
	for b.Loop() {
		x = Dot(x, y)
	}
}

// BenchmarkAppend measures the accumulator alone and with a visitor that
// keeps every node, as the journal does.
func BenchmarkAppend(b *testing.B) {
	leaf := leafHash(1)
	b.Run("no-visitor", func(b *testing.B) {
		var acc Accumulator
		b.ReportAllocs()
		for b.Loop() {
			acc.Append(leaf, nil)
		}
	})
	b.Run("visitor", func(b *testing.B) {
		var acc Accumulator
		nodes := 0
		visit := func(NodeID, Hash) { nodes++ }
		b.ReportAllocs()
		for b.Loop() {
			acc.Append(leaf, visit)
		}
		b.ReportMetric(float64(nodes)/float64(b.N), "nodes/op")
	})
}

func BenchmarkInclusionProof(b *testing.B) {
	for _, n := range []uint64{1 << 10, 1<<20 + 1} {
		m := newMemTree(n)
		b.Run(fmt.Sprintf("size=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			i := uint64(0)
			for b.Loop() {
				if _, err := InclusionProof(i%n, n, m.get); err != nil {
					b.Fatal(err)
				}
				i += 7919
			}
		})
	}
}

func BenchmarkVerifyInclusion(b *testing.B) {
	for _, n := range []uint64{1 << 10, 1<<20 + 1} {
		m := newMemTree(n)
		root, _ := m.acc.Root()
		index := n / 3
		proof, err := InclusionProof(index, n, m.get)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("size=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := VerifyInclusion(index, n, m.leaves[index], proof, root); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkConsistencyProof(b *testing.B) {
	const n = 1<<20 + 1
	m := newMemTree(n)
	r1, _ := Root(m.leaves[:1000])
	r2, _ := m.acc.Root()
	b.Run("prove", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ConsistencyProof(1000, n, m.get); err != nil {
				b.Fatal(err)
			}
		}
	})
	proof, _ := ConsistencyProof(1000, n, m.get)
	b.Run("verify", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := VerifyConsistency(1000, n, r1, r2, proof); err != nil {
				b.Fatal(err)
			}
		}
	})
}
