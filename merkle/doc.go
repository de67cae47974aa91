// Package merkle is Quill's pure hashing core: QLDB's pairwise combine
// ("dot"), Merkle roots of lists, the append-only accumulator that backs a
// journal strand's digest, and inclusion and consistency proofs with their
// verifiers.
//
// It uses only the standard library and performs no I/O: where a proof needs
// stored tree nodes, the caller passes a [NodeGetter] that reads them.
//
// # Hashing
//
// QLDB combines two hashes with [Dot]: the pair is ordered by comparing the
// 32 bytes as signed integers starting from the last byte, and the smaller is
// hashed first (SHA-256 of the concatenation). Dot is therefore commutative and
// proofs are plain lists of sibling hashes without left/right flags. A list's
// Merkle root ([Root]) pairs neighbours level by level and promotes an
// unpaired last element unchanged, which gives the RFC 6962 tree shape.
//
// # The journal tree
//
// A strand's digest is the Merkle root of the hashes of all its blocks, leaf
// index = sequence number. [Accumulator] appends leaves in O(1) amortised
// work, keeps only the roots of the perfect subtrees that make up the tree
// (its frontier), and reports every node that becomes complete to a
// [Visitor], so the caller can persist it. Perfect nodes never change once
// complete; any other node, root included, is recomputed from at most
// log2(n) of them. [InclusionProof], [ConsistencyProof] and [RootAt] read
// O(log n) stored nodes.
//
// # Verification
//
// [VerifyInclusion] folds a proof with Dot exactly as the official QLDB
// samples do and checks the length against the tree shape;
// [VerifyConsistency] is RFC 9162's algorithm with Dot as the node hash.
// Both return a *[RootMismatchError] holding the expected and computed roots
// when the fold does not reach the expected root, and a *[ProofError] when
// the proof has the wrong shape. The byte-slice forms ([DotBytes],
// [RootBytes], [FoldBytes]) apply QLDB's rule that an empty hash is the
// identity; they are for checking values decoded from foreign data.
package merkle
