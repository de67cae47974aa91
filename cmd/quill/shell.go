package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/qldbsession"
	sessiontypes "github.com/aws/aws-sdk-go-v2/service/qldbsession/types"
	"github.com/aws/smithy-go"
	"golang.org/x/term"

	"github.com/quilldb/quill"
	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/journal"
	"github.com/quilldb/quill/merkle"
	"github.com/quilldb/quill/partiql"
)

// partiqlConn runs statements in transactions, on a data directory or
// through a server's session protocol.
type partiqlConn interface {
	begin(ctx context.Context) error
	execute(ctx context.Context, stmt string, params []ion.Value) ([]ion.Value, error)
	commit(ctx context.Context) error
	abort(ctx context.Context)
	close(ctx context.Context)
}

// connFlags are the flags that say where statements run.
type connFlags struct {
	dir, ledger, endpoint, region, format *string
}

func addConnFlags(c *command) connFlags {
	return connFlags{
		dir:      c.fs.String("data", "quill-data", "data directory (when no -endpoint is given; not while quill serve uses it)"),
		ledger:   c.fs.String("ledger", "", "the ledger (required)"),
		endpoint: c.fs.String("endpoint", "", "a server's URL (e.g. http://127.0.0.1:8787): talk QLDB's session protocol to it, signed with the AWS SDK's standard credentials when there are any"),
		region:   c.fs.String("region", "us-east-1", "the region to sign requests for, with -endpoint"),
		format:   c.fs.String("format", "ion", "how results are printed: ion (Ion text) or json"),
	}
}

func (f connFlags) open(ctx context.Context, c *command) (partiqlConn, error) {
	if *f.ledger == "" {
		return nil, c.usageError("-ledger is required")
	}
	if *f.format != "ion" && *f.format != "json" {
		return nil, c.usageError("-format must be ion or json, got %q", *f.format)
	}
	if *f.endpoint != "" {
		return newRemoteConn(ctx, *f.endpoint, *f.region, *f.ledger)
	}
	db, err := openData(*f.dir, journal.CreateNever, quill.Options{})
	if err != nil {
		return nil, err
	}
	l, err := db.Ledger(ctx, *f.ledger)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return &localConn{db: db, l: l}, nil
}

func printValue(w io.Writer, v ion.Value, format string) error {
	var b []byte
	if format == "json" {
		b = ion.AppendJSON(nil, v)
	} else {
		b = ion.AppendText(nil, v)
	}
	b = append(b[:len(strings.TrimRight(string(b), "\n"))], '\n')
	_, err := w.Write(b)
	return err
}

const queryAbout = `Runs one PartiQL statement in its own transaction and prints its rows, one per line, as Ion
text or JSON. PARAMS are Ion text values for the statement's ? parameters, in order. The ledger
is opened in a data directory (-data) or reached through a server (-endpoint). Example:

  quill query -ledger vehicle-registration "SELECT * FROM Person AS p WHERE p.GovId = ?" '"LEWISR261LL"'`

func queryCmd(args []string, stdout io.Writer) error {
	c := newCommand("query", "-ledger NAME [-data DIR | -endpoint URL] [-format ion|json] STATEMENT [PARAM...]", queryAbout, stdout)
	f := addConnFlags(c)
	rest, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return c.usageError("a statement is required")
	}
	params := make([]ion.Value, len(rest)-1)
	for i, text := range rest[1:] {
		if params[i], err = ion.ParseText(text); err != nil {
			return c.usageError("parameter %d is not one Ion value: %v", i+1, err)
		}
	}
	ctx := context.Background()
	conn, err := f.open(ctx, c)
	if err != nil {
		return err
	}
	defer conn.close(ctx)
	if err := conn.begin(ctx); err != nil {
		return err
	}
	rows, err := conn.execute(ctx, rest[0], params)
	if err != nil {
		conn.abort(ctx)
		return err
	}
	if err := conn.commit(ctx); err != nil {
		return err
	}
	for _, r := range rows {
		if err := printValue(stdout, r, *f.format); err != nil {
			return err
		}
	}
	return nil
}

