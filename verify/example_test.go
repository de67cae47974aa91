package verify_test

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/quilldb/quill/internal/qldbvectors"
	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/verify"
)

// A revision fetched with GetRevision, its proof, and the digest from
// GetDigest: the revision is in the ledger if the proof folds to the digest.
func ExampleRevisionAgainstDigest() {
	block, _ := ion.ParseText(qldbvectors.V1Block)
	revisions, _ := block.Get("revisions")
	rev := revisions.Index(0) // what GetRevision returns as Revision.IonText

	proof, err := verify.ParseProof([]byte(qldbvectors.V1RevisionProof))
	if err != nil {
		panic(err)
	}
	digest, _ := base64.StdEncoding.DecodeString(qldbvectors.V1Digest)

	fmt.Println(verify.RevisionAgainstDigest(rev, proof, digest))

	// Change one field of the document and the proof no longer holds.
	tampered, _ := ion.ParseText(strings.Replace(rev.String(), `City:"Everett"`, `City:"Seattle"`, 1))
	err = verify.RevisionAgainstDigest(tampered, proof, digest)
	fmt.Println(err != nil)
	// Output:
	// <nil>
	// true
}
