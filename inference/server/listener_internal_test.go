package server

import (
	"context"
	"errors"
	"net"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDrainListenerServesTheQueueAndRefusesNewConnections checks the two halves of closing a
// listener without resets: a connection the kernel queued before stopAccepting is still
// accepted, and (on Linux, where the socket filter drops SYNs) a new connection is not
// established at all, so its client sends nothing, and after Close it is refused.
func TestDrainListenerServesTheQueueAndRefusesNewConnections(t *testing.T) {
	ln, err := Listen(context.Background(), "127.0.0.1:0")
	require.NoError(t, err)
	dl := newDrainListener(ln, 50*time.Millisecond)
	queued, err := net.Dial("tcp", ln.Addr().String()) // completed by the kernel, not yet accepted
	require.NoError(t, err)
	defer queued.Close()

	stopped := make(chan bool, 1)
	go func() {
		refused, err := dl.stopAccepting(5 * time.Second)
		if runtime.GOOS == "linux" {
			assert.NoError(t, err)
		}
		stopped <- refused
	}()
	c, err := dl.Accept()
	require.NoError(t, err, "the queued connection is accepted after stopAccepting")
	c.Close()
	accepted := make(chan error, 1)
	go func() {
		_, err := dl.Accept() // parks once the queue is empty, until Close
		accepted <- err
	}()
	refused := <-stopped
	if runtime.GOOS == "linux" {
		assert.True(t, refused)
		_, err = net.DialTimeout("tcp", ln.Addr().String(), 300*time.Millisecond)
		var ne net.Error
		require.ErrorAs(t, err, &ne, "a new connection is not established while the filter drops SYNs")
		assert.True(t, ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded), "%v", err)
	}
	require.NoError(t, dl.Close())
	assert.ErrorIs(t, <-accepted, net.ErrClosed)
	_, err = net.DialTimeout("tcp", ln.Addr().String(), time.Second)
	assert.Error(t, err, "after Close the port refuses")
}
