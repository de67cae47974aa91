package peers

import (
	"context"
	"testing"

	"github.com/quilldb/quill/bench"
	"github.com/stretchr/testify/require"
)

// TestPeersSmoke runs the peers beside Quill in the harness's smoke mode,
// so that the peer drivers cannot rot.
func TestPeersSmoke(t *testing.T) {
	Register()
	for _, w := range []string{bench.Commit, bench.Prove} {
		rep, err := bench.Run(context.Background(), &bench.Config{Workload: w, Smoke: true, Dir: t.TempDir(),
			Engines: []string{"quill", "immudb", "tessera"}})
		require.NoError(t, err, w)
		seen := map[string]bool{}
		for _, r := range rep.Results {
			require.Positive(t, r.Ops, "%s %s", r.Engine, w)
			seen[r.Engine] = true
		}
		require.Equal(t, map[string]bool{"quill": true, "immudb": true, "tessera": true}, seen, w)
	}
}
