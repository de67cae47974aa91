package server

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	amzn "github.com/amzn/ion-go/ion"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/qldb"
	"github.com/aws/aws-sdk-go-v2/service/qldb/types"
	"github.com/aws/aws-sdk-go-v2/service/qldbsession"
	sessiontypes "github.com/aws/aws-sdk-go-v2/service/qldbsession/types"
	"github.com/awslabs/amazon-qldb-driver-go/v3/qldbdriver"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/quilldb/quill"
	"github.com/quilldb/quill/internal/testenv"
	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/journal"
	"github.com/quilldb/quill/merkle"
	"github.com/quilldb/quill/verify"
	"github.com/stretchr/testify/require"
)

// The official Go driver (amazon-qldb-driver-go v3.0.1 over the
// qldbsession client) against the server, unchanged.

// newSessionClient is the qldbsession client the drivers are given. Its
// connections are not reused: once in a fresh-clone CI run, under load, a
// response body read failed with "use of closed network connection" on a
// reused connection, the SDK's known aws/aws-sdk-go-v2#2737 (the SDK now
// retries it, but the QLDB driver turns the SDK's retries off).
func newSessionClient(url string) *qldbsession.Client {
	return qldbsession.New(qldbsession.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  staticCreds("AKIDEXAMPLE", "secret"),
		Retryer:      aws.NopRetryer{},
		HTTPClient:   &http.Client{Transport: &http.Transport{DisableKeepAlives: true}},
	})
}

func newDriver(t *testing.T, f *fixture, ledger string) *qldbdriver.QLDBDriver {
	t.Helper()
	d, err := qldbdriver.New(ledger, newSessionClient(f.srv.URL), func(o *qldbdriver.DriverOptions) {
		o.LoggerVerbosity = qldbdriver.LogOff
	})
	require.NoError(t, err)
	t.Cleanup(func() { d.Shutdown(ctx) })
	return d
}

func createLedger(t *testing.T, f *fixture, name string) {
	t.Helper()
	_, err := f.client.CreateLedger(ctx, &qldb.CreateLedgerInput{Name: aws.String(name), PermissionsMode: "STANDARD"})
	require.NoError(t, err)
}

// query runs one statement in its own driver transaction and returns the
// rows as Ion text.
func query(t *testing.T, d *qldbdriver.QLDBDriver, stmt string, params ...any) []string {
	t.Helper()
	rows, err := tryQuery(d, stmt, params...)
	require.NoError(t, err, stmt)
	return rows
}

func tryQuery(d *qldbdriver.QLDBDriver, stmt string, params ...any) ([]string, error) {
	out, err := d.Execute(ctx, func(txn qldbdriver.Transaction) (any, error) {
		res, err := txn.Execute(stmt, params...)
		if err != nil {
			return nil, err
		}
		return collect(txn, res)
	})
	if err != nil {
		return nil, err
	}
	return out.([]string), nil
}

func collect(txn qldbdriver.Transaction, res qldbdriver.Result) ([]string, error) {
	var rows []string
	for res.Next(txn) {
		v, err := ion.Parse(res.GetCurrentData())
		if err != nil {
			return nil, err
		}
		rows = append(rows, strings.TrimSpace(v.String()))
	}
	return rows, res.Err()
}

type person struct {
	FirstName string         `ion:"FirstName"`
	LastName  string         `ion:"LastName"`
	DOB       amzn.Timestamp `ion:"DOB"`
	GovID     string         `ion:"GovId"`
	GovIDType string         `ion:"GovIdType"`
	Address   string         `ion:"Address"`
}

type owner struct {
	PersonID string `ion:"PersonId"`
}

type owners struct {
	PrimaryOwner    owner   `ion:"PrimaryOwner"`
	SecondaryOwners []owner `ion:"SecondaryOwners"`
}

type registration struct {
	VIN                        string         `ion:"VIN"`
	LicensePlateNumber         string         `ion:"LicensePlateNumber"`
	State                      string         `ion:"State"`
	City                       string         `ion:"City"`
	ValidFromDate              amzn.Timestamp `ion:"ValidFromDate"`
	ValidToDate                amzn.Timestamp `ion:"ValidToDate"`
	PendingPenaltyTicketAmount *amzn.Decimal  `ion:"PendingPenaltyTicketAmount"`
	Owners                     owners         `ion:"Owners"`
}

type vehicle struct {
	VIN   string `ion:"VIN"`
	Type  string `ion:"Type"`
	Year  int    `ion:"Year"`
	Make  string `ion:"Make"`
	Model string `ion:"Model"`
	Color string `ion:"Color"`
}

type license struct {
	LicenseNumber string         `ion:"LicenseNumber"`
	LicenseType   string         `ion:"LicenseType"`
	ValidFromDate amzn.Timestamp `ion:"ValidFromDate"`
	ValidToDate   amzn.Timestamp `ion:"ValidToDate"`
	PersonID      string         `ion:"PersonId"`
}

