package main

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quilldb/quill"
	"github.com/quilldb/quill/server"
	"github.com/stretchr/testify/require"
)

func TestQueryAndShellOnADataDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	_, err := runCmd(t, "", "demo", "-data", dir)
	require.NoError(t, err)
	out, err := runCmd(t, "", "query", "-data", dir, "-ledger", "vehicle-registration",
		"SELECT p.FirstName FROM Person AS p WHERE p.GovId = ?", `"LEWISR261LL"`)
	require.NoError(t, err)
	require.Equal(t, "{FirstName:\"Raul\"}\n", out)

	// A transaction over several statements, a statement over several
	// lines, an error that does not end the shell, and JSON output.
	script := strings.Join([]string{
		"start transaction",
		"INSERT INTO Person VALUE {'FirstName': 'Zed', 'GovId': 'Z1'}",
		"SELECT VALUE FirstName",
		"  FROM Person WHERE GovId = 'Z1';",
		"abort",
		"SELECT * FORM Person",
		"SELECT VALUE COUNT(*) FROM Person WHERE GovId = 'Z1'",
	}, "\n")
	out, err = runCmd(t, script, "shell", "-data", dir, "-ledger", "vehicle-registration", "-format", "json")
	require.NoError(t, err)
	require.Equal(t, "{\"documentId\":", out[:14])
	require.Contains(t, out, "\n\"Zed\"\n0\n", "the aborted insert was visible inside its transaction only")

	_, err = runCmd(t, "", "query", "-data", dir, "-ledger", "vehicle-registration", "SELECT * FORM Person")
	require.ErrorContains(t, err, "at 'FORM': expected FROM")
	_, err = runCmd(t, "", "query", "-data", dir, "SELECT 1")
	require.ErrorContains(t, err, "-ledger is required")
}

func TestQueryThroughAServer(t *testing.T) {
	db, err := quill.Open(t.TempDir(), nil)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.CreateLedger(context.Background(), &quill.CreateLedgerInput{Name: "l", PermissionsMode: "STANDARD"})
	require.NoError(t, err)
	srv := httptest.NewServer(server.New(db, nil))
	defer srv.Close()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	for _, stmt := range []string{"CREATE TABLE t", "INSERT INTO t VALUE {'a': 1.50}"} {
		_, err := runCmd(t, "", "query", "-endpoint", srv.URL, "-ledger", "l", stmt)
		require.NoError(t, err, stmt)
	}
	out, err := runCmd(t, "", "query", "-endpoint", srv.URL, "-ledger", "l", "SELECT VALUE a FROM t WHERE a = ?", "1.5")
	require.NoError(t, err)
	require.Equal(t, "1.50\n", out)
	out, err = runCmd(t, "start transaction\nINSERT INTO t VALUE {'a': 2}\ncommit\nSELECT VALUE COUNT(*) FROM t\n", "shell", "-endpoint", srv.URL, "-ledger", "l")
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(out, "\n2\n"), out)
}
