package archtest

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/quilldb/quill"

// layer ranks each package: a package may import project packages of a
// lower rank only (docs/architecture.md, "Which package may import which").
func layer(pkg string) (rank int, known bool) {
	rel := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
	top, _, _ := strings.Cut(rel, "/")
	switch top {
	case "merkle", "ion":
		return 0, true
	case "verify":
		return 1, true
	case "journal":
		return 2, true
	case "export", "stream", "partiql":
		return 3, true
	case "":
		return 4, true // the root package quill
	case "server", "bench", "demo":
		return 5, true
	case "cmd":
		return 6, true
	case "internal":
		return -1, true // internal helpers sit beside the layer that uses them
	}
	return 0, false
}

// cloudSDKAllowed lists where AWS SDK imports may appear outside tests.
func cloudSDKAllowed(pkg string) bool {
	rel := strings.TrimPrefix(pkg, module+"/")
	return strings.HasPrefix(rel, "export/s3") || strings.HasPrefix(rel, "stream/kinesis") ||
		strings.HasPrefix(rel, "bench") || strings.HasPrefix(rel, "cmd/") || strings.HasPrefix(rel, "server") ||
		rel == "internal/testenv" // the tests' clients of MinIO and kinesalite
}

func TestPackagesImportOnlyDownward(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}|{{join .Imports \",\"}}", module+"/...").CombinedOutput()
	require.NoError(t, err, "%s", out)
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, importList, _ := strings.Cut(line, "|")
		rank, known := layer(pkg)
		require.True(t, known, "package %s is not placed in a layer: add it to docs/architecture.md and this test", pkg)
		for _, imp := range strings.Split(importList, ",") {
			if imp == "" {
				continue
			}
			if strings.HasPrefix(imp, "github.com/aws/") {
				require.True(t, cloudSDKAllowed(pkg), "%s imports the cloud SDK %s", pkg, imp)
			}
			if pkg == module+"/merkle" {
				require.NotContains(t, imp, ".", "merkle must use the standard library only, imports %s", imp)
			}
			// export and stream never import each other: the root hands
			// each what it needs.
			top := func(p string) string { t, _, _ := strings.Cut(strings.TrimPrefix(p, module+"/"), "/"); return t }
			if (top(pkg) == "export" && top(imp) == "stream") || (top(pkg) == "stream" && top(imp) == "export") {
				require.Failf(t, "export and stream import each other", "%s imports %s", pkg, imp)
			}
			// Imports outside the module, from internal helpers, of a
			// package's own internal subpackages, and of a sink's parent
			// package (export/s3 implements export.Sink) are not layer
			// crossings.
			if !strings.HasPrefix(imp, module) || rank < 0 || strings.HasPrefix(imp, pkg+"/internal/") || strings.HasPrefix(pkg, imp+"/") {
				continue
			}
			impRank, _ := layer(imp)
			require.True(t, impRank < rank || impRank == -1,
				"%s (layer %d) imports %s (layer %d): imports must go down", pkg, rank, imp, impRank)
			require.False(t, strings.HasSuffix(imp, "/internal/archtest"))
			checked++
		}
	}
	require.Positive(t, checked, "no project imports were checked")
}
