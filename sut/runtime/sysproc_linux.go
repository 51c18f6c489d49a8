package runtime

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// nodeSysProcAttr puts a node in its own process group (so signals reach
// every process it starts) and has the kernel kill it if the checker dies,
// so a crashed checker leaves no node behind.
func nodeSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// waitStopped waits until every thread of pid is stopped. kill(SIGSTOP)
// returns before the stop takes effect: the kernel wakes one thread to
// start the group stop, and on a loaded machine the other threads can run
// on (and answer requests) for milliseconds. Pause must not return until
// the node is really frozen.
func waitStopped(ctx context.Context, pid int) error {
	taskDir := fmt.Sprintf("/proc/%d/task", pid)
	for {
		tasks, err := os.ReadDir(taskDir)
		if err != nil {
			return nil // the process is gone: nothing runs
		}
		running := 0
		for _, task := range tasks {
			stat, err := os.ReadFile(filepath.Join(taskDir, task.Name(), "stat"))
			if err != nil {
				continue // the thread exited
			}
			if !threadHalted(string(stat)) {
				running++
			}
		}
		if running == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d threads of process %d to stop: %w", running, pid, ctx.Err())
		case <-time.After(time.Millisecond):
		}
	}
}

// threadHalted reads the state field of /proc/<pid>/task/<tid>/stat, which
// follows the parenthesised command name: stopped (T, t) or dead (Z, X).
func threadHalted(stat string) bool {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 || i+2 >= len(stat) {
		return false
	}
	switch stat[i+2] {
	case 'T', 't', 'Z', 'X':
		return true
	}
	return false
}
