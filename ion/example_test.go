package ion_test

import (
	"encoding/base64"
	"fmt"

	"github.com/quilldb/quill/ion"
)

// Hash is QLDB's H(v): the Ion hash, with SHA-256, of a document, its
// metadata or a statement.
func ExampleHash() {
	doc, _ := ion.ParseText(`{VIN:"1N4AL11D75C109151",PendingPenaltyTicketAmount:90.25}`)
	same, _ := ion.ParseText(`{PendingPenaltyTicketAmount:90.25, VIN:"1N4AL11D75C109151"}`)
	other, _ := ion.ParseText(`{PendingPenaltyTicketAmount:90.250, VIN:"1N4AL11D75C109151"}`)

	h := ion.Hash(doc)
	fmt.Println(base64.StdEncoding.EncodeToString(h[:]) != "")
	fmt.Println(ion.Hash(doc) == ion.Hash(same))  // field order does not matter
	fmt.Println(ion.Hash(doc) == ion.Hash(other)) // a decimal's precision does
	// Output:
	// true
	// true
	// false
}

// Values built in Go print as QLDB prints them.
func ExampleStruct() {
	doc := ion.Struct(
		ion.F("VIN", ion.String("1N4AL11D75C109151")),
		ion.F("PendingPenaltyTicketAmount", ion.Decimal(9025, -2)),
		ion.F("Owners", ion.List(ion.Struct(ion.F("PersonId", ion.String("CMVdR77XP8zAglmmFDGTvt"))))),
	)
	fmt.Println(doc)
	// Output: {VIN:"1N4AL11D75C109151",PendingPenaltyTicketAmount:90.25,Owners:[{PersonId:"CMVdR77XP8zAglmmFDGTvt"}]}
}
