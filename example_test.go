package quill_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/quilldb/quill"
)

// A ledger, a table, a document, its revision and its proof: the embedding
// API in a few lines (the README's example).
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "quill-example")
	defer os.RemoveAll(dir)

	db, err := quill.Open(dir, nil)
	if err != nil {
		panic(err)
	}
	defer db.Close()

	if _, err := db.CreateLedger(ctx, &quill.CreateLedgerInput{Name: "vehicle-registration",
		PermissionsMode: quill.PermissionsStandard}); err != nil {
		panic(err)
	}
	ledger, _ := db.Ledger(ctx, "vehicle-registration")

	type Vehicle struct {
		VIN  string `ion:"VIN"`
		Make string `ion:"Make"`
	}
	var id string
	err = ledger.Execute(ctx, func(tx *quill.Tx) error {
		if _, err := tx.CreateTable("Vehicle"); err != nil {
			return err
		}
		var err error
		id, err = tx.Insert("Vehicle", Vehicle{VIN: "1N4AL11D75C109151", Make: "Audi"})
		return err
	})
	if err != nil {
		panic(err)
	}

	// Prove the revision against the ledger's digest, as QLDB users do.
	digest, _ := ledger.GetDigest(ctx)
	history, _ := ledger.History(ctx, "Vehicle", id, time.Time{}, time.Time{})
	revision, proof, _ := ledger.GetRevision(ctx, history[0].Address, id, &digest.Tip)
	fmt.Println("verified:", quill.VerifyRevision(revision, proof, digest.Digest) == nil)
	// Output: verified: true
}