func day(s string) amzn.Timestamp {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return amzn.NewDateTimestamp(t, amzn.TimestampPrecisionDay)
}

// TestVehicleRegistrationTutorialThroughTheDriver runs the statements of
// QLDB's vehicle-registration tutorial, in its order, through the official
// driver, and checks what each returns; then proves a revision the
// tutorial changed against a digest.
func TestVehicleRegistrationTutorialThroughTheDriver(t *testing.T) {
	f := newFixture(t, nil, nil)
	createLedger(t, f, "vehicle-registration")
	d := newDriver(t, f, "vehicle-registration")

	// create_table.py, create_index.py
	for _, table := range []string{"VehicleRegistration", "Vehicle", "Person", "DriversLicense"} {
		rows := query(t, d, "CREATE TABLE "+table)
		require.Len(t, rows, 1)
		require.Contains(t, rows[0], "tableId:")
	}
	for _, idx := range [][2]string{{"VehicleRegistration", "VIN"}, {"VehicleRegistration", "LicensePlateNumber"},
		{"Vehicle", "VIN"}, {"Person", "GovId"}, {"DriversLicense", "LicenseNumber"}, {"DriversLicense", "PersonId"}} {
		query(t, d, fmt.Sprintf("CREATE INDEX on %s (%s)", idx[0], idx[1]))
	}
	names, err := d.GetTableNames(ctx)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"VehicleRegistration", "Vehicle", "Person", "DriversLicense"}, names)
	idx := query(t, d, "SELECT VALUE indexes[0] FROM information_schema.user_tables WHERE status = 'ACTIVE' AND name = 'Vehicle'")
	require.Len(t, idx, 1)
	require.Contains(t, idx[0], `expr:"[VIN]"`)

	// insert_document.py: people first, their ids go into the licenses
	// and registrations.
	people := []person{
		{FirstName: "Raul", LastName: "Lewis", DOB: day("1963-08-19"), GovID: "LEWISR261LL", GovIDType: "Driver License", Address: "1719 University Street, Seattle, WA, 98109"},
		{FirstName: "Brent", LastName: "Logan", DOB: day("1967-07-03"), GovID: "LOGANB486CG", GovIDType: "Driver License", Address: "43 Stockert Hollow Road, Everett, WA, 98203"},
		{FirstName: "Alexis", LastName: "Pena", DOB: day("1974-02-10"), GovID: "744 849 301", GovIDType: "SSN", Address: "4058 Melrose Street, Spokane Valley, WA, 99206"},
	}
	rows := query(t, d, "INSERT INTO Person ?", people)
	require.Len(t, rows, 3)
	ids := make([]string, len(rows))
	for i, r := range rows {
		v, err := ion.ParseText(r)
		require.NoError(t, err)
		id, _ := v.Get("documentId")
		ids[i] = id.Text()
	}
	penalty := amzn.MustParseDecimal("90.25")
	regs := []registration{
		{VIN: "1N4AL11D75C109151", LicensePlateNumber: "LEWISR261LL", State: "WA", City: "Seattle", ValidFromDate: day("2017-08-21"), ValidToDate: day("2020-05-11"),
			PendingPenaltyTicketAmount: penalty, Owners: owners{PrimaryOwner: owner{ids[0]}, SecondaryOwners: []owner{}}},
		{VIN: "KM8SRDHF6EU074761", LicensePlateNumber: "CA762X", State: "WA", City: "Kent", ValidFromDate: day("2017-09-14"), ValidToDate: day("2020-06-25"),
			PendingPenaltyTicketAmount: amzn.MustParseDecimal("130.75"), Owners: owners{PrimaryOwner: owner{ids[1]}, SecondaryOwners: []owner{}}},
	}
	vehicles := []vehicle{
		{VIN: "1N4AL11D75C109151", Type: "Sedan", Year: 2011, Make: "Audi", Model: "A5", Color: "Silver"},
		{VIN: "KM8SRDHF6EU074761", Type: "Sedan", Year: 2015, Make: "Tesla", Model: "Model S", Color: "Blue"},
	}
	licenses := []license{
		{LicenseNumber: "LEWISR261LL", LicenseType: "Learner", ValidFromDate: day("2016-12-20"), ValidToDate: day("2020-11-15"), PersonID: ids[0]},
		{LicenseNumber: "LOGANB486CG", LicenseType: "Probationary", ValidFromDate: day("2016-04-06"), ValidToDate: day("2020-11-15"), PersonID: ids[1]},
	}
	require.Len(t, query(t, d, "INSERT INTO VehicleRegistration ?", regs), 2)
	require.Len(t, query(t, d, "INSERT INTO Vehicle ?", vehicles), 2)
	require.Len(t, query(t, d, "INSERT INTO DriversLicense ?", licenses), 2)

	// scan_table.py
	require.Len(t, query(t, d, "SELECT * FROM Person"), 3)

	// model/sample_data.py: an id by an indexed field.
	govID := func(gov string) string {
		rows := query(t, d, "SELECT id FROM Person AS t BY id WHERE t.GovId = ?", gov)
		require.Len(t, rows, 1)
		return rows[0]
	}
	require.Equal(t, `{id:"`+ids[0]+`"}`, govID("LEWISR261LL"))

	// find_vehicles.py: a join.
	rows = query(t, d, "SELECT Vehicle FROM Vehicle INNER JOIN VehicleRegistration AS r ON Vehicle.VIN = r.VIN WHERE r.Owners.PrimaryOwner.PersonId = ?", ids[0])
	require.Len(t, rows, 1)
	require.Contains(t, rows[0], `Make:"Audi"`)

	// add_secondary_owner.py
	rows = query(t, d, "SELECT Owners.SecondaryOwners FROM VehicleRegistration AS v WHERE v.VIN = ?", "1N4AL11D75C109151")
	require.Equal(t, []string{"{SecondaryOwners:[]}"}, rows)
	rows = query(t, d, "FROM VehicleRegistration AS v WHERE v.VIN = ? INSERT INTO v.Owners.SecondaryOwners VALUE ?", "1N4AL11D75C109151", owner{ids[2]})
	require.Len(t, rows, 1)
	rows = query(t, d, "SELECT Owners.SecondaryOwners FROM VehicleRegistration AS v WHERE v.VIN = ?", "1N4AL11D75C109151")
	require.Equal(t, []string{`{SecondaryOwners:[{PersonId:"` + ids[2] + `"}]}`}, rows)

	// register_drivers_license.py: a new person and their license, in one
	// transaction of several statements.
	_, err = d.Execute(ctx, func(txn qldbdriver.Transaction) (any, error) {
		res, err := txn.Execute("SELECT * FROM Person AS p WHERE p.GovId = ?", "P626-168-229-765")
		if err != nil {
			return nil, err
		}
		if found, err := collect(txn, res); err != nil || len(found) != 0 {
			return nil, fmt.Errorf("unexpected person %v %w", found, err)
		}
		res, err = txn.Execute("INSERT INTO Person ?", person{FirstName: "Kate", LastName: "Mulberry", DOB: day("1995-02-09"), GovID: "P626-168-229-765", GovIDType: "Passport", Address: "22 Commercial Drive, Blaine, WA, 97722"})
		if err != nil {
			return nil, err
		}
		rows, err := collect(txn, res)
		if err != nil {
			return nil, err
		}
		v, _ := ion.ParseText(rows[0])
		id, _ := v.Get("documentId")
		res, err = txn.Execute("SELECT * FROM DriversLicense AS d WHERE d.PersonId = ?", id.Text())
		if err != nil {
			return nil, err
		}
		if found, err := collect(txn, res); err != nil || len(found) != 0 {
			return nil, fmt.Errorf("unexpected license %v %w", found, err)
		}
		return txn.Execute("INSERT INTO DriversLicense ?", license{LicenseNumber: "112 360 PXJ", LicenseType: "Full", ValidFromDate: day("2018-06-30"), ValidToDate: day("2022-10-30"), PersonID: id.Text()})
	})
	require.NoError(t, err)
	require.Equal(t, []string{"3"}, query(t, d, "SELECT VALUE COUNT(*) FROM DriversLicense"))

	// renew_drivers_license.py
	rows = query(t, d, "SELECT PersonId FROM DriversLicense AS d WHERE d.LicenseNumber = ?", "LEWISR261LL")
	require.Equal(t, []string{`{PersonId:"` + ids[0] + `"}`}, rows)
	rows = query(t, d, "SELECT p.* FROM Person AS p BY pid WHERE pid = ?", ids[0])
	require.Len(t, rows, 1)
	require.Contains(t, rows[0], `FirstName:"Raul"`)
	rows = query(t, d, "UPDATE DriversLicense AS d SET d.ValidFromDate = ?, d.ValidToDate = ? WHERE d.LicenseNumber = ?", day("2019-01-01"), day("2023-01-01"), "LEWISR261LL")
	require.Len(t, rows, 1)
	require.Equal(t, []string{"2023-01-01"}, query(t, d, "SELECT VALUE d.ValidToDate FROM DriversLicense AS d WHERE d.LicenseNumber = 'LEWISR261LL'"))

	// deregister_drivers_license.py
	require.Len(t, query(t, d, "DELETE FROM DriversLicense AS d WHERE d.LicenseNumber = ?", "LOGANB486CG"), 1)
	require.Empty(t, query(t, d, "SELECT * FROM DriversLicense AS d WHERE d.LicenseNumber = ?", "LOGANB486CG"))

	// transfer_vehicle_ownership.py
	before := time.Now().UTC().Add(-time.Second)
	rows = query(t, d, "SELECT Owners.PrimaryOwner.PersonId FROM VehicleRegistration AS v WHERE v.VIN = ?", "KM8SRDHF6EU074761")
	require.Equal(t, []string{`{PersonId:"` + ids[1] + `"}`}, rows)
	rows = query(t, d, "UPDATE VehicleRegistration AS r SET r.Owners.PrimaryOwner.PersonId = ? WHERE r.VIN = ?", ids[2], "KM8SRDHF6EU074761")
	require.Len(t, rows, 1)

	// query_history.py: the registration's revisions between two times.
	regID := query(t, d, "SELECT VALUE id FROM VehicleRegistration AS r BY id WHERE r.VIN = ?", "KM8SRDHF6EU074761")[0]
	start := before.Add(-time.Hour).Format("2006-01-02T15:04:05.000Z")
	end := time.Now().UTC().Add(time.Second).Format("2006-01-02T15:04:05.000Z")
	rows = query(t, d, fmt.Sprintf("SELECT data.Owners.PrimaryOwner, metadata.version FROM history(VehicleRegistration, `%s`, `%s`) AS h WHERE h.metadata.id = ?", start, end), strings.Trim(regID, `"`))
	require.ElementsMatch(t, []string{
		`{PrimaryOwner:{PersonId:"` + ids[1] + `"},version:0}`,
		`{PrimaryOwner:{PersonId:"` + ids[2] + `"},version:1}`}, rows)
	rows = query(t, d, fmt.Sprintf("SELECT metadata.version FROM history(VehicleRegistration, `%s`) AS h WHERE h.metadata.id = ?", end), strings.Trim(regID, `"`))
	require.Empty(t, rows, "nothing was committed after the end time")

	// get_revision.py: the committed view gives the block address and id,
	// GetRevision the proof, which verifies against a digest.
	rows = query(t, d, "SELECT * FROM _ql_committed_VehicleRegistration WHERE data.VIN = ?", "KM8SRDHF6EU074761")
	require.Len(t, rows, 1)
	committed, err := ion.ParseText(rows[0])
	require.NoError(t, err)
	addr, _ := committed.Get("blockAddress")
	meta, _ := committed.Get("metadata")
	docID, _ := meta.Get("id")
	version, _ := meta.Get("version")
	require.Equal(t, "1", strings.TrimSpace(version.String()))
	digest, err := f.client.GetDigest(ctx, &qldb.GetDigestInput{Name: aws.String("vehicle-registration")})
	require.NoError(t, err)
	addrText := strings.TrimSpace(addr.String())
	rev, err := f.client.GetRevision(ctx, &qldb.GetRevisionInput{Name: aws.String("vehicle-registration"),
		BlockAddress: &types.ValueHolder{IonText: &addrText}, DocumentId: aws.String(docID.Text()), DigestTipAddress: digest.DigestTipAddress})
	require.NoError(t, err)
	revision, err := ion.ParseText(*rev.Revision.IonText)
	require.NoError(t, err)
	proof, err := verify.ParseProof([]byte(*rev.Proof.IonText))
	require.NoError(t, err)
	revHash, _ := revision.Get("hash")
	committedHash, _ := committed.Get("hash")
	require.Equal(t, committedHash.Bytes(), revHash.Bytes(), "the committed view's hash is the revision's")
	require.NoError(t, verify.RevisionAgainstDigest(revision, proof, digest.Digest))
}

