package server

import (
	"net"
	"syscall"
)

// refuseNewConnections attaches a classic BPF socket filter to the listening socket that drops
// TCP segments with SYN set and ACK clear: new connection requests. The handshake's final ACK
// and everything on connections already established still pass, so the accept queue can be
// emptied while no new connection joins it. A dropped SYN is retransmitted by the client about
// a second later; by then the socket is closed and the client gets a connection refused, which
// sends nothing. The filter sees the segment from its TCP header (the IP header is already
// pulled when tcp_v4_rcv/tcp_v6_rcv call tcp_filter), so byte 13 is the flags byte (RFC 9293 §3.1).
func refuseNewConnections(ln *net.TCPListener) error {
	prog := []syscall.SockFilter{
		*syscall.LsfStmt(syscall.BPF_LD|syscall.BPF_B|syscall.BPF_ABS, 13),
		*syscall.LsfStmt(syscall.BPF_ALU|syscall.BPF_AND|syscall.BPF_K, 0x12), // SYN|ACK
		*syscall.LsfJump(syscall.BPF_JMP|syscall.BPF_JEQ|syscall.BPF_K, 0x02, 0, 1),
		*syscall.LsfStmt(syscall.BPF_RET|syscall.BPF_K, 0), // SYN alone: drop
		*syscall.LsfStmt(syscall.BPF_RET|syscall.BPF_K, 0xffffffff),
	}
	rc, err := ln.SyscallConn()
	if err != nil {
		return err
	}
	var attachErr error
	if err := rc.Control(func(fd uintptr) {
		attachErr = syscall.AttachLsf(int(fd), prog) //nolint:staticcheck // x/net/bpf would add a dependency for five instructions
	}); err != nil {
		return err
	}
	return attachErr
}
