package quill

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestTxContextIsAContextWithTimeout: the attempt's context says what
// context.WithTimeout would: live, then past its deadline (with or without
// a waiter on Done), cancelled when the attempt ends, and the caller's
// cancellation first.
func TestTxContextIsAContextWithTimeout(t *testing.T) {
	c := newTxContext(context.Background(), time.Hour)
	require.NoError(t, c.Err())
	d, ok := c.Deadline()
	require.True(t, ok)
	require.WithinDuration(t, time.Now().Add(time.Hour), d, time.Minute)
	c.release()
	require.ErrorIs(t, c.Err(), context.Canceled)
	<-c.Done() // armed after the end: already closed

	for _, wait := range []bool{false, true} {
		c = newTxContext(context.Background(), 20*time.Millisecond)
		if wait {
			select {
			case <-c.Done():
				t.Fatal("done before the deadline")
			default:
			}
			<-c.Done()
		} else {
			time.Sleep(30 * time.Millisecond)
		}
		require.ErrorIs(t, c.Err(), context.DeadlineExceeded, "waited on Done: %v", wait)
		c.release()
		require.ErrorIs(t, c.Err(), context.DeadlineExceeded, "the first reason stays")
	}

	parent, cancel := context.WithCancel(context.Background())
	c = newTxContext(parent, time.Hour)
	done := c.Done()
	cancel()
	<-done
	require.ErrorIs(t, c.Err(), context.Canceled)
	child, stop := context.WithCancel(c)
	defer stop()
	<-child.Done()
	c.release()
}
