package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/faultline/faultline/sut/runtime/powerfs"
	"github.com/faultline/faultline/sut/system"
)

// stopGrace is how long Stop waits after SIGTERM before it sends SIGKILL.
const stopGrace = 10 * time.Second

// processNode is one node of the process runtime: a local process bound to
// its own loopback IP, its data directory, its log file and the proxy peers
// dial to reach it.
type processNode struct {
	id      string
	ip      string // 127.0.0.x, also the source IP of its peer dials
	dir     string // holds data/
	data    string
	logPath string
	proxy   *linkProxy
	disk    *powerfs.Disk // Spec.PowerLoss: the data directory's mount
	// nodeArgs are what the node was first started with; Restart reuses
	// them, with a new port if the old one was taken in the meantime.
	nodeArgs system.NodeArgs

	// ops serializes lifecycle operations (start, kill, pause...) on this
	// node; mu guards the fields below and is never held while waiting.
	ops  sync.Mutex
	mu   sync.Mutex
	port int
	// peerPort is the node's own peer port when its system has one
	// (system.PeerPortOf), else 0: peers then use port.
	peerPort int
	cmd      *exec.Cmd
	exited   chan struct{} // closed when the current process has exited
	exitErr  error
	paused   bool
}

func (n *processNode) clientAddr() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.listenAddr()
}

func (n *processNode) listenAddr() string { return fmt.Sprintf("%s:%d", n.ip, n.port) }

// peerListen is the address the node binds for peers, "" when they share
// its client port.
func (n *processNode) peerListen() string {
	if n.peerPort == 0 {
		return ""
	}
	return fmt.Sprintf("%s:%d", n.ip, n.peerPort)
}

// peerTarget is where the node's proxy forwards peer traffic.
func (n *processNode) peerTarget() string {
	if n.peerPort == 0 {
		return n.listenAddr()
	}
	return n.peerListen()
}

// movePort gives the node a new port (the old one was taken by another
// process between our check and the node's bind). Peers are unaffected:
// they dial the proxy, which now forwards to the new port.
func (n *processNode) movePort() error {
	port, err := freePort(n.ip)
	if err != nil {
		return err
	}
	peerPort := 0
	if n.peerPort != 0 {
		if peerPort, err = freePort(n.ip); err != nil {
			return err
		}
	}
	n.mu.Lock()
	n.port, n.peerPort = port, peerPort
	n.nodeArgs.Listen, n.nodeArgs.PeerListen = n.listenAddr(), n.peerListen()
	target := n.peerTarget()
	n.mu.Unlock()
	n.proxy.setTarget(target)
	return nil
}

// running reports whether a process of this node is alive.
func (n *processNode) running() bool {
	n.mu.Lock()
	exited := n.exited
	n.mu.Unlock()
	if exited == nil {
		return false
	}
	select {
	case <-exited:
		return false
	default:
		return true
	}
}

// spawn starts the node's process with output appended to its log file.
func (n *processNode) spawn(binary string, node system.Node) error {
	n.mu.Lock()
	args := node.Args(n.nodeArgs)
	n.mu.Unlock()
	logFile, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("node %s: log file: %w", n.id, err)
	}
	defer logFile.Close() // the child keeps its own descriptor
	fmt.Fprintf(logFile, "# faultline: %s starting %s %s\n",
		time.Now().UTC().Format(time.RFC3339Nano), binary, strings.Join(args, " "))

	cmd := exec.Command(binary, args...)
	cmd.Dir = n.dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = nodeSysProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("node %s: start %s: %w", n.id, binary, err)
	}
	exited := make(chan struct{})
	n.mu.Lock()
	n.cmd, n.exited, n.exitErr, n.paused = cmd, exited, nil, false
	n.mu.Unlock()
	go func() {
		err := cmd.Wait()
		n.mu.Lock()
		n.exitErr = err
		n.mu.Unlock()
		close(exited)
	}()
	return nil
}

// startupFailure returns an error once the process started last has exited,
// with the end of its log, so that a node that cannot start says why.
func (n *processNode) startupFailure() error {
	n.mu.Lock()
	exited := n.exited
	n.mu.Unlock()
	select {
	case <-exited:
		n.mu.Lock()
		exitErr := n.exitErr
		n.mu.Unlock()
		return fmt.Errorf("node %s exited while starting (%v); end of %s:\n%s", n.id, exitErr, n.logPath, logTail(n.logPath, 2048))
	default:
		return nil
	}
}

// pid is the process id of the node's current (or last) process.
func (n *processNode) pid() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil || n.cmd.Process == nil {
		return 0
	}
	return n.cmd.Process.Pid
}

// signal sends sig to the node's process group.
func (n *processNode) signal(sig syscall.Signal) error {
	n.mu.Lock()
	cmd := n.cmd
	n.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return fmt.Errorf("node %s has no process", n.id)
	}
	err := syscall.Kill(-cmd.Process.Pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil // already gone
	}
	return err
}

// waitExit waits for the current process to exit.
func (n *processNode) waitExit(ctx context.Context) error {
	n.mu.Lock()
	exited := n.exited
	n.mu.Unlock()
	if exited == nil {
		return nil
	}
	select {
	case <-exited:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("node %s: waiting for exit: %w", n.id, ctx.Err())
	}
}

func (n *processNode) setPaused(p bool) {
	n.mu.Lock()
	n.paused = p
	n.mu.Unlock()
}

func (n *processNode) isPaused() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.paused
}

// kill sends SIGKILL and waits for the exit. The kernel delivers SIGKILL to
// stopped processes too, so a paused node dies at once.
func (n *processNode) kill(ctx context.Context) error {
	if !n.running() {
		return nil
	}
	if err := n.signal(syscall.SIGKILL); err != nil {
		return fmt.Errorf("node %s: kill: %w", n.id, err)
	}
	n.setPaused(false)
	return n.waitExit(ctx)
}

// stop sends SIGTERM (and SIGCONT, as a stopped process cannot handle it)
// and waits; after stopGrace it kills.
func (n *processNode) stop(ctx context.Context) error {
	if !n.running() {
		return nil
	}
	if err := n.signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("node %s: stop: %w", n.id, err)
	}
	if n.isPaused() {
		_ = n.signal(syscall.SIGCONT)
		n.setPaused(false)
	}
	graceCtx, cancel := context.WithTimeout(ctx, stopGrace)
	defer cancel()
	if err := n.waitExit(graceCtx); err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return n.kill(ctx)
}

// logTail returns up to max bytes from the end of a file.
func logTail(path string, max int64) string {
	f, err := os.Open(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > max {
		_, _ = f.Seek(-max, io.SeekEnd)
	}
	b, _ := io.ReadAll(f)
	return string(b)
}
