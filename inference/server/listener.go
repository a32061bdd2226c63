package server

import (
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// drainListener lets Serve stop taking connections without resetting the ones the kernel has
// already accepted for it. Closing a listening socket resets every connection still in its
// accept queue, and a client whose connection was queued has usually sent its request already:
// that request is lost, and clients do not retry a POST. So before the socket is closed, new
// connection requests are refused at the socket (refuseNewConnections, Linux), and the queue is
// accepted until it stays empty for a short quiet period; only then does Close close the socket.
type drainListener struct {
	net.Listener
	tcp     *net.TCPListener // nil when the listener is not TCP: then nothing is drained
	quiet   time.Duration    // no connection for this long means the queue is empty
	closing atomic.Bool
	emptied chan struct{} // closed once the queue was found empty after stopAccepting
	closed  chan struct{} // closed by Close
	once    sync.Once
	cOnce   sync.Once
	// rawError (optional) counts the answers net/http writes itself; see rawErrorConn.
	rawError func(status int)
}

func newDrainListener(ln net.Listener, quiet time.Duration) *drainListener {
	tcp, _ := ln.(*net.TCPListener)
	return &drainListener{Listener: ln, tcp: tcp, quiet: quiet, emptied: make(chan struct{}), closed: make(chan struct{})}
}

// Accept accepts as usual; once stopAccepting has been called it returns what is still queued
// and then blocks until Close, so that http.Server sees the listener close only at Shutdown.
func (l *drainListener) Accept() (net.Conn, error) {
	if l.tcp == nil || !l.closing.Load() {
		c, err := l.Listener.Accept()
		if err == nil {
			return l.wrap(c), nil
		}
		if l.tcp == nil || !l.closing.Load() || !errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, err
		}
		// stopAccepting woke this Accept: drain the queue below.
	}
	// The deadline is set afresh before each try, so that every try reaches the accept queue
	// (an expired deadline fails before the system call). A quiet period that ends is
	// confirmed by one more short try, because a goroutine scheduled late can see its
	// deadline pass while a connection waits; a try cut short because stopAccepting moved the
	// deadline is repeated.
	for confirmed := 0; confirmed < 2; {
		wait := l.quiet
		if confirmed > 0 {
			wait = time.Millisecond
		}
		start := time.Now()
		_ = l.tcp.SetDeadline(start.Add(wait)) // fails only once closed, and then so does Accept
		c, err := l.Listener.Accept()
		if err == nil {
			return l.wrap(c), nil
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, err
		}
		if time.Since(start) >= wait {
			confirmed++
		}
	}
	l.once.Do(func() { close(l.emptied) })
	<-l.closed
	return nil, net.ErrClosed
}

func (l *drainListener) wrap(c net.Conn) net.Conn {
	return &rawErrorConn{Conn: c, count: l.rawError}
}

// stopAccepting refuses new connection requests where the platform allows it, then waits until
// the accept queue has been empty for the quiet period, or at most maxWait. It reports whether
// new connections were refused at the socket (without that, clients that keep connecting can
// still be reset when the listener closes).
func (l *drainListener) stopAccepting(maxWait time.Duration) (refused bool, err error) {
	if l.tcp == nil {
		return false, nil
	}
	err = refuseNewConnections(l.tcp)
	l.closing.Store(true)
	_ = l.tcp.SetDeadline(time.Now()) // wakes an Accept that waits, to drain the queue

	t := time.NewTimer(maxWait)
	defer t.Stop()
	select {
	case <-l.emptied:
	case <-t.C:
	}
	return err == nil, err
}

// Close closes the socket and releases an Accept parked by stopAccepting.
func (l *drainListener) Close() error {
	var err error
	l.cOnce.Do(func() {
		err = l.Listener.Close()
		close(l.closed)
	})
	return err
}

// Listen listens on addr ("host:port") for Serve. It asks for plain TCP: since Go 1.24 net.Listen
// uses Multipath TCP where the kernel has it, and an MPTCP socket refuses the socket filter
// with which Serve stops new connections without resetting queued ones (clients that do not
// speak MPTCP, such as SageMaker's, are served over plain TCP either way).
func Listen(ctx context.Context, addr string) (net.Listener, error) {
	var lc net.ListenConfig
	lc.SetMultipathTCP(false)
	return lc.Listen(ctx, "tcp", addr)
}