func TestDriverOCCConflictIsRetried(t *testing.T) {
	f := newFixture(t, nil, nil)
	createLedger(t, f, "l")
	d := newDriver(t, f, "l")
	query(t, d, "CREATE TABLE t")
	query(t, d, "INSERT INTO t ?", map[string]any{"Name": "a"})

	// The driver's own scenario: the outer transaction reads, an inner one
	// changes what it read and commits first, the outer commit fails with
	// OccConflictException and the driver runs the outer function again.
	attempts := 0
	_, err := d.Execute(ctx, func(txn qldbdriver.Transaction) (any, error) {
		attempts++
		if _, err := txn.Execute("SELECT VALUE Name FROM t"); err != nil {
			return nil, err
		}
		if attempts == 1 {
			inner, err := tryQuery(d, "UPDATE t SET Name = ?", "b")
			if err != nil || len(inner) != 1 {
				return nil, fmt.Errorf("inner update: %v %w", inner, err)
			}
		}
		return nil, nil
	})
	require.NoError(t, err)
	require.Equal(t, 2, attempts, "the first commit conflicted and the driver retried")

	// Without retries the conflict reaches the caller as the SDK's type.
	d.SetRetryPolicy(qldbdriver.RetryPolicy{MaxRetryLimit: 0, Backoff: qldbdriver.ExponentialBackoffStrategy{SleepBase: time.Millisecond, SleepCap: time.Millisecond}})
	_, err = d.Execute(ctx, func(txn qldbdriver.Transaction) (any, error) {
		if _, err := txn.Execute("SELECT VALUE Name FROM t"); err != nil {
			return nil, err
		}
		_, err := tryQuery(d, "UPDATE t SET Name = ?", "c")
		return nil, err
	})
	var occ *sessiontypes.OccConflictException
	require.ErrorAs(t, err, &occ)
}

