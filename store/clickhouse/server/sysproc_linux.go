package server

import "syscall"

// Pdeathsig: the kernel sends SIGTERM to the server when trendwatch dies,
// however it dies, so no orphan keeps the ports and data dir. Setpgid keeps
// a terminal's ^C (sent to the foreground group) from reaching the server
// before trendwatch drains into it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
}
