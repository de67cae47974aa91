package keyspace

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEveryOwnerHasItsOwnPrefix(t *testing.T) {
	seen := map[byte]string{}
	for _, o := range Owners {
		other, dup := seen[o.Prefix]
		require.False(t, dup, "%s and %s share the prefix %q", o.Name, other, o.Prefix)
		seen[o.Prefix] = o.Name
	}
}

func TestEndBoundsExactlyThePrefix(t *testing.T) {
	require.Equal(t, []byte("Le"), End([]byte("Ld")))
	require.Equal(t, []byte{'D', 0x02}, End([]byte{'D', 0x01, 0xFF}))
	require.Nil(t, End([]byte{0xFF, 0xFF}))
}
