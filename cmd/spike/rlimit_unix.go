//go:build unix

package main

import "syscall"

// raiseFileLimit lifts the soft open-files limit to the hard limit, so many
// connections do not run out of file descriptors. Failure is harmless.
func raiseFileLimit() {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err == nil && l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}
