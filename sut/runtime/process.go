package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"

	"github.com/faultline/faultline/sut/system"
)

// firstLoopbackHost is added to a node's 1-based index to give its
// loopback address: n1 gets 127.0.0.11, n2 127.0.0.12, ...
const firstLoopbackHost = 10

// maxProcessNodes is how many distinct node ids one process cluster can
// ever hold (the last octet must stay below 255).
const maxProcessNodes = 244

type processRuntime struct{ opts Options }

// NewProcess returns the process runtime: nodes are local processes, each
// on its own loopback IP, with a TCP proxy per node cutting directed peer
// links.
func NewProcess(opts Options) Runtime { return &processRuntime{opts: opts.withDefaults()} }

func (r *processRuntime) Name() string { return NameProcess }

// processCluster is a cluster of local processes.
type processCluster struct {
	opts   Options
	log    *slog.Logger
	spec   Spec
	binary string
	root   string // temporary root holding every node's directory and log

	mu       sync.Mutex
	nodes    map[string]*processNode // live nodes
	order    []string                // live node ids in start order
	hostOf   map[string]int          // id -> last octet; never reused within the cluster
	idOfIP   map[string]string       // loopback IP -> id
	logPaths map[string]string       // every node ever started, removed ones included
	grudge   Grudge
	links    LinkFaults // SetLinkFaults; applied to nodes added later too
	closed   bool

	closeOnce sync.Once
	closeErr  error
}

func (r *processRuntime) Start(ctx context.Context, spec Spec) (Cluster, error) {
	if err := validateSpec(spec); err != nil {
		return nil, err
	}
	if img := programOf(spec.System).Image; img != "" {
		return nil, fmt.Errorf("runtime process: %s runs from image %s; images need --runtime docker", spec.System.Name(), img)
	}
	bin, err := resolveProgram(ctx, programOf(spec.System), r.opts.SourceRoot, goruntime.GOOS)
	if err != nil {
		return nil, fmt.Errorf("runtime process: %w", err)
	}
	root, err := os.MkdirTemp(r.opts.WorkDir, "faultline-"+spec.Campaign+"-")
	if err != nil {
		return nil, fmt.Errorf("runtime process: %w", err)
	}
	c := &processCluster{
		opts: r.opts, log: r.opts.Log.With("runtime", NameProcess, "campaign", spec.Campaign),
		spec: spec, binary: bin.Path, root: root,
		nodes: map[string]*processNode{}, hostOf: map[string]int{},
		idOfIP: map[string]string{}, logPaths: map[string]string{},
	}
	prepared := make([]*processNode, 0, len(spec.Nodes))
	for _, id := range spec.Nodes {
		n, err := c.prepareNode(id)
		if err != nil {
			_ = c.Close(context.WithoutCancel(ctx))
			return nil, err
		}
		prepared = append(prepared, n)
	}
	peers := map[string]string{}
	for _, n := range prepared {
		peers[n.id] = n.proxy.Addr()
	}
	for _, n := range prepared {
		n.nodeArgs = system.NodeArgs{ID: n.id, Listen: n.clientAddr(), PeerListen: n.peerListen(), Peers: peers, Data: n.data, Cluster: spec.Campaign}
	}
	errs := make(chan error, len(prepared))
	for _, n := range prepared {
		go func() { errs <- c.startNode(ctx, n) }()
	}
	var startErr error
	for range prepared {
		startErr = errors.Join(startErr, <-errs)
	}
	if startErr != nil {
		_ = c.Close(context.WithoutCancel(ctx))
		return nil, startErr
	}
	c.log.Info("cluster serving", "nodes", spec.Nodes, "root", root)
	return c, nil
}

