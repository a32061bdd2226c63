//go:build !linux

package server

import (
	"errors"
	"net"
)

// refuseNewConnections is Linux-only: elsewhere the listener is closed after its queue was
// found empty, and a connection that arrives in between can still be reset.
func refuseNewConnections(*net.TCPListener) error { return errors.ErrUnsupported }
