//go:build unix

package lock

import (
	"errors"
	"syscall"
)

// pidRunning reports whether process pid runs on this host (a process of
// another user counts).
func pidRunning(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