// prepareNode registers a node: loopback IP, port, directories, proxy. The
// caller sets args and starts it.
func (c *processCluster) prepareNode(id string) (*processNode, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	if _, live := c.nodes[id]; live {
		return nil, fmt.Errorf("node %s already exists", id)
	}
	host, ok := c.hostOf[id]
	if !ok {
		if len(c.hostOf) >= maxProcessNodes {
			return nil, fmt.Errorf("node %s: the process runtime holds at most %d node ids per cluster", id, maxProcessNodes)
		}
		host = firstLoopbackHost + len(c.hostOf) + 1
		c.hostOf[id] = host
	}
	ip := fmt.Sprintf("127.0.0.%d", host)
	port, err := freePort(ip)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", id, err)
	}
	dir := filepath.Join(c.root, id)
	data := filepath.Join(dir, "data")
	// A re-added id starts empty, as a fresh server must.
	if err := os.RemoveAll(data); err != nil {
		return nil, fmt.Errorf("node %s: wipe data: %w", id, err)
	}
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, fmt.Errorf("node %s: %w", id, err)
	}
	n := &processNode{id: id, ip: ip, port: port, dir: dir, data: data, logPath: filepath.Join(c.root, id+".log")}
	if system.PeerPortOf(c.spec.System) != 0 {
		if n.peerPort, err = freePort(ip); err != nil {
			return nil, fmt.Errorf("node %s: %w", id, err)
		}
	}
	n.proxy, err = newLinkProxy(id, n.peerTarget(), c.sourceOf, c.log)
	if err != nil {
		return nil, fmt.Errorf("node %s: proxy: %w", id, err)
	}
	if c.spec.PowerLoss {
		if err := n.mountPowerDisk(); err != nil {
			n.proxy.close()
			return nil, err
		}
	}
	n.proxy.setBlocked(c.grudge[id])
	c.nodes[id] = n
	c.applyLinkFaultsLocked()
	c.order = append(c.order, id)
	c.idOfIP[ip] = id
	c.logPaths[id] = n.logPath
	return n, nil
}

// sourceOf names the node that dials from ip (each node dials from its own
// loopback IP).
func (c *processCluster) sourceOf(ip string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.idOfIP[ip]
}

// startNode spawns n and waits until it serves.
func (c *processCluster) startNode(ctx context.Context, n *processNode) error {
	n.ops.Lock()
	defer n.ops.Unlock()
	return c.spawnAndWait(ctx, n)
}

// portAttempts bounds how often a node is started on a new port because
// another process took its port between our check and its bind.
const portAttempts = 3

func (c *processCluster) spawnAndWait(ctx context.Context, n *processNode) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.StartTimeout)
	defer cancel()
	for attempt := 1; ; attempt++ {
		if err := n.spawn(c.binary, c.spec.System); err != nil {
			return err
		}
		err := waitServing(ctx, n.clientAddr(), c.spec.System.HealthPath(), n.startupFailure)
		if err == nil {
			c.log.Debug("node serving", "node", n.id, "addr", n.clientAddr())
			return nil
		}
		if attempt == portAttempts || n.running() || !strings.Contains(err.Error(), "address already in use") {
			return fmt.Errorf("node %s: %w", n.id, err)
		}
		c.log.Info("node port was taken, moving it", "node", n.id, "port", n.clientAddr())
		if err := n.movePort(); err != nil {
			return fmt.Errorf("node %s: %w", n.id, err)
		}
	}
}

// node returns a live node.
// lockedNode looks up id and takes its operation lock, so that no other
// kill, stop, restart, pause, power failure or data-directory access runs
// on the node meanwhile. On success the caller must unlock n.ops.
func (c *processCluster) lockedNode(id string) (*processNode, error) {
	n, err := c.node(id)
	if err != nil {
		return nil, err
	}
	n.ops.Lock()
	return n, nil
}

func (c *processCluster) node(id string) (*processNode, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	n, ok := c.nodes[id]
	if !ok {
		return nil, fmt.Errorf("node %q: %w", id, ErrUnknownNode)
	}
	return n, nil
}

func (c *processCluster) Nodes() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.order...)
}

func (c *processCluster) ClientAddr(id string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n, ok := c.nodes[id]; ok {
		return n.clientAddr()
	}
	return ""
}

func (c *processCluster) PeerAddr(id string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n, ok := c.nodes[id]; ok {
		return n.proxy.Addr()
	}
	return ""
}