func TestStatementErrorsAndTheSessionAfterThem(t *testing.T) {
	f := newFixture(t, nil, nil)
	createLedger(t, f, "l")
	d, err := qldbdriver.New("l", newSessionClient(f.srv.URL), func(o *qldbdriver.DriverOptions) {
		o.LoggerVerbosity = qldbdriver.LogOff
		o.MaxConcurrentTransactions = 1 // one session: the next transaction reuses it
	})
	require.NoError(t, err)
	defer d.Shutdown(ctx)
	query(t, d, "CREATE TABLE t")

	for stmt, want := range map[string]string{
		"DELETE FROM NonExistentTable":          "NonExistentTable",
		"SELECT * FORM t":                       "line 1, column 10, at 'FORM': expected FROM",
		"SELECT * FROM t ORDER BY a":            "ORDER is not supported",
		"INSERT INTO t VALUE 5":                 "a document must be a struct",
		"SELECT x FROM t WHERE x = ? AND y = ?": "2 parameter(s)",
		"EXEC redact_revision ?, 'a', 'b'":      "stored procedures",
		"UPDATE t AS d BY i SET i = 5":          "document id cannot be changed",
		"SELECT VALUE 1 + 'a' FROM << 0 >>":     "needs numbers",
	} {
		var params []any
		for range strings.Count(stmt, "?") {
			params = append(params, "x")
		}
		if strings.Contains(stmt, "AND y") {
			params = params[:1] // one value for two parameters
		}
		_, err := tryQuery(d, stmt, params...)
		var bad *sessiontypes.BadRequestException
		require.ErrorAs(t, err, &bad, stmt)
		require.Contains(t, bad.ErrorMessage(), want, stmt)
	}
	// The same session then runs a transaction that works.
	require.Len(t, query(t, d, "INSERT INTO t VALUE {'a': 1}"), 1)
	require.Equal(t, []string{"1"}, query(t, d, "SELECT VALUE COUNT(*) FROM t"))
}

