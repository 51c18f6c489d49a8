package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	mobynet "github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"

	"github.com/faultline/faultline/sut/system"
)

type dockerRuntime struct{ opts Options }

// NewDocker returns the docker runtime: one container per node on a
// private network per campaign, partitions by nftables inside the nodes'
// namespaces (cmd/netfault), pauses by the cgroup freezer.
func NewDocker(opts Options) Runtime {
	opts = opts.withDefaults()
	prepareDockerEnv()
	routeTestcontainersLog(opts.Log)
	return &dockerRuntime{opts: opts}
}

func (r *dockerRuntime) Name() string { return NameDocker }

var containerPortKey = mobynet.MustParsePort(strconv.Itoa(containerPort) + "/tcp")

// dockerCluster is a cluster of containers.
type dockerCluster struct {
	opts    Options
	log     *slog.Logger
	spec    Spec
	cli     *client.Client
	image   string
	network *testcontainers.DockerNetwork

	mu          sync.Mutex
	nodes       map[string]*dockerNode
	order       []string
	grudge      Grudge
	removedLogs map[string][]byte // logs of removed nodes, written out by Close
	links       LinkFaults        // SetLinkFaults; pushed to nodes that start later too
	linksPushed bool              // some forwarder may hold a link fault
	closed      bool

	// entry is the image's own entrypoint, run under faultinit when the
	// campaign plays power or link faults (nil otherwise).
	entry []string

	closeOnce sync.Once
	closeErr  error
}

func (r *dockerRuntime) Start(ctx context.Context, spec Spec) (Cluster, error) {
	if err := validateSpec(spec); err != nil {
		return nil, err
	}
	began := time.Now()
	cli, err := newDockerClient()
	if err != nil {
		return nil, err
	}
	image, err := r.ensureImage(ctx, cli, spec.System)
	if err != nil {
		cli.Close()
		return nil, fmt.Errorf("runtime docker: %w", err)
	}
	built := time.Now()
	nw, err := network.New(ctx, network.WithLabels(map[string]string{
		LabelFaultline: "1", LabelCampaign: spec.Campaign, LabelOwner: r.opts.Owner,
	}))
	if err != nil {
		cli.Close()
		return nil, fmt.Errorf("runtime docker: create network: %w", err)
	}
	c := &dockerCluster{
		opts: r.opts, log: r.opts.Log.With("runtime", NameDocker, "campaign", spec.Campaign),
		spec: spec, cli: cli, image: image, network: nw,
		nodes: map[string]*dockerNode{}, removedLogs: map[string][]byte{},
	}
	if c.usesInit() {
		if c.entry, err = imageEntrypoint(ctx, cli, image); err != nil {
			_ = c.Close(context.WithoutCancel(ctx))
			return nil, fmt.Errorf("runtime docker: %w", err)
		}
	}
	peers := map[string]string{}
	for _, id := range spec.Nodes {
		peers[id] = c.peerAddr(id)
	}
	errs := make(chan error, len(spec.Nodes))
	for _, id := range spec.Nodes {
		go func() { errs <- c.createNode(ctx, id, peers, false) }()
	}
	var startErr error
	for range spec.Nodes {
		startErr = errors.Join(startErr, <-errs)
	}
	if startErr != nil {
		_ = c.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("runtime docker: %w", startErr)
	}
	c.log.Info("cluster serving", "nodes", spec.Nodes, "image", image, "network", nw.Name,
		"build", built.Sub(began).Round(time.Millisecond), "start", time.Since(built).Round(time.Millisecond))
	return c, nil
}

// prepareImage builds (or finds) the image for sys.
func (r *dockerRuntime) prepareImage(ctx context.Context, sys system.Node) (string, error) {
	cli, err := newDockerClient()
	if err != nil {
		return "", err
	}
	defer cli.Close()
	return r.ensureImage(ctx, cli, sys)
}