const shellAbout = `An interactive PartiQL shell, like QLDB's. Each statement runs in its own transaction, unless
"start transaction" opens one, which "commit" or "abort" ends. A statement may span lines: it
runs when it is complete (a ; at the end of a line always ends it). On a terminal, the arrow keys
edit the line and recall earlier statements. Type "help" for the commands, "exit" to leave.`

func shellCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	c := newCommand("shell", "-ledger NAME [-data DIR | -endpoint URL] [-format ion|json]", shellAbout, stdout)
	f := addConnFlags(c)
	rest, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return c.usageError("no arguments are taken (statements are read from the input)")
	}
	ctx := context.Background()
	conn, err := f.open(ctx, c)
	if err != nil {
		return err
	}
	defer conn.close(ctx)
	sh := &shell{conn: conn, format: *f.format, out: stdout, errOut: stderr}
	read := lineReader(stdin)
	if file, ok := stdin.(*os.File); ok && term.IsTerminal(int(file.Fd())) {
		old, err := term.MakeRaw(int(file.Fd()))
		if err != nil {
			return err
		}
		defer func() { _ = term.Restore(int(file.Fd()), old) }()
		t := term.NewTerminal(struct {
			io.Reader
			io.Writer
		}{file, stdout}, "")
		sh.out, sh.errOut = t, t
		read = func(prompt string) (string, error) {
			t.SetPrompt(prompt)
			return t.ReadLine()
		}
		fmt.Fprintf(t, "quill shell on ledger %s; type help for the commands\n", *f.ledger)
	}
	return sh.run(ctx, read)
}

// lineReader reads lines without a terminal; the prompt is not printed,
// so that piped output holds only results.
func lineReader(stdin io.Reader) func(string) (string, error) {
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	return func(string) (string, error) {
		if !sc.Scan() {
			if err := sc.Err(); err != nil {
				return "", err
			}
			return "", io.EOF
		}
		return sc.Text(), nil
	}
}

type shell struct {
	conn        partiqlConn
	format      string
	out, errOut io.Writer
	inTx        bool
}

const shellHelp = `commands:
  start transaction   open a transaction; statements then run in it
  commit              commit the open transaction
  abort               abort the open transaction
  help                this text
  exit, quit          leave (an open transaction is aborted)
anything else is a PartiQL statement; it runs when complete (or at a ; ending a line)
`

func (sh *shell) run(ctx context.Context, read func(string) (string, error)) error {
	var pending strings.Builder
	for {
		prompt := "quill> "
		if sh.inTx {
			prompt = "quill*> "
		}
		if pending.Len() > 0 {
			prompt = "   ...> "
		}
		line, err := read(prompt)
		if errors.Is(err, io.EOF) {
			if strings.TrimSpace(pending.String()) != "" {
				sh.statement(ctx, pending.String())
			}
			if sh.inTx {
				sh.conn.abort(ctx)
				fmt.Fprintln(sh.errOut, "the open transaction was aborted")
			}
			return nil
		}
		if err != nil {
			return err
		}
		if pending.Len() == 0 {
			switch cmd := strings.ToLower(strings.TrimSuffix(strings.Join(strings.Fields(line), " "), ";")); cmd {
			case "":
				continue
			case "exit", "quit":
				if sh.inTx {
					sh.conn.abort(ctx)
					fmt.Fprintln(sh.errOut, "the open transaction was aborted")
				}
				return nil
			case "help":
				fmt.Fprint(sh.out, shellHelp)
				continue
			case "start transaction", "begin":
				sh.startTx(ctx)
				continue
			case "commit":
				sh.endTx(ctx, true)
				continue
			case "abort", "rollback":
				sh.endTx(ctx, false)
				continue
			}
		}
		pending.WriteString(line)
		pending.WriteString("\n")
		text := strings.TrimSpace(pending.String())
		if strings.HasSuffix(text, ";") || complete(text) {
			sh.statement(ctx, text)
			pending.Reset()
		}
	}
}

