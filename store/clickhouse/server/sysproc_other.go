//go:build !linux

package server

import "syscall"

// Outside Linux there is no Pdeathsig; Stop must be called.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