// sendCommand drives the qldbsession client directly, for what the driver
// never does on purpose.
func TestSessionProtocolEdges(t *testing.T) {
	f := newFixture(t, &Options{MaxSessionsPerLedger: 2}, &quill.Options{TransactionTimeout: 300 * time.Millisecond})
	createLedger(t, f, "l")
	c := newSessionClient(f.srv.URL)

	_, err := c.SendCommand(ctx, &qldbsession.SendCommandInput{StartSession: &sessiontypes.StartSessionRequest{LedgerName: aws.String("missing")}})
	var bad *sessiontypes.BadRequestException
	require.ErrorAs(t, err, &bad, "StartSession on an unknown ledger")

	start := func() string {
		out, err := c.SendCommand(ctx, &qldbsession.SendCommandInput{StartSession: &sessiontypes.StartSessionRequest{LedgerName: aws.String("l")}})
		require.NoError(t, err)
		return *out.StartSession.SessionToken
	}
	tok := start()
	begin := func(tok string) string {
		out, err := c.SendCommand(ctx, &qldbsession.SendCommandInput{SessionToken: &tok, StartTransaction: &sessiontypes.StartTransactionRequest{}})
		require.NoError(t, err)
		require.Len(t, *out.StartTransaction.TransactionId, 22)
		return *out.StartTransaction.TransactionId
	}
	execute := func(tok, txID, stmt string) error {
		_, err := c.SendCommand(ctx, &qldbsession.SendCommandInput{SessionToken: &tok,
			ExecuteStatement: &sessiontypes.ExecuteStatementRequest{TransactionId: &txID, Statement: &stmt}})
		return err
	}
	txID := begin(tok)
	require.NoError(t, execute(tok, txID, "CREATE TABLE t"))

	// A digest that does not match what the server received rejects the
	// commit and writes nothing.
	wrong := make([]byte, 32)
	_, err = c.SendCommand(ctx, &qldbsession.SendCommandInput{SessionToken: &tok,
		CommitTransaction: &sessiontypes.CommitTransactionRequest{TransactionId: &txID, CommitDigest: wrong}})
	require.ErrorAs(t, err, &bad)
	require.Contains(t, bad.ErrorMessage(), "does not match")
	l, err := f.db.Ledger(ctx, "l")
	require.NoError(t, err)
	tables, err := l.Tables(ctx)
	require.NoError(t, err)
	require.Empty(t, tables, "the rejected commit wrote nothing")

	// The right digest (H(txId) dot (H(statement))) commits and is echoed.
	txID = begin(tok)
	require.NoError(t, execute(tok, txID, "CREATE TABLE t"))
	want := merkle.Dot(merkle.Hash(ion.Hash(ion.String(txID))), merkle.Hash(ion.Hash(ion.String("CREATE TABLE t"))))
	out, err := c.SendCommand(ctx, &qldbsession.SendCommandInput{SessionToken: &tok,
		CommitTransaction: &sessiontypes.CommitTransactionRequest{TransactionId: &txID, CommitDigest: want[:]}})
	require.NoError(t, err)
	require.Equal(t, want[:], out.CommitTransaction.CommitDigest)

	// An expired transaction is InvalidSessionException with the words
	// the drivers match, and writes nothing.
	txID = begin(tok)
	require.NoError(t, execute(tok, txID, "INSERT INTO t VALUE {'a': 1}"))
	time.Sleep(400 * time.Millisecond) // past the 300 ms transaction timeout
	err = execute(tok, txID, "SELECT * FROM t")
	var ise *sessiontypes.InvalidSessionException
	require.ErrorAs(t, err, &ise)
	require.Regexp(t, `Transaction\s.*\shas\sexpired`, ise.ErrorMessage())
	// ... and the session is gone.
	_, err = c.SendCommand(ctx, &qldbsession.SendCommandInput{SessionToken: &tok, StartTransaction: &sessiontypes.StartTransactionRequest{}})
	require.ErrorAs(t, err, &ise)

	// An unknown token is InvalidSessionException; past the session limit,
	// LimitExceededException.
	unknown := "bm90LWEtc2Vzc2lvbg=="
	_, err = c.SendCommand(ctx, &qldbsession.SendCommandInput{SessionToken: &unknown, StartTransaction: &sessiontypes.StartTransactionRequest{}})
	require.ErrorAs(t, err, &ise)
	a, b := start(), start()
	_, err = c.SendCommand(ctx, &qldbsession.SendCommandInput{StartSession: &sessiontypes.StartSessionRequest{LedgerName: aws.String("l")}})
	var limit *sessiontypes.LimitExceededException
	require.ErrorAs(t, err, &limit)
	for _, tok := range []string{a, b} {
		_, err := c.SendCommand(ctx, &qldbsession.SendCommandInput{SessionToken: &tok, EndSession: &sessiontypes.EndSessionRequest{}})
		require.NoError(t, err)
	}
	start() // ended sessions free their slots
}