// ensureImage builds the system's and netfault's static linux binaries
// from the source root and makes sure the image holding them exists.
func (r *dockerRuntime) ensureImage(ctx context.Context, cli *client.Client, sys system.Node) (string, error) {
	root := r.opts.SourceRoot
	if root == "" {
		var err error
		if root, err = FindModuleRoot("."); err != nil {
			return "", err
		}
	}
	netfaultBin, err := resolveProgram(ctx, system.Program{Package: netfaultPackage}, root, "linux")
	if err != nil {
		return "", err
	}
	initBin, err := resolveProgram(ctx, system.Program{Package: faultinitPackage}, root, "linux")
	if err != nil {
		return "", err
	}
	if base := programOf(sys).Image; base != "" {
		// The user's image runs the node; ours only adds the helpers on
		// top.
		return ensureImage(ctx, cli, imageRecipe{system: sys.Name(), base: base, netfault: netfaultBin, init: initBin})
	}
	nodeBin, err := resolveProgram(ctx, programOf(sys), root, "linux")
	if err != nil {
		return "", err
	}
	return ensureImage(ctx, cli, imageRecipe{system: sys.Name(), node: nodeBin, netfault: netfaultBin, init: initBin})
}

// peerAddr is how peers reach a node: its network alias, resolved by
// Docker's embedded DNS on the campaign network, and its peer port (the
// link forwarder's port in front of it when the campaign plays link
// faults).
func (c *dockerCluster) peerAddr(id string) string {
	if c.spec.LinkFaults {
		return id + ":" + strconv.Itoa(forwardPort)
	}
	return id + ":" + strconv.Itoa(c.peerPort())
}

// peerPort is the container port peers dial: the system's own peer port,
// else the client port.
func (c *dockerCluster) peerPort() int {
	if p := system.PeerPortOf(c.spec.System); p != 0 {
		return p
	}
	return containerPort
}

// peerListen is the node's peer bind address when it has its own.
func (c *dockerCluster) peerListen() string {
	if p := system.PeerPortOf(c.spec.System); p != 0 {
		return "0.0.0.0:" + strconv.Itoa(p)
	}
	return ""
}

func containerName(campaign, id string) string { return campaign + "-" + id }

// createNode creates and starts a node's container and waits until the
// node serves.
func (c *dockerCluster) createNode(ctx context.Context, id string, peers map[string]string, join bool) error {
	n := &dockerNode{id: id, name: containerName(c.spec.Campaign, id)}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	if _, exists := c.nodes[id]; exists {
		c.mu.Unlock()
		return fmt.Errorf("node %s already exists", id)
	}
	// Registered before it exists, so that Close waits for (ops) and
	// removes a node that is still being created.
	c.nodes[id] = n
	c.order = append(c.order, id)
	c.mu.Unlock()

	n.ops.Lock()
	defer n.ops.Unlock()
	args := c.spec.System.Args(system.NodeArgs{
		ID: id, Listen: "0.0.0.0:" + strconv.Itoa(containerPort), PeerListen: c.peerListen(), Peers: peers,
		Data: "/data", Join: join, Cluster: c.spec.Campaign,
	})
	loopback := netip.MustParseAddr("127.0.0.1")
	req := testcontainers.ContainerRequest{
		Image:        c.image,
		Name:         n.name,
		Cmd:          args,
		ExposedPorts: []string{containerPortKey.String()},
		Labels: map[string]string{
			LabelFaultline: "1", LabelCampaign: c.spec.Campaign, LabelNode: id, LabelOwner: c.opts.Owner,
		},
		Networks:       []string{c.network.Name},
		NetworkAliases: map[string][]string{c.network.Name: {id}},
		Entrypoint:     c.initCommand(),
		HostConfigModifier: func(hc *container.HostConfig) {
			hc.CapAdd = []string{"NET_ADMIN"}
			if c.spec.PowerLoss {
				// Mounting powerfs inside the container.
				hc.CapAdd = append(hc.CapAdd, "SYS_ADMIN")
				hc.Devices = append(hc.Devices, container.DeviceMapping{
					PathOnHost: "/dev/fuse", PathInContainer: "/dev/fuse", CgroupPermissions: "rwm",
				})
			}
			// Published on loopback only: nothing outside the host reaches
			// a node, and the checker never dials anything else.
			hc.PortBindings = mobynet.PortMap{containerPortKey: {{HostIP: loopback}}}
		},
	}
	began := time.Now()
	ctr, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{
		ContainerRequest: req, Started: true, Logger: slogPrintf{log: c.log},
	})
	c.log.Debug("container started", "node", id, "after", time.Since(began).Round(time.Millisecond))
	if dc, ok := ctr.(*testcontainers.DockerContainer); ok && dc != nil {
		n.setContainer(dc)
	}
	if err != nil {
		return fmt.Errorf("node %s: start container: %w", id, err)
	}
	if n.container() == nil {
		return fmt.Errorf("node %s: testcontainers returned %T, not a docker container", id, ctr)
	}
	// A partition set while the container was being created could not be
	// applied to it yet (it was marked stale): apply it before it serves.
	if err := c.refresh(ctx, n); err != nil {
		return err
	}
	apply := c.applyRules
	if c.isGrudgeSource(id) {
		// Other nodes' rules could not name this node before it had an
		// address.
		apply = func(ctx context.Context, _ *dockerNode) error { return c.applyAll(ctx) }
	}
	if err := apply(ctx, n); err != nil {
		return err
	}
	// The new node's address is a source the other nodes' forwarders do
	// not know yet.
	if err := c.pushLinksAll(ctx); err != nil {
		return err
	}
	return c.awaitServing(ctx, n)
}