// complete reports whether a statement parses, or fails for a reason more
// lines cannot mend.
func complete(text string) bool {
	_, err := partiql.Parse(text)
	if err == nil {
		return true
	}
	msg := err.Error()
	return !strings.Contains(msg, "end of the statement") && !strings.Contains(msg, "is not closed")
}

func (sh *shell) startTx(ctx context.Context) {
	if sh.inTx {
		fmt.Fprintln(sh.errOut, "a transaction is open: commit or abort it first")
		return
	}
	if err := sh.conn.begin(ctx); err != nil {
		fmt.Fprintln(sh.errOut, errorLine(err))
		return
	}
	sh.inTx = true
}

func (sh *shell) endTx(ctx context.Context, commit bool) {
	if !sh.inTx {
		fmt.Fprintln(sh.errOut, "no transaction is open (start transaction opens one)")
		return
	}
	sh.inTx = false
	if !commit {
		sh.conn.abort(ctx)
		fmt.Fprintln(sh.errOut, "aborted")
		return
	}
	if err := sh.conn.commit(ctx); err != nil {
		fmt.Fprintln(sh.errOut, errorLine(err))
		return
	}
	fmt.Fprintln(sh.errOut, "committed")
}

func (sh *shell) statement(ctx context.Context, text string) {
	start := time.Now()
	own := !sh.inTx
	if own {
		if err := sh.conn.begin(ctx); err != nil {
			fmt.Fprintln(sh.errOut, errorLine(err))
			return
		}
	}
	rows, err := sh.conn.execute(ctx, strings.TrimSuffix(text, ";"), nil)
	if err == nil && own {
		err = sh.conn.commit(ctx)
	} else if err != nil && own {
		sh.conn.abort(ctx)
	}
	if err != nil {
		fmt.Fprintln(sh.errOut, errorLine(err))
		return
	}
	for _, r := range rows {
		_ = printValue(sh.out, r, sh.format)
	}
	fmt.Fprintf(sh.errOut, "%d row(s) in %v\n", len(rows), time.Since(start).Round(time.Millisecond))
}

// localConn runs statements on a ledger of an open data directory.
type localConn struct {
	db *quill.DB
	l  *quill.Ledger
	tx *quill.Transaction
}

func (c *localConn) begin(ctx context.Context) (err error) {
	c.tx, err = c.l.Begin(ctx)
	return err
}

func (c *localConn) execute(ctx context.Context, stmt string, params []ion.Value) ([]ion.Value, error) {
	res, err := c.tx.Execute(ctx, stmt, params...)
	if err != nil {
		return nil, err
	}
	return res.Values, nil
}

func (c *localConn) commit(ctx context.Context) error {
	_, err := c.tx.Commit(ctx)
	return err
}

func (c *localConn) abort(context.Context) { c.tx.Abort() }
func (c *localConn) close(context.Context) { _ = c.db.Close() }

// remoteConn speaks QLDB's session protocol to a server, as the drivers
// do: it computes the commit digest from what it sends.
type remoteConn struct {
	c       *qldbsession.Client
	ledger  string
	session string
	txID    string
	digest  merkle.Hash
}

func newRemoteConn(ctx context.Context, endpoint, region, ledger string) (*remoteConn, error) {
	// Credentials from the environment or the shared files only: asking a
	// cloud's instance metadata service makes no sense for a local server
	// and, where something answers it, prints the SDK's warnings.
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region), config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	if err != nil {
		return nil, err
	}
	creds := cfg.Credentials
	if creds == nil {
		creds = aws.AnonymousCredentials{}
	} else if _, err := creds.Retrieve(ctx); err != nil {
		creds = aws.AnonymousCredentials{} // a server without -auth accepts unsigned requests
	}
	c := qldbsession.New(qldbsession.Options{Region: region, BaseEndpoint: aws.String(endpoint), Credentials: creds,
		Retryer: aws.NopRetryer{}, HTTPClient: cfg.HTTPClient})
	return &remoteConn{c: c, ledger: ledger}, nil
}

func (c *remoteConn) send(ctx context.Context, in *qldbsession.SendCommandInput) (*qldbsession.SendCommandOutput, error) {
	if c.session != "" {
		in.SessionToken = aws.String(c.session)
	}
	out, err := c.c.SendCommand(ctx, in)
	return out, serverError(err)
}

