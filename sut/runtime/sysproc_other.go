//go:build !linux

package runtime

import (
	"context"
	"syscall"
)

// nodeSysProcAttr puts a node in its own process group so signals reach
// every process it starts.
func nodeSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// waitStopped cannot observe thread states without /proc; the stop takes
// effect shortly after kill returns.
func waitStopped(ctx context.Context, pid int) error { return nil }
