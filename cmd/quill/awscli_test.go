package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

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
	url, _, cmd := startServe(t, bin, filepath.Join(t.TempDir(), "data"))
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
	_, stderr, err := aws("delete-ledger", "--name", "cli-ledger")
	require.Error(t, err)
	require.Contains(t, stderr, "ResourcePreconditionNotMetException")
	_, stderr, err = aws("describe-ledger", "--name", "missing")
	require.Error(t, err)
	require.Contains(t, stderr, "ResourceNotFoundException")
}
