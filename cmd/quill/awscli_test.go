package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// awsCLI is Debian's AWS CLI v2 (package awscli), which still knows QLDB;
// the pip one does not. .ci/run installs it; elsewhere the test is skipped
// unless CI is set.
const awsCLI = "/usr/bin/aws"

// TestAWSCLIAgainstServe drives `quill serve` with the real AWS CLI
// (botocore's REST-JSON client), a second client beside the Go SDK.
func TestAWSCLIAgainstServe(t *testing.T) {
	if _, err := os.Stat(awsCLI); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must install Debian's awscli: %v", err)
		}
		t.Skip("no " + awsCLI + " (apt-get install awscli)")
	}
	bin := buildQuill(t)
	exports := t.TempDir()
	url, _, cmd := startServe(t, bin, filepath.Join(t.TempDir(), "data"), "-bucket-dir", "ledger-archive="+exports)
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()

	aws := func(args ...string) (map[string]any, string, error) {
		c := exec.Command(awsCLI, append(append([]string{"qldb"}, args...), "--endpoint-url", url, "--output", "json")...)
		c.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=y", "AWS_DEFAULT_REGION=us-east-1",
			"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
		out, err := c.Output()
		var stderr string
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			stderr = string(exitErr.Stderr)
		}
		res := map[string]any{}
		if len(out) > 0 {
			require.NoError(t, json.Unmarshal(out, &res), "%s", out)
		}
		return res, stderr, err
	}
	created, _, err := aws("create-ledger", "--name", "cli-ledger", "--permissions-mode", "ALLOW_ALL", "--tags", "team=dmv")
	require.NoError(t, err)
	require.Equal(t, "ACTIVE", created["State"])
	list, _, err := aws("list-ledgers")
	require.NoError(t, err)
	require.Len(t, list["Ledgers"], 1)
	tags, _, err := aws("list-tags-for-resource", "--resource-arn", created["Arn"].(string))
	require.NoError(t, err)
	require.Equal(t, map[string]any{"team": "dmv"}, tags["Tags"])
	digest, _, err := aws("get-digest", "--name", "cli-ledger")
	require.NoError(t, err)
	require.NotEmpty(t, digest["Digest"])

	// A journal export, as the CLI's user would start and follow it, to a
	// bucket that serve maps to a directory.
	started, _, err := aws("export-journal-to-s3", "--name", "cli-ledger",
		"--inclusive-start-time", "2020-01-01T00:00:00Z", "--exclusive-end-time", time.Now().UTC().Format(time.RFC3339),
		"--role-arn", "arn:aws:iam::123456789012:role/export", "--output-format", "ION_TEXT",
		"--s3-export-configuration", "Bucket=ledger-archive,Prefix=cli/,EncryptionConfiguration={ObjectEncryptionType=NO_ENCRYPTION}")
	require.NoError(t, err)
	exportID := started["ExportId"].(string)
	var desc map[string]any
	for deadline := time.Now().Add(30 * time.Second); ; {
		d, _, err := aws("describe-journal-s3-export", "--name", "cli-ledger", "--export-id", exportID)
		require.NoError(t, err)
		desc = d["ExportDescription"].(map[string]any)
		if desc["Status"] != "IN_PROGRESS" {
			break
		}
		require.True(t, time.Now().Before(deadline))
		time.Sleep(20 * time.Millisecond)
	}
	require.Equal(t, "COMPLETED", desc["Status"])
	_, err = os.Stat(filepath.Join(exports, "cli", exportID+".started.manifest"))
	require.NoError(t, err)
	listed, _, err := aws("list-journal-s3-exports-for-ledger", "--name", "cli-ledger")
	require.NoError(t, err)
	require.Len(t, listed["JournalS3Exports"], 1)
	_, stderr, err := aws("stream-journal-to-kinesis", "--ledger-name", "cli-ledger", "--role-arn", "arn:aws:iam::123456789012:role/s",
		"--inclusive-start-time", "2030-01-01T00:00:00Z", "--stream-name", "feed",
		"--kinesis-configuration", "StreamArn=arn:aws:kinesis:us-east-1:123456789012:stream/feed")
	require.Error(t, err)
	require.Contains(t, stderr, "InvalidParameterException", "a start in the future")
	_, stderr, err = aws("delete-ledger", "--name", "cli-ledger")
	require.Error(t, err)
	require.Contains(t, stderr, "ResourcePreconditionNotMetException")
	_, stderr, err = aws("describe-ledger", "--name", "missing")
	require.Error(t, err)
	require.Contains(t, stderr, "ResourceNotFoundException")
}

// TestAWSCLIExportsATable runs DynamoDB's export commands of the AWS CLI
// against quill serve, with a table ARN that quill tables prints.
func TestAWSCLIExportsATable(t *testing.T) {
	if _, err := os.Stat(awsCLI); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must install Debian's awscli: %v", err)
		}
		t.Skip("no " + awsCLI + " (apt-get install awscli)")
	}
	bin := buildQuill(t)
	dir := filepath.Join(t.TempDir(), "data")
	_, err := runCmd(t, "", "demo", "-data", dir)
	require.NoError(t, err)
	tables, err := runCmd(t, "", "tables", "-data", dir, "-ledger", "vehicle-registration")
	require.NoError(t, err)
	var arn string
	for _, line := range strings.Split(tables, "\n") {
		if strings.HasPrefix(line, "Person ") {
			fields := strings.Fields(line)
			arn = fields[len(fields)-1]
		}
	}
	require.NotEmpty(t, arn)
	exports := t.TempDir()
	url, _, cmd := startServe(t, bin, dir, "-bucket-dir", "ledger-archive="+exports)
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	aws := func(args ...string) map[string]any {
		c := exec.Command(awsCLI, append(append([]string{"dynamodb"}, args...), "--endpoint-url", url, "--output", "json")...)
		c.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=y", "AWS_DEFAULT_REGION=us-east-1",
			"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
		out, err := c.Output()
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			t.Fatalf("aws dynamodb %v: %v: %s", args, err, exitErr.Stderr)
		}
		require.NoError(t, err)
		res := map[string]any{}
		require.NoError(t, json.Unmarshal(out, &res), "%s", out)
		return res
	}
	started := aws("export-table-to-point-in-time", "--table-arn", arn, "--s3-bucket", "ledger-archive", "--s3-prefix", "people",
		"--export-format", "DYNAMODB_JSON")
	exportArn := started["ExportDescription"].(map[string]any)["ExportArn"].(string)
	var desc map[string]any
	for deadline := time.Now().Add(30 * time.Second); ; {
		desc = aws("describe-export", "--export-arn", exportArn)["ExportDescription"].(map[string]any)
		if desc["ExportStatus"] != "IN_PROGRESS" {
			break
		}
		require.True(t, time.Now().Before(deadline))
		time.Sleep(20 * time.Millisecond)
	}
	require.Equal(t, "COMPLETED", desc["ExportStatus"])
	require.EqualValues(t, 3, desc["ItemCount"], "the demo's three people")
	_, err = os.Stat(filepath.Join(exports, filepath.FromSlash(desc["ExportManifest"].(string))))
	require.NoError(t, err)
	list := aws("list-exports", "--table-arn", arn)
	require.Len(t, list["ExportSummaries"], 1)
}