// serverError shortens the SDK's error of an answer to the server's
// exception and message, keeping it for errors.As.
func serverError(err error) error {
	var apiErr smithy.APIError
	if err != nil && errors.As(err, &apiErr) {
		return fmt.Errorf("%s: %s (%w)", apiErr.ErrorCode(), apiErr.ErrorMessage(), errShort{err})
	}
	return err
}

// errShort wraps an error without repeating its text.
type errShort struct{ err error }

func (e errShort) Error() string { return "from the server" }
func (e errShort) Unwrap() error { return e.err }

func (c *remoteConn) begin(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		if c.session == "" {
			out, err := c.c.SendCommand(ctx, &qldbsession.SendCommandInput{StartSession: &sessiontypes.StartSessionRequest{LedgerName: aws.String(c.ledger)}})
			if err != nil {
				return serverError(err)
			}
			c.session = *out.StartSession.SessionToken
		}
		out, err := c.send(ctx, &qldbsession.SendCommandInput{StartTransaction: &sessiontypes.StartTransactionRequest{}})
		var ise *sessiontypes.InvalidSessionException
		if errors.As(err, &ise) && attempt == 0 {
			c.session = "" // expired: start a new session once
			continue
		}
		if err != nil {
			return err
		}
		c.txID = *out.StartTransaction.TransactionId
		c.digest = merkle.Hash(ion.Hash(ion.String(c.txID)))
		return nil
	}
}

func (c *remoteConn) execute(ctx context.Context, stmt string, params []ion.Value) ([]ion.Value, error) {
	holders := make([]sessiontypes.ValueHolder, len(params))
	e := merkle.Hash(ion.Hash(ion.String(stmt)))
	for i, p := range params {
		holders[i] = sessiontypes.ValueHolder{IonBinary: ion.AppendBinary(nil, p)}
		e = merkle.Dot(e, merkle.Hash(ion.Hash(p)))
	}
	c.digest = merkle.Dot(c.digest, e)
	out, err := c.send(ctx, &qldbsession.SendCommandInput{ExecuteStatement: &sessiontypes.ExecuteStatementRequest{
		TransactionId: aws.String(c.txID), Statement: aws.String(stmt), Parameters: holders}})
	if err != nil {
		return nil, err
	}
	var rows []ion.Value
	page := out.ExecuteStatement.FirstPage
	for {
		for _, h := range page.Values {
			v, err := ion.Parse(h.IonBinary)
			if err != nil {
				return nil, fmt.Errorf("a result value: %w", err)
			}
			rows = append(rows, v)
		}
		if page.NextPageToken == nil {
			return rows, nil
		}
		next, err := c.send(ctx, &qldbsession.SendCommandInput{FetchPage: &sessiontypes.FetchPageRequest{
			TransactionId: aws.String(c.txID), NextPageToken: page.NextPageToken}})
		if err != nil {
			return nil, err
		}
		page = next.FetchPage.Page
	}
}

func (c *remoteConn) commit(ctx context.Context) error {
	out, err := c.send(ctx, &qldbsession.SendCommandInput{CommitTransaction: &sessiontypes.CommitTransactionRequest{
		TransactionId: aws.String(c.txID), CommitDigest: c.digest[:]}})
	if err != nil {
		return err
	}
	if string(out.CommitTransaction.CommitDigest) != string(c.digest[:]) {
		return fmt.Errorf("the server echoed commit digest %x, not %x", out.CommitTransaction.CommitDigest, c.digest[:])
	}
	return nil
}

func (c *remoteConn) abort(ctx context.Context) {
	_, _ = c.send(ctx, &qldbsession.SendCommandInput{AbortTransaction: &sessiontypes.AbortTransactionRequest{}})
}

func (c *remoteConn) close(ctx context.Context) {
	if c.session != "" {
		_, _ = c.send(ctx, &qldbsession.SendCommandInput{EndSession: &sessiontypes.EndSessionRequest{}})
	}
}