func TestPagingThroughTenThousandRows(t *testing.T) {
	f := newFixture(t, nil, nil)
	createLedger(t, f, "l")
	d := newDriver(t, f, "l")
	query(t, d, "CREATE TABLE t")
	const n = 10_000
	for i := 0; i < n; i += 40 {
		batch := make([]map[string]any, 40)
		for j := range batch {
			batch[j] = map[string]any{"n": i + j}
		}
		query(t, d, "INSERT INTO t ?", batch)
	}
	pages := 0
	out, err := d.Execute(ctx, func(txn qldbdriver.Transaction) (any, error) {
		res, err := txn.Execute("SELECT VALUE n FROM t")
		if err != nil {
			return nil, err
		}
		seen := make([]bool, n)
		count := 0
		for res.Next(txn) {
			v, err := ion.Parse(res.GetCurrentData())
			if err != nil {
				return nil, err
			}
			i, _ := v.Int64()
			if seen[i] {
				return nil, fmt.Errorf("row %d twice", i)
			}
			seen[i] = true
			count++
		}
		pages = int(*res.GetConsumedIOs().GetReadIOs())
		return count, res.Err()
	})
	require.NoError(t, err)
	require.Equal(t, n, out)
	require.Equal(t, n, pages, "ReadIOs counts every document read")
}

