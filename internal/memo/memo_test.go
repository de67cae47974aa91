package memo

import (
	"errors"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMemoComputesOnceKeepsNoErrorsAndStaysBounded(t *testing.T) {
	m := New[int](3)
	computed := 0
	get := func(k string) (int, error) {
		return m.Get(k, func() (int, error) { computed++; return len(k), nil })
	}
	for range 5 {
		v, err := get("four")
		require.NoError(t, err)
		require.Equal(t, 4, v)
	}
	require.Equal(t, 1, computed, "a kept value is not computed again")

	_, err := m.Get("bad", func() (int, error) { return 0, errors.New("no") })
	require.Error(t, err)
	_, err = m.Get("bad", func() (int, error) { return 7, nil })
	require.NoError(t, err, "an error is not kept")

	for i := range 10 {
		_, _ = get(strconv.Itoa(i))
	}
	n := 0
	m.m.Range(func(any, any) bool { n++; return true })
	require.LessOrEqual(t, n, 3, "never more than the limit")
}
