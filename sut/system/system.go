package system

import (
	"context"
	"errors"
	"time"

	"github.com/faultline/faultline/sut/client"
)

// System is one system under test: how its nodes are obtained and started
// (the Node part, which the runtimes use), how the workload talks to it, and
// what it can optionally do for the nemesis.
type System interface {
	Node
	// Version names what runs, e.g. "v3.6.16" for etcd or "source" for a
	// build of this module; campaign.json records it.
	Version() string
	// Capabilities lists what the system offers beyond reads and writes.
	Capabilities() Capabilities
	// StaleReadMode is the --read value that asks for its deliberately
	// stale reads ("local" for raftd, "serializable" for etcd), "" when it
	// has none.
	StaleReadMode() string
	// NewClient returns a client of the cluster whose nodes answer at addrs
	// (id -> host:port on 127.0.0.1).
	NewClient(addrs map[string]string, opt ClientOptions) Client
	// NewAdmin returns the client the nemesis and the campaign use for
	// status, membership and fault endpoints. A method whose capability the
	// system lacks returns a *MissingError.
	NewAdmin(addrs map[string]string, timeout time.Duration) Admin
}

// Node is what a runtime needs to start the nodes of a system. The runtime
// fills in everything that depends on where a node runs.
type Node interface {
	// Name is a short name for labels, images and logs, e.g. "raftd".
	Name() string
	// Args returns the command-line arguments (binary excluded) for a node.
	Args(n NodeArgs) []string
	// HealthPath is an HTTP path on the client address that answers 200
	// once a node serves, e.g. "/admin/status".
	HealthPath() string
}

// NodeArgs is what a Node needs to build a node's command line.
type NodeArgs struct {
	ID string
	// Listen is the address the node binds for clients (host:port); for a
	// system without a separate peer port, peers use it too.
	Listen string
	// PeerListen is the address the node binds for its peers when the
	// system has a separate peer port (PeerPort); otherwise it is empty.
	PeerListen string
	Peers      map[string]string // id -> address this node must dial for that peer
	Data       string            // data directory
	Join       bool              // start empty and wait to be added
	// Cluster names the cluster (the campaign), so that a node refuses
	// messages from another cluster that reused its address.
	Cluster string
}

// Program says where a node's binary comes from. Exactly one way applies:
// Image (docker only), else Binary, else a static build of Package, from
// Module when set (a scratch module under the user cache directory), else
// from this module's source.
type Program struct {
	// Package is a Go package path to build: relative to the module root
	// ("./cmd/raftd"), or a full import path when Module is set.
	Package string
	// Module is "path@version" of a published Go module that holds Package;
	// the runtime builds it in a scratch module and caches the binary.
	Module string
	// Binary is a prebuilt binary; when set, nothing is built.
	Binary string
	// Image is a container image that runs the node; the docker runtime
	// adds its partition helper to it. The process runtime refuses it.
	Image string
}

// ProgramSource is implemented by a Node that knows its own binary. A Node
// without it is built from ./cmd/<Name()>.
type ProgramSource interface {
	Program() Program
}

// PeerPorter is implemented by a Node that serves its peers on a port of
// its own (etcd's 2380). The runtime then fills NodeArgs.PeerListen and
// gives peers that address: the docker runtime binds this port inside the
// container, the process runtime picks a free one.
type PeerPorter interface {
	PeerPort() int
}

// PeerPortOf is n's container peer port, or 0 when its peers use the
// client port.
func PeerPortOf(n Node) int {
	if pp, ok := n.(PeerPorter); ok {
		return pp.PeerPort()
	}
	return 0
}

// PeerSource is implemented by a Node that says whether it dials its peers
// from the IP of its listen address. The process runtime tells senders
// apart by that IP, so it can partition only nodes that do; a Node without
// the method is taken to do so (raftd does, and docs/sut-protocol.md asks
// it of http servers).
type PeerSource interface {
	DialsPeersFromListenIP() bool
}

// DialsPeersFromListenIP reports whether n's peer traffic carries its own
// IP as the source.
func DialsPeersFromListenIP(n Node) bool {
	ps, ok := n.(PeerSource)
	return !ok || ps.DialsPeersFromListenIP()
}

// ClientOptions configure a workload client.
type ClientOptions struct {
	Timeout  time.Duration // per request attempt
	ClientID string        // one session per recording process
	// MaxAttempts bounds the definite failures retried on other nodes.
	MaxAttempts int
	// RetryIndefinite is how many times an attempt that ended indefinitely
	// is sent again in the same session (raftd's X-Seq); systems without
	// sessions ignore it.
	RetryIndefinite int
}

// Client performs the workload's operations. A nil error means the
// operation took effect (or, for a read, returned what it says); an error
// for which IsDefinite holds means it certainly did not; any other error
// leaves the outcome unknown. node names the node that answered, if known.
type Client interface {
	// Read returns the key's value; stale asks for the system's
	// deliberately stale read.
	Read(ctx context.Context, key string, stale bool) (value any, found bool, node string, err error)
	Write(ctx context.Context, key string, value any) (node string, err error)
	// Cas writes value if the key holds expect; swapped false with a nil
	// error is a definite mismatch.
	Cas(ctx context.Context, key string, expect, value any) (swapped bool, node string, err error)
	// Append adds value to the end of the key's list.
	Append(ctx context.Context, key string, value any) (node string, err error)
	// SetAddr, RemoveAddr and Prefer keep the client in step with the
	// cluster's nodes; Prefer names the node to try first.
	SetAddr(id, addr string)
	RemoveAddr(id string)
	Prefer(id string)
	Close()
}

// Admin is what the nemesis and the campaign ask of a system besides the
// workload. Status is a node's own view; the membership calls go to the
// cluster. A method whose capability the system lacks returns a
// *MissingError naming it.
type Admin interface {
	Status(ctx context.Context, id string) (client.Status, error)
	AddMember(ctx context.Context, id, peerAddr string) error
	RemoveMember(ctx context.Context, id string) error
	ReplaceMember(ctx context.Context, add, peerAddr, remove string) error
	SetClock(ctx context.Context, id string, offsetMs int64, rate float64) error
	SetSlow(ctx context.Context, id string, d client.Slow) error
	SetAddr(id, addr string)
	RemoveAddr(id string)
}

// PreAdder is implemented by the Admin of a system that must know a new
// member before its node starts (etcd: a joining node is started with
// --initial-cluster-state existing and the cluster's whole member list, and
// refuses to start otherwise). The nemesis then adds in this order: the
// runtime reserves the node's addresses, PreAdd makes it a non-voting
// member, the node starts with the returned peers, and AddMember promotes
// it. A system without it is started first and added after (raftd's
// --join order).
type PreAdder interface {
	// PreAdd makes id, reachable by its peers at peerAddr, a member that
	// does not vote yet, and returns every member's peer address, id's
	// included: the peers the node must be started with.
	PreAdd(ctx context.Context, id, peerAddr string) (peers map[string]string, err error)
}

// DefiniteError marks a failure after which the operation certainly did not
// take effect (refused before it was sent, or rejected by the system).
type DefiniteError struct{ Err error }

func (e *DefiniteError) Error() string { return e.Err.Error() }
func (e *DefiniteError) Unwrap() error { return e.Err }

// Definite marks err as definite; nil stays nil.
func Definite(err error) error {
	if err == nil {
		return nil
	}
	return &DefiniteError{Err: err}
}

// IsDefinite reports whether err certainly left the system unchanged.
func IsDefinite(err error) bool {
	var d *DefiniteError
	return errors.As(err, &d)
}
