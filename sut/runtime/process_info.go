package runtime

import (
	"errors"
	"fmt"
	"os/exec"
)

// Processes is what a process-runtime cluster tells beyond Cluster: the
// operating-system process behind each node. raftd's bench measures the
// nodes' CPU time with it, and raftd's integration tests check how a node
// exited. Docker clusters do not offer it.
type Processes interface {
	// PID is the process id of node id's current (or last) process.
	PID(id string) (int, error)
	// Exited reports whether node id's last process has exited and, if
	// so, its exit code (-1 when a signal ended it).
	Exited(id string) (exited bool, code int, err error)
}

var _ Processes = (*processCluster)(nil)

func (c *processCluster) PID(id string) (int, error) {
	n, err := c.node(id)
	if err != nil {
		return 0, err
	}
	if pid := n.pid(); pid > 0 {
		return pid, nil
	}
	return 0, fmt.Errorf("node %s has no process", id)
}

func (c *processCluster) Exited(id string) (bool, int, error) {
	n, err := c.node(id)
	if err != nil {
		return false, 0, err
	}
	if n.running() {
		return false, 0, nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil || n.cmd.ProcessState == nil {
		return false, 0, fmt.Errorf("node %s has not run", id)
	}
	var exit *exec.ExitError
	if n.exitErr != nil && !errors.As(n.exitErr, &exit) {
		return true, -1, fmt.Errorf("node %s: waiting for its process: %w", id, n.exitErr)
	}
	return true, n.cmd.ProcessState.ExitCode(), nil
}
