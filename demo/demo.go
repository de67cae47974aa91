// Package demo is the walk-through `quill demo` prints: the vehicle
// registration ledger of QLDB's tutorial, built, changed, proved and
// verified step by step.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/quilldb/quill"
	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/journal"
)

// LedgerName is the demo ledger's name, as in QLDB's tutorial.
const LedgerName = "vehicle-registration"

type person struct {
	FirstName string `ion:"FirstName"`
	LastName  string `ion:"LastName"`
	GovID     string `ion:"GovId"`
	Address   string `ion:"Address"`
}

type vehicle struct {
	VIN   string `ion:"VIN"`
	Type  string `ion:"Type"`
	Year  int    `ion:"Year"`
	Make  string `ion:"Make"`
	Model string `ion:"Model"`
	Color string `ion:"Color"`
}

var people = []person{
	{"Raul", "Lewis", "LEWISR261LL", "1719 University Street, Seattle, WA, 98109"},
	{"Brent", "Logan", "LOGANB486CG", "43 Stockert Hollow Road, Everett, WA, 98203"},
	{"Alexis", "Pena", "744 849 301", "4058 Melrose Street, Spokane Valley, WA, 99206"},
}

var vehicles = []vehicle{
	{"1N4AL11D75C109151", "Sedan", 2011, "Audi", "A5", "Silver"},
	{"KM8SRDHF6EU074761", "Sedan", 2015, "Tesla", "Model S", "Blue"},
	{"3HGGK5G53FM761765", "Motorcycle", 2011, "Ducati", "Monster 1200", "Yellow"},
}

// Run creates (or reuses) the demo ledger in db and prints what it does.
func Run(ctx context.Context, db *quill.DB, out io.Writer) error {
	p := &printer{w: out}
	p.title("Quill demo: the vehicle registration ledger of QLDB's tutorial")

	d, err := db.CreateLedger(ctx, &quill.CreateLedgerInput{Name: LedgerName, PermissionsMode: quill.PermissionsStandard})
	fresh := err == nil
	switch {
	case errors.Is(err, quill.ErrResourceAlreadyExists):
		if d, err = db.DescribeLedger(ctx, LedgerName); err != nil {
			return err
		}
		p.step("Ledger %q exists already: using it (%s)", LedgerName, d.State)
	case err != nil:
		return err
	default:
		p.step("Created ledger %q, %s, deletion protection %v", d.Name, d.State, onOff(d.DeletionProtection))
		p.detail("ARN %s", d.ARN)
	}
	l, err := db.Ledger(ctx, LedgerName)
	if err != nil {
		return err
	}

	var regID, vin string
	if fresh {
		if regID, vin, err = populate(ctx, l, p); err != nil {
			return err
		}
	} else if regID, vin, err = findRegistration(ctx, l); err != nil {
		return err
	}

	// A change of ownership to the next person: one transaction, one block.
	var newOwner string
	err = l.Execute(ctx, func(tx *quill.Tx) error {
		d, ok, err := tx.Get("VehicleRegistration", regID)
		if err != nil || !ok {
			return fmt.Errorf("registration %s: found %v: %w", regID, ok, err)
		}
		newOwner = people[0].GovID
		for i, pe := range people {
			if pe.GovID == primaryOwner(d.Data) {
				newOwner = people[(i+1)%len(people)].GovID
			}
		}
		reg := replaceField(d.Data, "Owners", ion.Struct(ion.F("PrimaryOwner", ion.Struct(ion.F("PersonId", ion.String(newOwner)))),
			ion.F("SecondaryOwners", ion.List())))
		return tx.Update("VehicleRegistration", regID, reg)
	})
	if err != nil {
		return err
	}
	p.step("Transferred vehicle %s to the person with GovId %s", vin, newOwner)

	digest, err := l.GetDigest(ctx)
	if err != nil {
		return err
	}
	p.step("Digest of the journal: %s", digest.Digest)
	p.detail("covers every block up to %s", digest.Tip)

	hist, err := l.History(ctx, "VehicleRegistration", regID, time.Time{}, time.Time{})
	if err != nil {
		return err
	}
	last := hist[len(hist)-1]
	rev, proof, err := l.GetRevision(ctx, last.Address, regID, &digest.Tip)
	if err != nil {
		return err
	}
	p.step("Fetched revision %d of registration %s from block %s", last.Version, regID, last.Address)
	p.detail("with a proof of %d hashes (GetRevision)", len(proof))
	if err := quill.VerifyRevision(rev, proof, digest.Digest); err != nil {
		return fmt.Errorf("verification failed: %w", err)
	}
	p.detail("verified: the revision's hash folded with the proof gives the digest")
	tampered, err := tamperedCopy(rev, newOwner, "FORGED00000")
	if err != nil {
		return err
	}
	if quill.VerifyRevision(tampered, proof, digest.Digest) != nil {
		p.detail("and a copy with the owner changed does not verify")
	}

	p.step("History of registration %s (%d revisions):", regID, len(hist))
	for _, h := range hist {
		p.detail("version %d  %s  block %d  primary owner %s", h.Version, h.TxTime.Format(time.RFC3339), h.Address.SequenceNo, primaryOwner(h.Data))
	}

	rep, err := l.Check(ctx)
	if err != nil {
		return err
	}
	p.step("Check re-verified all %d blocks and the Merkle tree over them (%d stored nodes)", rep.Blocks, rep.Nodes)
	fmt.Fprintf(out, "\nNext: run `quill ledgers` and `quill verify` with the same --data.\n")
	return p.err
}

