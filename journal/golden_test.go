package journal

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/quilldb/quill/ion"
	"github.com/stretchr/testify/require"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden files under testdata/golden")

// TestGoldenIonText pins the Ion text that GetDigest, GetBlock and
// GetRevision return (the server sends exactly these strings), so that any
// change of wire text is a visible diff. Run with -rewrite after a change
// that is meant.
func TestGoldenIonText(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.UTC)}
	j := openMem(t, vfs.NewMem(), &Options{Clock: clock.Now})
	s, err := j.createStrand(ctx, "BlZ1NMobYGwGxMtg3MhDfL")
	require.NoError(t, err)
	docs := []string{"7xLCmIW7QK7Gk1n5VIgWcV", "HP5ZEEJQ8lMJZr9MZ3WfPt"}
	for i, doc := range docs {
		info := ion.Struct(ion.F("statements", ion.List(ion.Struct(
			ion.F("statement", ion.String("INSERT INTO Vehicle ?")),
			ion.F("startTime", ion.SystemTime(clock.Now()))))))
		_, err := s.Commit(ctx, &Transaction{ID: []string{"EAyJ0K3Qr8f1JpDOgUfR5C", "LVoZEpxd0Sb6kkTNTcpiEm"}[i],
			Info: info, Revisions: []RevisionInput{{DocumentID: doc, Data: vehicle(i)}}})
		require.NoError(t, err)
		clock.Set(clock.Now().Add(time.Second))
	}
	// A delete: a revision with metadata only.
	_, err = s.Commit(ctx, &Transaction{ID: "2Wv7eJzqDjX9XBvEtqTo7S",
		Revisions: []RevisionInput{{DocumentID: docs[0], Version: 1, Deleted: true}}})
	require.NoError(t, err)

	d, err := s.Digest(ctx)
	require.NoError(t, err)
	block, err := s.Block(ctx, 1)
	require.NoError(t, err)
	blockProof, err := s.BlockProof(ctx, 1, d.SequenceNo)
	require.NoError(t, err)
	rev, revProof, err := s.RevisionProof(ctx, 0, docs[0], d.SequenceNo)
	require.NoError(t, err)
	deleted, err := s.Revision(ctx, 2, docs[0])
	require.NoError(t, err)

	golden(t, "digest.txt", d.Hash.String()+"\n"+d.TipAddress()+"\n")
	golden(t, "block.ion", block.IonText()+"\n")
	golden(t, "block-proof.ion", ProofText(blockProof)+"\n")
	golden(t, "revision.ion", rev.IonText()+"\n")
	golden(t, "revision-proof.ion", ProofText(revProof)+"\n")
	golden(t, "revision-deleted.ion", deleted.IonText()+"\n")
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *rewrite {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -run TestGoldenIonText -rewrite to create it")
	require.Equal(t, string(want), got, "%s changed; if that is meant, run with -rewrite and review the diff", path)
}
