package journal

import (
	"context"
	"fmt"
	"strings"

	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/merkle"
)

// checkTip validates a proof's tip: at or after the block, at or before the
// durable tip.
func (s *Strand) checkTip(seq, tip uint64) error {
	if _, err := s.checkSeq(seq); err != nil {
		return err
	}
	if tip < seq {
		return fmt.Errorf("%w: digest tip %d is before block %d", ErrInvalidAddress, tip, seq)
	}
	if _, err := s.checkSeq(tip); err != nil {
		return fmt.Errorf("%w: digest tip: %w", ErrInvalidAddress, err)
	}
	return nil
}

// BlockProof returns the proof that block seq is in the digest at tip: the
// hashes that fold the block's hash into DigestAt(tip), as GetBlock returns
// them. It reads O(log n) stored nodes.
func (s *Strand) BlockProof(ctx context.Context, seq, tip uint64) ([]merkle.Hash, error) {
	if err := s.checkTip(seq, tip); err != nil {
		return nil, err
	}
	var proof []merkle.Hash
	err := s.withNodes(ctx, func(get merkle.NodeGetter) error {
		var err error
		proof, err = merkle.InclusionProof(seq, tip+1, get)
		return err
	})
	return proof, err
}

// RevisionProof returns the proof that a document's revision in block seq
// is in the digest at tip, as GetRevision returns it: the revision's
// siblings among the block's revisions, the revisions root's siblings in
// entriesHashList, the block's previousBlockHash, then the block proof.
func (s *Strand) RevisionProof(ctx context.Context, seq uint64, documentID string, tip uint64) (Revision, []merkle.Hash, error) {
	if err := s.checkTip(seq, tip); err != nil {
		return Revision{}, nil, err
	}
	b, err := s.Block(ctx, seq)
	if err != nil {
		return Revision{}, nil, err
	}
	rev, index, ok := b.Revision(documentID)
	if !ok {
		return Revision{}, nil, fmt.Errorf("%w: document %q in block %s/%d", ErrDocumentNotFound, documentID, s.id, seq)
	}
	revHashes := b.revisionHashes()
	proof := merkle.ListProof(revHashes, index)
	root, _ := merkle.Root(revHashes)
	entryIndex := -1
	for i, e := range b.EntriesHashList {
		if e == root {
			entryIndex = i
			break
		}
	}
	if entryIndex < 0 {
		return Revision{}, nil, &CorruptionError{Strand: s.id, SequenceNo: int64(seq), Problem: "revisions root not in entriesHashList"}
	}
	proof = append(proof, merkle.ListProof(b.EntriesHashList, entryIndex)...)
	proof = append(proof, b.PreviousBlockHash)
	blockProof, err := s.BlockProof(ctx, seq, tip)
	if err != nil {
		return Revision{}, nil, err
	}
	return rev, append(proof, blockProof...), nil
}

// ConsistencyProof returns the proof that the digest at tip2 extends the
// digest at tip1 (RFC 9162 with QLDB's dot; QLDB itself has no such call).
func (s *Strand) ConsistencyProof(ctx context.Context, tip1, tip2 uint64) ([]merkle.Hash, error) {
	if err := s.checkTip(tip1, tip2); err != nil {
		return nil, err
	}
	var proof []merkle.Hash
	err := s.withNodes(ctx, func(get merkle.NodeGetter) error {
		var err error
		proof, err = merkle.ConsistencyProof(tip1+1, tip2+1, get)
		return err
	})
	return proof, err
}

// ProofText renders a proof as QLDB's Proof.IonText: a list of blobs.
func ProofText(proof []merkle.Hash) string { return hashList(proof).String() }

// Address is a parsed block address.
type Address struct {
	Strand     string
	SequenceNo uint64
}

// String returns the address as QLDB's Ion text.
func (a Address) String() string { return blockAddress(a.Strand, a.SequenceNo).String() }

// ParseAddress parses a block address given as Ion text, as QLDB's
// BlockAddress and DigestTipAddress take it:
// {strandId:"KmA3ZZca7vAIiJAK9S5Iwl",sequenceNo:100}, spaces allowed.
// Errors wrap ErrInvalidAddress and say what is wrong.
func ParseAddress(text string) (Address, error) {
	bad := func(format string, args ...any) (Address, error) {
		return Address{}, fmt.Errorf("%w: %s", ErrInvalidAddress, fmt.Sprintf(format, args...))
	}
	if strings.TrimSpace(text) == "" {
		return bad("the address is empty")
	}
	v, err := ion.ParseText(text)
	if err != nil {
		return bad("not Ion text: %v", err)
	}
	if v.Type() != ion.StructType || v.IsNull() {
		return bad("an address is a struct {strandId, sequenceNo}, got %s", v.Type())
	}
	strand, ok := v.Get("strandId")
	if !ok || strand.Type() != ion.StringType || strand.IsNull() {
		return bad("strandId must be a string")
	}
	if err := ion.ValidateID(strand.Text()); err != nil {
		return bad("strandId: %v", err)
	}
	seqV, ok := v.Get("sequenceNo")
	if !ok || seqV.Type() != ion.IntType || seqV.IsNull() {
		return bad("sequenceNo must be an int")
	}
	seq, ok := seqV.Int64()
	if !ok || seq < 0 {
		return bad("sequenceNo %s is out of range", seqV)
	}
	for _, f := range v.Fields() {
		if name, _ := f.Name.Text(); name != "strandId" && name != "sequenceNo" {
			return bad("unknown field %s", f.Name)
		}
	}
	return Address{Strand: strand.Text(), SequenceNo: uint64(seq)}, nil
}
