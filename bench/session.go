package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/qldbsession"
	"github.com/awslabs/amazon-qldb-driver-go/v3/qldbdriver"

	"github.com/quilldb/quill"
	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/journal"
)

// Session is the data-plane workload: the tutorial's lookup by an indexed
// field and its insert, at each client count and table size, three ways:
// through the Go API (Tx.Lookup, Tx.Insert), through PartiQL in process
// (Tx.Query) and through the official QLDB driver over the session
// protocol on loopback (Config.SessionHandler serves it). The difference
// between the first two is PartiQL's cost; between the last two, the
// protocol's.
const Session = "session"

const (
	sessionLookup = "SELECT * FROM Person AS p WHERE p.GovId = ?"
	sessionInsert = "INSERT INTO Person ?"
)

func runSession(ctx context.Context, c *Config, e Engine, p *progress) ([]Result, error) {
	if e.Name() != "quill" {
		return nil, ErrUnsupported
	}
	if c.SessionHandler == nil {
		return nil, errors.New("the session workload needs Config.SessionHandler (quill bench sets it)")
	}
	var out []Result
	for _, size := range c.Sizes {
		res, err := sessionSize(ctx, c, p, size)
		if err != nil {
			return nil, err
		}
		out = append(out, res...)
	}
	return out, nil
}

func person(govID string, i int) ion.Value {
	return ion.Struct(ion.F("FirstName", ion.String(fmt.Sprintf("First%d", i))), ion.F("LastName", ion.String("Bench")),
		ion.F("GovId", ion.String(govID)), ion.F("GovIdType", ion.String("Driver License")),
		ion.F("Address", ion.String(fmt.Sprintf("%d Main Street, Seattle, WA, 98109", i))))
}

func sessionSize(ctx context.Context, c *Config, p *progress, size int) ([]Result, error) {
	dir, err := os.MkdirTemp(c.Dir, "quill-bench-session-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	db, err := quill.Open(dir, &quill.Options{MaxRetries: 100, Journal: journal.Options{CacheSize: c.CacheSize}})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if _, err := db.CreateLedger(ctx, &quill.CreateLedgerInput{Name: "bench", PermissionsMode: "STANDARD"}); err != nil {
		return nil, err
	}
	l, err := db.Ledger(ctx, "bench")
	if err != nil {
		return nil, err
	}
	if err := l.Execute(ctx, func(tx *quill.Tx) error {
		if _, err := tx.CreateTable("Person"); err != nil {
			return err
		}
		return tx.CreateIndex("Person", "GovId")
	}); err != nil {
		return nil, err
	}
	const perTx = 40 // QLDB's documents-per-transaction limit
	if err := Parallel(ctx, (size+perTx-1)/perTx, 16, func(b int) error {
		return l.Execute(ctx, func(tx *quill.Tx) error {
			for i := b * perTx; i < min(size, (b+1)*perTx); i++ {
				if _, err := tx.Insert("Person", person(fmt.Sprintf("G%09d", i), i)); err != nil {
					return err
				}
			}
			return nil
		})
	}); err != nil {
		return nil, fmt.Errorf("seeding %d documents: %w", size, err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: c.SessionHandler(db)} //nolint:gosec // loopback only, for the run
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	maxClients := 1
	for _, n := range c.Clients {
		maxClients = max(maxClients, n)
	}
	client := qldbsession.New(qldbsession.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://" + ln.Addr().String()),
		Credentials: aws.AnonymousCredentials{}, Retryer: aws.NopRetryer{},
		HTTPClient: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: maxClients + 8}}})
	driver, err := qldbdriver.New("bench", client, func(o *qldbdriver.DriverOptions) {
		o.LoggerVerbosity = qldbdriver.LogOff
		o.MaxConcurrentTransactions = maxClients
		o.RetryPolicy.MaxRetryLimit = 100
	})
	if err != nil {
		return nil, err
	}
	defer driver.Shutdown(context.WithoutCancel(ctx))

	var inserted atomic.Int64
	newGovID := func() string { return fmt.Sprintf("N%09d", inserted.Add(1)) }
	randomGovID := func() string { return fmt.Sprintf("G%09d", rand.IntN(size)) }
	found := func(n int) error {
		if n != 1 {
			return fmt.Errorf("a lookup found %d documents, not 1", n)
		}
		return nil
	}
	type way struct {
		engine         string
		lookup, insert func() error
	}
	ways := []way{
		{"quill-goapi",
			func() error {
				return l.Execute(ctx, func(tx *quill.Tx) error {
					docs, err := tx.Lookup("Person", "GovId", ion.String(randomGovID()))
					if err != nil {
						return err
					}
					return found(len(docs))
				})
			},
			func() error {
				return l.Execute(ctx, func(tx *quill.Tx) error {
					_, err := tx.Insert("Person", person(newGovID(), 0))
					return err
				})
			}},
		{"quill-partiql",
			func() error {
				return l.Execute(ctx, func(tx *quill.Tx) error {
					res, err := tx.Query(sessionLookup, ion.String(randomGovID()))
					if err != nil {
						return err
					}
					return found(len(res.Values))
				})
			},
			func() error {
				return l.Execute(ctx, func(tx *quill.Tx) error {
					_, err := tx.Query(sessionInsert, person(newGovID(), 0))
					return err
				})
			}},
		{"quill-driver",
			func() error {
				_, err := driver.Execute(ctx, func(txn qldbdriver.Transaction) (any, error) {
					res, err := txn.Execute(sessionLookup, randomGovID())
					if err != nil {
						return nil, err
					}
					n := 0
					for res.Next(txn) {
						n++
					}
					if err := res.Err(); err != nil {
						return nil, err
					}
					return nil, found(n)
				})
				return err
			},
			func() error {
				doc := map[string]any{"FirstName": "First", "LastName": "Bench", "GovId": newGovID(),
					"GovIdType": "Driver License", "Address": "1 Main Street, Seattle, WA, 98109"}
				_, err := driver.Execute(ctx, func(txn qldbdriver.Transaction) (any, error) {
					return txn.Execute(sessionInsert, doc)
				})
				return err
			}},
	}
	// Every way's lookups run before any insert, so that they read the same
	// table.
	var out []Result
	for _, clients := range c.Clients {
		for _, op := range []string{"lookup", "insert"} {
			for _, w := range ways {
				fn := w.lookup
				if op == "insert" {
					fn = w.insert
				}
				engine := w.engine + " " + op
				p.start(engine, "session-"+op, clients, size)
				ops, elapsed, lat, err := measure(ctx, clients, c.Duration, func(int, int) error { return fn() })
				if err != nil {
					return nil, fmt.Errorf("%s: %w", engine, err)
				}
				r := point(engine, "session-"+op, clients, size, ops, elapsed, lat)
				p.finish(r)
				out = append(out, r)
			}
		}
	}
	return out, nil
}
