package ion

import (
	"testing"

	refion "github.com/amzn/ion-go/ion"
	ionhash "github.com/amzn/ion-hash-go"
)

// benchDocument is a vehicle-registration document of about 1 KiB of Ion
// text and 21 top-level fields, the kind of revision QLDB's tutorial writes.
const benchDocument = `{VIN:"1N4AL11D75C109151",LicensePlateNumber:"LEWISR261LL",State:"WA",City:"Everett",` +
	`PendingPenaltyTicketAmount:90.25,ValidFromDate:2017-08-21,ValidToDate:2020-05-11,` +
	`Owners:{PrimaryOwner:{PersonId:"BFJKdXhnLRT27sXBnojNGW"},SecondaryOwners:[{PersonId:"CMVdR77XP8zAglmmFDGTvt"}]},` +
	`Make:"Mercedes",Model:"CLK 350",Year:2011,Color:"Silver",Type:"Sedan",Mileage:14000,` +
	`RegisteredAt:2019-09-16T19:37:05.360Z,Inspected:true,Notes:"Registered at the Everett office; owner transferred from Seattle. Inspection passed without remarks.",` +
	`Address:{Street:"1719 University Street",City:"Seattle",State:"WA",Zip:"98109"},` +
	`Tags:["commuter","leased","electric-ready"],Fees:[{Kind:"registration",Amount:120.50},{Kind:"plate",Amount:25.00}],` +
	`Insurer:"Acme Mutual",PolicyNumber:"POL-2019-000123456",Odometer:{Reading:14000,Unit:"mi",At:2019-09-16T19:37:05.344Z},` +
	`Flags:{Stolen:false,Salvage:false,Commercial:false},LastServiceDate:2019-08-01,Dealer:"Everett Motors"}`

func benchValue(b *testing.B) (Value, []byte) {
	v, err := ParseText(benchDocument)
	if err != nil {
		b.Fatal(err)
	}
	bin, _ := MarshalBinary(v)
	return v, bin
}

// BenchmarkHash compares Quill's Ion hash with ion-hash-go on the same
// document. "value" is the commit path: the document is already decoded.
// "binary" starts from the Ion binary bytes on both sides.
func BenchmarkHash(b *testing.B) {
	v, bin := benchValue(b)
	b.Run("impl=quill/from=value", func(b *testing.B) {
		b.SetBytes(int64(len(bin)))
		b.ReportAllocs()
		for b.Loop() {
			Hash(v)
		}
	})
	b.Run("impl=quill/from=binary", func(b *testing.B) {
		b.SetBytes(int64(len(bin)))
		b.ReportAllocs()
		for b.Loop() {
			v, err := Parse(bin)
			if err != nil {
				b.Fatal(err)
			}
			Hash(v)
		}
	})
	b.Run("impl=quill/from=binary-direct", func(b *testing.B) {
		// HashBinaryStruct: the commit path for a document given as Ion
		// binary, hashed from its bytes without a tree.
		b.SetBytes(int64(len(bin)))
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := HashBinaryStruct(bin); !ok {
				b.Fatal("not hashed from binary")
			}
		}
	})
	b.Run("impl=ion-hash-go/from=binary", func(b *testing.B) {
		b.SetBytes(int64(len(bin)))
		b.ReportAllocs()
		provider := ionhash.NewCryptoHasherProvider(ionhash.SHA256)
		for b.Loop() {
			hr, err := ionhash.NewHashReader(refion.NewReaderBytes(bin), provider)
			if err != nil {
				b.Fatal(err)
			}
			hr.Next()
			hr.Next()
			if _, err := hr.Sum(nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkMarshalBinary(b *testing.B) {
	v, bin := benchValue(b)
	b.SetBytes(int64(len(bin)))
	b.ReportAllocs()
	for b.Loop() {
		AppendBinary(nil, v)
	}
}

func BenchmarkParseBinary(b *testing.B) {
	_, bin := benchValue(b)
	b.SetBytes(int64(len(bin)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(bin); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalText(b *testing.B) {
	v, bin := benchValue(b)
	b.SetBytes(int64(len(bin)))
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		buf = AppendText(buf[:0], v)
	}
}

// BenchmarkParseText reads a QLDB revision as GetRevision returns it, with
// the fast path and with ion-go's reader alone.
func BenchmarkParseText(b *testing.B) {
	v, _ := benchValue(b)
	rev := Struct(
		F("blockAddress", Struct(F("strandId", String("JdxjkR9bSYB5jMHWcI464T")), F("sequenceNo", Int(1234)))),
		F("hash", Blob(make([]byte, 32))), F("data", v),
		F("metadata", Struct(F("id", String("3Qv67yjXEwB9SjmvkuG6Cp")), F("version", Int(0)))))
	text := AppendText(nil, rev)
	b.Run("path=fast", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Parse(text); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("path=ion-go", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := parseTextIonGo(text); err != nil {
				b.Fatal(err)
			}
		}
	})
}
