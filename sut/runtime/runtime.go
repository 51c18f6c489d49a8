// Package runtime owns where the nodes of a system under test run and the
// faults that act on processes and the network: the docker runtime
// (testcontainers-go and the Docker API, one private network per campaign,
// nftables rules inside the nodes' namespaces, the cgroup freezer) and the
// process runtime (local processes, each on its own 127.0.0.x, behind a TCP
// proxy per node that cuts directed peer links by source address,
// SIGSTOP/SIGCONT). It knows how to start, stop and cut off nodes; it never
// looks inside them (it only asks a system's health path whether a node
// serves; sut/system says how a node is started), and it does not decide which faults happen when: that is the
// nemesis. cmd/netfault and cmd/faultinit are its helpers inside docker
// nodes (partitions; powerfs and the link forwarder).
package runtime

import (
	"context"
	"io"

	"github.com/faultline/faultline/sut/system"
)

// Spec is the cluster a campaign asks for.
type Spec struct {
	Campaign string   // campaign name, used in labels and network names
	Nodes    []string // initial voters, e.g. n1..n5
	System   system.Node
	// LogDir receives nodes/<id>.log when the cluster closes (may be empty).
	LogDir string
	// PowerLoss puts each node's data directory on a powerfs mount, so
	// that the cluster is a PowerFailer (needs /dev/fuse; the process
	// runtime needs root, the docker runtime gives the containers
	// /dev/fuse and SYS_ADMIN).
	PowerLoss bool
	// LinkFaults makes the cluster a LinkFaulter. The process runtime
	// always is (its proxy carries every peer link); the docker runtime
	// then puts a link forwarder in front of each node (cmd/faultinit).
	LinkFaults bool
}

// Grudge says, for each node, the nodes whose traffic it drops: grudge[dst]
// lists sources. A symmetric partition lists both directions; a one-way
// partition only one. Only peer traffic is dropped: clients still reach every
// node.
type Grudge map[string][]string

// Runtime starts clusters.
type Runtime interface {
	// Name is "docker" or "process".
	Name() string
	Start(ctx context.Context, spec Spec) (Cluster, error)
}

// Cluster is a running set of nodes and the faults that act on them. Every
// method is safe for concurrent use. Close heals every fault and removes
// every node, whatever state the cluster is in, and must be called on every
// exit path.
type Cluster interface {
	// Nodes lists every node the cluster has started and not removed.
	Nodes() []string
	// ClientAddr is the host:port, on 127.0.0.1, where the checker reaches node id.
	ClientAddr(id string) string
	// PeerAddr is the address other nodes use for id (what goes into
	// POST /admin/members {"add": "id=PeerAddr"}).
	PeerAddr(id string) string

	Kill(ctx context.Context, id string) error    // SIGKILL, data kept
	Restart(ctx context.Context, id string) error // start a killed or stopped node from its data
	Stop(ctx context.Context, id string) error    // SIGTERM, data kept
	Pause(ctx context.Context, id string) error   // freeze every process of the node
	Resume(ctx context.Context, id string) error

	// Partition replaces the current grudge with g.
	Partition(ctx context.Context, g Grudge) error
	// Heal removes every partition rule.
	Heal(ctx context.Context) error

	// AddNode starts a fresh node with an empty data directory in join mode
	// (wiping any previous data of that id) and returns when it serves.
	AddNode(ctx context.Context, id string) error
	// RemoveNode stops and deletes a node and its data.
	RemoveNode(ctx context.Context, id string) error

	// Logs streams a node's log so far.
	Logs(ctx context.Context, id string) (io.ReadCloser, error)

	// Close heals all faults (partitions, pauses), collects logs into
	// Spec.LogDir and removes every node and network. It is idempotent.
	Close(ctx context.Context) error
}
