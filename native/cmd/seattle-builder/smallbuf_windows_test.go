//go:build windows

package main

import "syscall"

// smallRecvBuffer is a net.Dialer Control that shrinks the socket's receive
// buffer, so a download stays mostly on the server's side until it is read.
func smallRecvBuffer(_, _ string, c syscall.RawConn) error {
	return c.Control(func(fd uintptr) {
		syscall.SetsockoptInt(syscall.Handle(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 16<<10)
	})
}