// populate creates the tutorial's tables and documents.
func populate(ctx context.Context, l *quill.Ledger, p *printer) (regID, vin string, err error) {
	tables := []struct{ name, index string }{
		{"Vehicle", "VIN"}, {"Person", "GovId"}, {"DriversLicense", "LicenseNumber"}, {"VehicleRegistration", "VIN"},
	}
	err = l.Execute(ctx, func(tx *quill.Tx) error {
		for _, t := range tables {
			if _, err := tx.CreateTable(t.name); err != nil {
				return err
			}
			if err := tx.CreateIndex(t.name, t.index); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return "", "", err
	}
	p.step("Created tables Vehicle, Person, DriversLicense, VehicleRegistration, each with an index")

	err = l.Execute(ctx, func(tx *quill.Tx) error {
		for _, pe := range people {
			if _, err := tx.Insert("Person", pe); err != nil {
				return err
			}
		}
		for i, v := range vehicles {
			if _, err := tx.Insert("Vehicle", v); err != nil {
				return err
			}
			reg := ion.Struct(
				ion.F("VIN", ion.String(v.VIN)),
				ion.F("LicensePlateNumber", ion.String(fmt.Sprintf("LEWISR%03dLL", 261+i))),
				ion.F("State", ion.String("WA")),
				ion.F("City", ion.String("Everett")),
				ion.F("PendingPenaltyTicketAmount", ion.Decimal(9025, -2)),
				ion.F("ValidFromDate", mustDate("2017-08-21")),
				ion.F("ValidToDate", mustDate("2020-05-11")),
				ion.F("Owners", ion.Struct(ion.F("PrimaryOwner", ion.Struct(ion.F("PersonId", ion.String(people[i].GovID)))),
					ion.F("SecondaryOwners", ion.List()))))
			id, err := tx.Insert("VehicleRegistration", reg)
			if err != nil {
				return err
			}
			if i == 0 {
				regID, vin = id, v.VIN
			}
		}
		_, err := tx.Insert("DriversLicense", []byte(`{LicenseNumber:"LEWISR261LL",LicenseType:"Learner",ValidFromDate:2016-12-20,ValidToDate:2020-11-15}`))
		return err
	})
	if err != nil {
		return "", "", err
	}
	p.step("Inserted %d people, %d vehicles, %d registrations and a driver's license in one transaction",
		len(people), len(vehicles), len(vehicles))
	return regID, vin, nil
}

// findRegistration finds the first vehicle's registration in an existing
// demo ledger.
func findRegistration(ctx context.Context, l *quill.Ledger) (regID, vin string, err error) {
	vin = vehicles[0].VIN
	err = l.Execute(ctx, func(tx *quill.Tx) error {
		found, err := tx.Lookup("VehicleRegistration", "VIN", vin)
		if err != nil {
			return err
		}
		if len(found) == 0 {
			return fmt.Errorf("no registration of %s in ledger %s", vin, LedgerName)
		}
		regID = found[0].ID
		return nil
	})
	return regID, vin, err
}

func primaryOwner(reg ion.Value) string {
	owners, _ := reg.Get("Owners")
	primary, _ := owners.Get("PrimaryOwner")
	pid, _ := primary.Get("PersonId")
	return pid.Text()
}

func mustDate(s string) ion.Value {
	v, err := ion.ParseText(s)
	if err != nil {
		panic(err)
	}
	return v
}

// replaceField returns a struct with one field replaced (or added).
func replaceField(v ion.Value, name string, nv ion.Value) ion.Value {
	fields := append([]ion.Field(nil), v.Fields()...)
	for i := range fields {
		if t, _ := fields[i].Name.Text(); t == name {
			fields[i].Value = nv
			return ion.Struct(fields...)
		}
	}
	return ion.Struct(append(fields, ion.F(name, nv))...)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// printer numbers the steps and keeps the first write error.
type printer struct {
	w   io.Writer
	n   int
	err error
}

func (p *printer) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func (p *printer) title(s string) { p.printf("%s\n%s\n\n", s, strings.Repeat("=", len(s))) }

func (p *printer) step(format string, args ...any) {
	p.n++
	p.printf("%d. %s\n", p.n, fmt.Sprintf(format, args...))
}

func (p *printer) detail(format string, args ...any) {
	p.printf("   %s\n", fmt.Sprintf(format, args...))
}

// tamperedCopy is rev with the first occurrence of old in its data replaced
// by new, as a forger would edit an exported revision.
func tamperedCopy(rev journal.Revision, old, new string) (journal.Revision, error) {
	data, err := ion.ParseText(strings.Replace(rev.Data.String(), old, new, 1))
	if err != nil {
		return rev, err
	}
	rev.Data = data
	return rev, nil
}
