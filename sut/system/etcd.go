package system

import (
	"maps"
	"net"
	"slices"
	"strings"
	"time"
)

// NameEtcd is etcd's system name.
const NameEtcd = "etcd"

// EtcdVersion is the etcd release Faultline builds when the user gives no
// binary or image: a current patch release of v3.6.
const EtcdVersion = "v3.6.16"

// etcdModule is the Go module etcd's server command is built from.
const etcdModule = "go.etcd.io/etcd/server/v3"

// etcdPeerPort is where an etcd node serves its peers inside a container.
const etcdPeerPort = 2380

// EtcdOptions choose where the etcd binary comes from.
type EtcdOptions struct {
	Binary string // a prebuilt etcd (static for the docker runtime)
	Image  string // an image whose entrypoint is etcd (docker runtime)
}

// Etcd is a real etcd cluster as a System: built from etcd's own Go module
// (EtcdVersion) unless a binary or image is given, driven through etcd's
// own Go client. It reports status through etcd's maintenance API and
// changes membership through its member API (one member per change, so no
// member-replace; a new member is added before its node starts, see
// PreAdder); it has no endpoint to skew its clock or slow itself down. Its
// stale read is a serializable read.
func Etcd(opts EtcdOptions) System { return etcdSystem{opts: opts} }

type etcdSystem struct{ opts EtcdOptions }

func (etcdSystem) Name() string { return NameEtcd }

// HealthPath: etcd serves its client port only once it has joined the
// cluster and published itself, so /version answering means "ready".
func (etcdSystem) HealthPath() string { return "/version" }

func (etcdSystem) PeerPort() int { return etcdPeerPort }

// DialsPeersFromListenIP is false: etcd dials its peers from whatever
// source address the kernel picks (127.0.0.1 on the loopback).
func (etcdSystem) DialsPeersFromListenIP() bool { return false }

func (s etcdSystem) Version() string {
	switch {
	case s.opts.Image != "":
		return "image " + s.opts.Image
	case s.opts.Binary != "":
		return "binary"
	}
	return EtcdVersion
}

func (etcdSystem) Capabilities() Capabilities {
	return Capabilities{Status, Membership, StaleRead}
}

func (etcdSystem) StaleReadMode() string { return "serializable" }

func (s etcdSystem) Program() Program {
	return Program{Package: etcdModule, Module: etcdModule + "@" + EtcdVersion, Binary: s.opts.Binary, Image: s.opts.Image}
}

// Args builds etcd's command line. A joining node lists every current member
// and itself, with --initial-cluster-state existing: etcd checks the list
// against the cluster it joins.
func (etcdSystem) Args(n NodeArgs) []string {
	state := "new"
	if n.Join {
		state = "existing"
	}
	return []string{
		"--name", n.ID,
		"--data-dir", n.Data,
		"--listen-client-urls", "http://" + n.Listen,
		"--advertise-client-urls", "http://" + etcdAdvertise(n),
		"--listen-peer-urls", "http://" + n.PeerListen,
		"--initial-advertise-peer-urls", "http://" + n.Peers[n.ID],
		"--initial-cluster", etcdInitialCluster(n.Peers),
		"--initial-cluster-state", state,
		"--initial-cluster-token", n.Cluster,
		// Faults last seconds; the defaults (100 ms heartbeat, 1 s
		// election) are what users run.
		"--log-level", "warn",
	}
}

// etcdAdvertise is the client address a node announces: its listen address,
// or, when that is a wildcard (inside a container), its peer host name with
// the client port. Faultline's clients dial published ports and never read
// it; etcd only requires it to be a real address.
func etcdAdvertise(n NodeArgs) string {
	host, port, err := net.SplitHostPort(n.Listen)
	if err != nil || (host != "0.0.0.0" && host != "::" && host != "") {
		return n.Listen
	}
	peerHost, _, err := net.SplitHostPort(n.Peers[n.ID])
	if err != nil {
		return n.Listen
	}
	return net.JoinHostPort(peerHost, port)
}

func etcdInitialCluster(peers map[string]string) string {
	parts := make([]string, 0, len(peers))
	for _, id := range slices.Sorted(maps.Keys(peers)) {
		parts = append(parts, id+"=http://"+peers[id])
	}
	return strings.Join(parts, ",")
}

func (etcdSystem) NewClient(addrs map[string]string, opt ClientOptions) Client {
	return newEtcdClient(addrs, opt)
}

func (etcdSystem) NewAdmin(addrs map[string]string, timeout time.Duration) Admin {
	return newEtcdAdmin(addrs, timeout)
}

func etcdURL(addr string) string { return "http://" + addr }
