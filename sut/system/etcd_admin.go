package system

import (
	"context"

	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/faultline/faultline/sut/client"
	"go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// etcdAdmin answers the nemesis through etcd's maintenance API (status) and
// its member API (etcd_members.go). Clock and slow faults are refused: etcd
// has no endpoint for them.
type etcdAdmin struct {
	timeout time.Duration

	mu    sync.Mutex
	addrs map[string]string           // id -> client address
	nodes map[string]*clientv3.Client // id -> a client of that node only
	// peerURLs remembers the peer URL each member was added with: a member
	// that has not started yet has no name in etcd's member list.
	peerURLs map[string]string
}

func newEtcdAdmin(addrs map[string]string, timeout time.Duration) *etcdAdmin {
	return &etcdAdmin{timeout: timeout, addrs: maps.Clone(addrs), nodes: map[string]*clientv3.Client{}, peerURLs: map[string]string{}}
}

func (a *etcdAdmin) SetAddr(id, addr string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.addrs[id] != addr {
		a.dropNode(id)
	}
	a.addrs[id] = addr
}

func (a *etcdAdmin) RemoveAddr(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.dropNode(id)
	delete(a.addrs, id)
}

func (a *etcdAdmin) dropNode(id string) {
	if c := a.nodes[id]; c != nil {
		_ = c.Close()
		delete(a.nodes, id)
	}
}

// node returns a client that talks to node id only.
func (a *etcdAdmin) node(id string) (*clientv3.Client, string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	addr, ok := a.addrs[id]
	if !ok {
		return nil, "", Definite(fmt.Errorf("etcd admin: no address for node %s", id))
	}
	if c := a.nodes[id]; c != nil {
		return c, addr, nil
	}
	c, err := dialEtcd(map[string]string{id: addr})
	if err != nil {
		return nil, "", Definite(err)
	}
	a.nodes[id] = c
	return c, addr, nil
}

// Status is node id's own view: role, term, leader and indexes from the
// maintenance API, the configuration from its member list (serializable:
// what this node knows).
func (a *etcdAdmin) Status(ctx context.Context, id string) (client.Status, error) {
	var st client.Status
	cli, addr, err := a.node(id)
	if err != nil {
		return st, err
	}
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	sr, err := cli.Status(ctx, etcdURL(addr))
	if err != nil {
		return st, classifyEtcd(err)
	}
	ml, err := cli.MemberList(ctx, clientv3.WithSerializable())
	if err != nil {
		return st, classifyEtcd(err)
	}
	names := a.memberNames(ml.Members)
	st.ID = id
	st.Term = sr.RaftTerm
	st.Commit = sr.RaftIndex
	st.Applied = sr.RaftAppliedIndex
	st.LastIndex = sr.RaftIndex
	st.Leader = names[sr.Leader]
	switch {
	case sr.IsLearner:
		st.Role = "learner"
	case sr.Leader != 0 && sr.Leader == sr.Header.MemberId:
		st.Role = "leader"
	case sr.Leader == 0:
		st.Role = "candidate"
	default:
		st.Role = "follower"
	}
	for _, m := range ml.Members {
		if m.IsLearner {
			st.Config.Learners = append(st.Config.Learners, names[m.ID])
		} else {
			st.Config.Voters = append(st.Config.Voters, names[m.ID])
		}
	}
	slices.Sort(st.Config.Voters)
	slices.Sort(st.Config.Learners)
	return st, nil
}

// memberNames names each member by its --name (its hex id before it has
// started).
func (a *etcdAdmin) memberNames(ms []*etcdserverpb.Member) map[uint64]string {
	names := make(map[uint64]string, len(ms))
	for _, m := range ms {
		name := m.Name
		if name == "" {
			name = fmt.Sprintf("%x", m.ID)
		}
		names[m.ID] = name
	}
	return names
}

// SetClock and SetSlow accept only the neutral setting (what a heal asks
// for): an etcd node's clock and speed are never changed, so they are
// already there. Anything else is refused.
func (a *etcdAdmin) SetClock(_ context.Context, _ string, offsetMs int64, rate float64) error {
	if offsetMs == 0 && rate == 1 {
		return nil
	}
	return &MissingError{System: NameEtcd, Capability: ClockSkew, Wanted: "nemesis kind clock"}
}

func (a *etcdAdmin) SetSlow(_ context.Context, _ string, d client.Slow) error {
	if d == (client.Slow{}) {
		return nil
	}
	return &MissingError{System: NameEtcd, Capability: SlowDown, Wanted: "nemesis kind slow"}
}