func TestEveryIonTypeThroughParametersAndResults(t *testing.T) {
	f := newFixture(t, nil, nil)
	createLedger(t, f, "l")
	d := newDriver(t, f, "l")
	query(t, d, "CREATE TABLE t")
	// Ion text of a document with every type, sent as Ion binary by the
	// driver (an ion-go value) and read back exactly.
	text := `{'null':null,bool:true,int:-12345678901234567890,float:1.5e0,decimal:90.250,` +
		`timestamp:2019-06-13T21:36:34.123-07:00,symbol:sym,string:"s\u00e9",clob:{{"clob"}},blob:{{AQID}},` +
		`list:[1,"a"],sexp:(a b),struct:{a:{b:1}},annotated:ann::5,typednull:null.int}`
	doc, err := ion.ParseText(text)
	require.NoError(t, err)
	bin, err := ion.MarshalBinary(doc)
	require.NoError(t, err)
	// The driver marshals Go values with ion-go, which has no type for
	// every Ion value (sexp, clob, annotations); the raw Ion binary goes
	// through the SDK's client instead.
	c := newSessionClient(f.srv.URL)
	out, err := c.SendCommand(ctx, &qldbsession.SendCommandInput{StartSession: &sessiontypes.StartSessionRequest{LedgerName: aws.String("l")}})
	require.NoError(t, err)
	tok := out.StartSession.SessionToken
	tx, err := c.SendCommand(ctx, &qldbsession.SendCommandInput{SessionToken: tok, StartTransaction: &sessiontypes.StartTransactionRequest{}})
	require.NoError(t, err)
	txID := tx.StartTransaction.TransactionId
	digest := merkle.Hash(ion.Hash(ion.String(*txID)))
	run := func(stmt string, params ...sessiontypes.ValueHolder) []ion.Value {
		out, err := c.SendCommand(ctx, &qldbsession.SendCommandInput{SessionToken: tok,
			ExecuteStatement: &sessiontypes.ExecuteStatementRequest{TransactionId: txID, Statement: &stmt, Parameters: params}})
		require.NoError(t, err, stmt)
		e := merkle.Hash(ion.Hash(ion.String(stmt)))
		for _, p := range params {
			var v ion.Value
			if p.IonBinary != nil {
				v, err = ion.Parse(p.IonBinary)
			} else {
				v, err = ion.ParseText(*p.IonText)
			}
			require.NoError(t, err)
			e = merkle.Dot(e, merkle.Hash(ion.Hash(v)))
		}
		digest = merkle.Dot(digest, e)
		var rows []ion.Value
		for _, vh := range out.ExecuteStatement.FirstPage.Values {
			v, err := ion.Parse(vh.IonBinary)
			require.NoError(t, err)
			rows = append(rows, v)
		}
		return rows
	}
	run("INSERT INTO t ?", sessiontypes.ValueHolder{IonBinary: bin})
	run("INSERT INTO t ?", sessiontypes.ValueHolder{IonText: aws.String(`{from:text,decimal:1.50}`)})
	rows := run("SELECT VALUE x FROM t AS x WHERE x.decimal = ?", sessiontypes.ValueHolder{IonText: aws.String("90.25")})
	require.Len(t, rows, 1)
	require.True(t, ion.Equal(doc, rows[0]), "every type comes back exactly: %s", rows[0])
	rows = run("SELECT VALUE x.timestamp FROM t AS x WHERE x.timestamp = `2019-06-14T04:36:34.123Z`")
	require.Len(t, rows, 1, "timestamps compare by instant")
	_, err = c.SendCommand(ctx, &qldbsession.SendCommandInput{SessionToken: tok,
		CommitTransaction: &sessiontypes.CommitTransactionRequest{TransactionId: txID, CommitDigest: digest[:]}})
	require.NoError(t, err)
}

func TestSessionsNeedASignatureUnderAuth(t *testing.T) {
	f := newFixture(t, &Options{Keys: map[string]string{"AKIDEXAMPLE": "secret"}}, nil)
	createLedger(t, f, "l")
	good := newDriver(t, f, "l")
	query(t, good, "CREATE TABLE t")
	badClient := qldbsession.New(qldbsession.Options{Region: "us-east-1", BaseEndpoint: aws.String(f.srv.URL),
		Credentials: staticCreds("AKIDEXAMPLE", "wrong"), Retryer: aws.NopRetryer{}})
	_, err := badClient.SendCommand(ctx, &qldbsession.SendCommandInput{StartSession: &sessiontypes.StartSessionRequest{LedgerName: aws.String("l")}})
	require.ErrorContains(t, err, "InvalidSignatureException")
}

// BenchmarkSessionLookupTransaction measures the server's own work for a
// driver's lookup transaction (StartTransaction, ExecuteStatement,
// CommitTransaction), through the handler without a network.
func BenchmarkSessionLookupTransaction(b *testing.B) {
	db, err := quill.Open("data", &quill.Options{Journal: journal.Options{FS: vfs.NewMem()}})
	require.NoError(b, err)
	defer db.Close()
	_, err = db.CreateLedger(ctx, &quill.CreateLedgerInput{Name: "l", PermissionsMode: "STANDARD"})
	require.NoError(b, err)
	l, err := db.Ledger(ctx, "l")
	require.NoError(b, err)
	require.NoError(b, l.Execute(ctx, func(tx *quill.Tx) error {
		if _, err := tx.CreateTable("Person"); err != nil {
			return err
		}
		if err := tx.CreateIndex("Person", "GovId"); err != nil {
			return err
		}
		_, err := tx.Insert("Person", ion.Struct(ion.F("GovId", ion.String("G1"))))
		return err
	}))
	h := New(db, nil)
	send := func(body string) map[string]map[string]any {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("X-Amz-Target", sessionTarget)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("%s: %s", body, w.Body.String())
		}
		var out map[string]map[string]any
		require.NoError(b, json.Unmarshal(w.Body.Bytes(), &out))
		return out
	}
	tok := send(`{"StartSession":{"LedgerName":"l"}}`)["StartSession"]["SessionToken"].(string)
	param := base64.StdEncoding.EncodeToString(ion.AppendBinary(nil, ion.String("G1")))
	stmt := "SELECT * FROM Person AS p WHERE p.GovId = ?"
	b.ReportAllocs()
	for b.Loop() {
		txID := send(`{"SessionToken":"` + tok + `","StartTransaction":{}}`)["StartTransaction"]["TransactionId"].(string)
		send(`{"SessionToken":"` + tok + `","ExecuteStatement":{"TransactionId":"` + txID + `","Statement":"` + stmt + `","Parameters":[{"IonBinary":"` + param + `"}]}}`)
		d := merkle.Dot(merkle.Hash(ion.Hash(ion.String(txID))), merkle.Dot(merkle.Hash(ion.Hash(ion.String(stmt))), merkle.Hash(ion.Hash(ion.String("G1")))))
		send(`{"SessionToken":"` + tok + `","CommitTransaction":{"TransactionId":"` + txID + `","CommitDigest":"` + base64.StdEncoding.EncodeToString(d[:]) + `"}}`)
	}
}

