package runtime

import "context"

// Reserver is implemented by a cluster that can fix a node's addresses
// before the node starts. A system that must know a new member before its
// node starts (etcd: system.PreAdder) is told the reserved peer address,
// adds the member, and only then is the node started, with the peers the
// system named. Both runtimes implement it.
type Reserver interface {
	// ReserveNode fixes the addresses of node id, which must not exist,
	// without starting it, and returns the address its peers will dial
	// (what PeerAddr returns once it runs). Until StartReserved or
	// Unreserve, the id may be listed by Nodes but does not serve.
	ReserveNode(ctx context.Context, id string) (peerAddr string, err error)
	// StartReserved starts reserved node id empty, in join mode, with peers
	// (id -> peer address, its own included) as its cluster, and returns
	// once it serves. On failure the node is removed, reservation included.
	StartReserved(ctx context.Context, id string, peers map[string]string) error
	// Unreserve drops a reservation that will not be started.
	Unreserve(ctx context.Context, id string) error
}