// awaitServing re-reads the node's published port and IP (both may change
// when a container starts again) and waits until the node serves.
func (c *dockerCluster) awaitServing(ctx context.Context, n *dockerNode) error {
	if err := c.refresh(ctx, n); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.StartTimeout)
	defer cancel()
	var lastCheck time.Time
	alive := func() error {
		// Inspecting is dearer than polling the port: check now and then.
		if time.Since(lastCheck) < 500*time.Millisecond {
			return nil
		}
		lastCheck = time.Now()
		res, err := c.cli.ContainerInspect(ctx, n.name, client.ContainerInspectOptions{})
		if err != nil || res.Container.State == nil || res.Container.State.Running {
			return nil
		}
		return fmt.Errorf("node %s: container exited while starting (%s, code %d); end of its log:\n%s",
			n.id, res.Container.State.Status, res.Container.State.ExitCode, c.logTail(ctx, n))
	}
	if err := waitServing(ctx, n.addr(), c.spec.System.HealthPath(), alive); err != nil {
		return fmt.Errorf("node %s: %w", n.id, err)
	}
	c.log.Debug("node serving", "node", n.id, "addr", n.addr(), "ip", n.netIP())
	return nil
}

// refresh reads the node's published client port and its IP on the
// campaign network.
func (c *dockerCluster) refresh(ctx context.Context, n *dockerNode) error {
	res, err := c.cli.ContainerInspect(ctx, n.name, client.ContainerInspectOptions{})
	if err != nil {
		return fmt.Errorf("node %s: inspect: %w", n.id, err)
	}
	ns := res.Container.NetworkSettings
	if ns == nil {
		return fmt.Errorf("node %s: container has no network settings", n.id)
	}
	var hostPort string
	for _, b := range ns.Ports[containerPortKey] {
		if b.HostIP.IsLoopback() || !b.HostIP.IsValid() {
			hostPort = b.HostPort
			break
		}
	}
	if hostPort == "" {
		return fmt.Errorf("node %s: port %s is not published on 127.0.0.1", n.id, containerPortKey)
	}
	var ip netip.Addr
	if ep := ns.Networks[c.network.Name]; ep != nil {
		ip = ep.IPAddress
	}
	if !ip.IsValid() {
		return fmt.Errorf("node %s: no address on network %s", n.id, c.network.Name)
	}
	n.mu.Lock()
	n.clientAddr = "127.0.0.1:" + hostPort
	n.ip = ip
	n.mu.Unlock()
	return nil
}

func (c *dockerCluster) logTail(ctx context.Context, n *dockerNode) string {
	ctr := n.container()
	if ctr == nil {
		return "(no container)"
	}
	rc, err := ctr.Logs(ctx)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	defer rc.Close()
	return string(lastBytes(rc, 2048))
}

// node returns a live node.
func (c *dockerCluster) node(id string) (*dockerNode, error) {
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

func (c *dockerCluster) Nodes() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.order...)
}

func (c *dockerCluster) ClientAddr(id string) string {
	c.mu.Lock()
	n, ok := c.nodes[id]
	c.mu.Unlock()
	if !ok {
		return ""
	}
	return n.addr()
}

func (c *dockerCluster) PeerAddr(id string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.nodes[id]; !ok {
		return ""
	}
	return c.peerAddr(id)
}
