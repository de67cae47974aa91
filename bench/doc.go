package bench

import (
	"fmt"

	"github.com/quilldb/quill/ion"
)

// vehicleDoc returns document i: a vehicle registration shaped like the
// QLDB tutorial's, about 1 KiB of Ion binary.
func vehicleDoc(i int) []byte {
	v := ion.Struct(
		ion.F("VIN", ion.String(fmt.Sprintf("1N4AL11D75C%06d", i%1_000_000))),
		ion.F("LicensePlateNumber", ion.String(fmt.Sprintf("LEWISR%03dLL", i%1000))),
		ion.F("State", ion.String("WA")),
		ion.F("City", ion.String("Everett")),
		ion.F("PendingPenaltyTicketAmount", ion.Decimal(int64(9025+i%100), -2)),
		ion.F("ValidFromDate", ion.SystemTime(fixedDay)),
		ion.F("ValidToDate", ion.SystemTime(fixedDay.AddDate(3, 0, 0))),
		ion.F("Owners", ion.Struct(
			ion.F("PrimaryOwner", ion.Struct(ion.F("PersonId", ion.String("BFJKdXhnLRT27sXBnojNGW")))),
			ion.F("SecondaryOwners", ion.List(ion.Struct(ion.F("PersonId", ion.String("CMVdR77XP8zAglmmFDGTvt"))))))),
		ion.F("Vehicle", ion.Struct(
			ion.F("Make", ion.String("Audi")), ion.F("Model", ion.String("A5")), ion.F("Year", ion.Int(2011)),
			ion.F("Color", ion.String("Silver")), ion.F("Type", ion.String("Sedan")), ion.F("Mileage", ion.Int(int64(14000+i%5000))))),
		ion.F("Notes", ion.String("Registered at the Everett office; ownership transferred from Seattle in 2019. "+
			"Inspection passed without remarks. Insurance on file with Acme Mutual, policy POL-2019-000123456. "+
			"Emissions test certificate number EM-2019-88231 valid through the registration period. "+
			"Owner contact preference: mail. Address on file: 1719 University Street, Seattle, WA, 98109. "+
			"Previous plates surrendered. No outstanding liens. Title held by owner. Lease: none. "+
			"Commercial use: no. Disabled parking permit: no. Registration fees paid in full at the counter.")),
		ion.F("Fees", ion.List(
			ion.Struct(ion.F("Kind", ion.String("registration")), ion.F("Amount", ion.Decimal(12050, -2))),
			ion.Struct(ion.F("Kind", ion.String("plate")), ion.F("Amount", ion.Decimal(2500, -2))))),
	)
	return ion.AppendBinary(nil, v)
}