// TestNodeJSDriver runs AWS's QLDB driver for Node.js (another SDK, another
// Ion library and another Ion Hash for the commit digests) against the
// server.
func TestNodeJSDriver(t *testing.T) {
	f := newFixture(t, nil, nil)
	createLedger(t, f, "node")
	steps := map[string]map[string]any{}
	for _, line := range testenv.RunNodeQLDBDriver(t, f.srv.URL, "node") {
		var s map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &s), line)
		steps[s["step"].(string)] = s
	}
	rows := func(step string) []string {
		s := steps[step]
		require.NotNil(t, s, "step %s did not run", step)
		require.Nil(t, s["error"], "step %s: %v", step, s["message"])
		var out []string
		for _, r := range s["rows"].([]any) {
			v, err := ion.ParseText(r.(string))
			require.NoError(t, err)
			out = append(out, strings.TrimSpace(v.String()))
		}
		return out
	}
	require.Len(t, rows("create"), 1)
	require.Len(t, rows("insert"), 2)
	require.Equal(t, []string{`{FirstName:"Raul",Fine:90.25}`}, rows("lookup"))
	require.Len(t, rows("update"), 1)
	require.Equal(t, []string{"{n:2}"}, rows("count"))
	require.ElementsMatch(t, []string{"0", "1"}, rows("history"))
	require.Equal(t, "BadRequestException", steps["bad"]["error"], "%v", steps["bad"])
	require.Contains(t, steps["bad"]["message"], "expected FROM")
	require.Equal(t, []string{"300"}, rows("paged"))
	require.Equal(t, []string{`"Person"`}, rows("tables"))
}

// TestConcurrentDriversAndCatalogChanges: sixteen goroutines insert and
// look up through one driver while another creates tables and indexes;
// every insert is found once, and the journal verifies.
func TestConcurrentDriversAndCatalogChanges(t *testing.T) {
	f := newFixture(t, nil, nil)
	createLedger(t, f, "l")
	d := newDriver(t, f, "l")
	// Until the index exists, each lookup scans and conflicts with every
	// insert into the table, and the index's creation conflicts with every
	// transaction on t in flight: liveness needs more than the driver's
	// default four retries when sixteen writers contend under the race
	// detector. The assertion is correctness: every insert found once.
	d.SetRetryPolicy(qldbdriver.RetryPolicy{MaxRetryLimit: 100,
		Backoff: qldbdriver.ExponentialBackoffStrategy{SleepBase: time.Millisecond, SleepCap: 50 * time.Millisecond}})
	query(t, d, "CREATE TABLE t")
	const workers, each = 16, 10
	errs := make(chan error, workers+1)
	for w := range workers {
		go func() {
			for i := range each {
				key := fmt.Sprintf("w%d-%d", w, i)
				if _, err := tryQuery(d, "INSERT INTO t ?", map[string]any{"k": key}); err != nil {
					errs <- err
					return
				}
				rows, err := tryQuery(d, "SELECT VALUE k FROM t WHERE k = ?", key)
				if err == nil && len(rows) != 1 {
					err = fmt.Errorf("%s found %d times", key, len(rows))
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	go func() {
		for i := range 5 {
			if _, err := tryQuery(d, fmt.Sprintf("CREATE TABLE extra%d", i)); err != nil {
				errs <- err
				return
			}
		}
		_, err := tryQuery(d, "CREATE INDEX ON t (k)")
		errs <- err
	}()
	var failures []error
	for range workers + 1 { // every goroutine ends before the driver shuts down
		if err := <-errs; err != nil {
			failures = append(failures, err)
		}
	}
	require.Empty(t, failures)
	require.Equal(t, []string{fmt.Sprint(workers * each)}, query(t, d, "SELECT VALUE COUNT(*) FROM t"))
	l, err := f.db.Ledger(ctx, "l")
	require.NoError(t, err)
	_, err = l.Check(ctx)
	require.NoError(t, err)
}
