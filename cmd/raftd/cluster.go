package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/faultline/faultline/sut/server"
)

// procCluster runs raftd nodes as local processes on 127.0.0.1, each with
// its own kernel-chosen port, data directory and log file. The bench and the
// integration tests use it; campaigns use sut/runtime instead.
type procCluster struct {
	bin   string
	dir   string
	extra []string // flags every node gets

	mu    sync.Mutex
	peers map[string]string // the initial voters: id -> address
	nodes map[string]*procNode
	http  *http.Client
}

type procNode struct {
	id, addr, data, logPath string
	join                    bool
	extra                   []string
	cmd                     *exec.Cmd
	exited                  chan struct{}
}

// freeAddr asks the kernel for a free port on 127.0.0.1.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startProcCluster starts n voters n1..nN with bin, data under dir.
func startProcCluster(bin, dir string, n int, extra ...string) (*procCluster, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	c := &procCluster{bin: bin, dir: dir, extra: extra, peers: map[string]string{}, nodes: map[string]*procNode{},
		http: &http.Client{Timeout: 2 * time.Second}}
	for i := 1; i <= n; i++ {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		c.peers[fmt.Sprintf("n%d", i)] = addr
	}
	for id, addr := range c.peers {
		c.nodes[id] = &procNode{id: id, addr: addr, data: filepath.Join(dir, id), logPath: filepath.Join(dir, id+".log")}
	}
	for _, id := range c.ids() {
		if err := c.start(id); err != nil {
			c.close()
			return nil, err
		}
	}
	return c, nil
}

func (c *procCluster) ids() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := make([]string, 0, len(c.nodes))
	for id := range c.nodes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func (c *procCluster) node(id string) *procNode {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[id]
}

// addrs maps every node to its address.
func (c *procCluster) addrs() map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]string{}
	for id, n := range c.nodes {
		out[id] = n.addr
	}
	return out
}

func (c *procCluster) peerFlag() string {
	parts := make([]string, 0, len(c.peers))
	for id, addr := range c.peers {
		parts = append(parts, id+"="+addr)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// start launches (or relaunches, from its data) node id.
func (c *procCluster) start(id string) error {
	n := c.node(id)
	if n == nil {
		return fmt.Errorf("no node %s", id)
	}
	args := []string{"--id", id, "--listen", n.addr, "--data", n.data}
	if n.join {
		args = append(args, "--join")
	} else {
		args = append(args, "--peers", c.peerFlag())
	}
	args = append(append(args, c.extra...), n.extra...)
	logf, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(c.bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = childProcAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", id, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(exited) }()
	c.mu.Lock()
	n.cmd, n.exited = cmd, exited
	c.mu.Unlock()
	return c.waitServing(id, 10*time.Second)
}

// waitServing polls /admin/status until the node answers.
func (c *procCluster) waitServing(id string, limit time.Duration) error {
	n := c.node(id)
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-n.exited:
			return fmt.Errorf("node %s exited at start; its log %s ends with:\n%s", id, n.logPath, tail(n.logPath, 15))
		default:
		}
		if _, err := c.status(id); err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("node %s did not serve within %v", id, limit)
}

func tail(path string, lines int) string {
	b, _ := os.ReadFile(path)
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// signal sends sig to id and waits for it to exit.
func (c *procCluster) signal(id string, sig syscall.Signal) error {
	n := c.node(id)
	if n == nil || n.cmd == nil {
		return fmt.Errorf("node %s is not running", id)
	}
	if err := n.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-n.exited:
		return nil
	case <-time.After(10 * time.Second):
		n.cmd.Process.Kill()
		<-n.exited
		return fmt.Errorf("node %s ignored %v for 10s", id, sig)
	}
}

func (c *procCluster) kill(id string) error { return c.signal(id, syscall.SIGKILL) }
func (c *procCluster) stop(id string) error { return c.signal(id, syscall.SIGTERM) }

// addJoiner starts a new empty node with --join and returns its address.
func (c *procCluster) addJoiner(id string, extra ...string) (string, error) {
	addr, err := freeAddr()
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	c.nodes[id] = &procNode{id: id, addr: addr, data: filepath.Join(c.dir, id), logPath: filepath.Join(c.dir, id+".log"), join: true, extra: extra}
	c.mu.Unlock()
	return addr, c.start(id)
}

// close kills every node still running.
func (c *procCluster) close() {
	for _, id := range c.ids() {
		n := c.node(id)
		if n.cmd == nil {
			continue
		}
		select {
		case <-n.exited:
		default:
			c.kill(id)
		}
	}
}

// status fetches a node's /admin/status.
func (c *procCluster) status(id string) (server.StatusBody, error) {
	var st server.StatusBody
	n := c.node(id)
	if n == nil {
		return st, fmt.Errorf("no node %s", id)
	}
	resp, err := c.http.Get("http://" + n.addr + "/admin/status")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("status of %s: HTTP %d", id, resp.StatusCode)
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// waitLeader waits until one of among (every node when empty) reports itself
// leader with its own term's entries applied, and returns its id.
func (c *procCluster) waitLeader(ctx context.Context, among ...string) (string, error) {
	if len(among) == 0 {
		among = c.ids()
	}
	for {
		for _, id := range among {
			st, err := c.status(id)
			if err == nil && st.Role == "leader" && st.Commit > 0 && st.Applied >= st.Commit {
				return id, nil
			}
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("no leader among %v: %w", among, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// cpu is the CPU time used so far by every running node.
func (c *procCluster) cpu() time.Duration {
	var total time.Duration
	for _, id := range c.ids() {
		if n := c.node(id); n.cmd != nil && n.cmd.Process != nil {
			total += processCPU(n.cmd.Process.Pid)
		}
	}
	return total
}
