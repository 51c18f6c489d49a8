package system

import (
	"context"

	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/faultline/faultline/sut/client"
	"go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Promotion of a learner: etcd refuses it until the learner has caught up,
// so the admin keeps asking, for at most etcdPromoteWindow.
const (
	etcdPromoteWindow   = 2 * time.Minute
	etcdPromoteInterval = 500 * time.Millisecond
)

// etcdAdmin answers the nemesis through etcd's maintenance API (status) and
// member API (learner add, promote, remove). Clock and slow faults are
// refused: etcd has no endpoint for them.
type etcdAdmin struct {
	timeout time.Duration

	mu    sync.Mutex
	addrs map[string]string           // id -> client address
	nodes map[string]*clientv3.Client // id -> a client of that node only
	peers map[string]string           // peer URL -> id, for members added but not started
}

func newEtcdAdmin(addrs map[string]string, timeout time.Duration) *etcdAdmin {
	return &etcdAdmin{timeout: timeout, addrs: maps.Clone(addrs), nodes: map[string]*clientv3.Client{}, peers: map[string]string{}}
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

// memberNames names each member: its --name once it has started, else the
// id it was added under.
func (a *etcdAdmin) memberNames(ms []*etcdserverpb.Member) map[uint64]string {
	a.mu.Lock()
	defer a.mu.Unlock()
	names := make(map[uint64]string, len(ms))
	for _, m := range ms {
		name := m.Name
		for _, u := range m.PeerURLs {
			if id, ok := a.peers[u]; ok && name == "" {
				name = id
			}
		}
		if name == "" {
			name = fmt.Sprintf("%x", m.ID)
		}
		names[m.ID] = name
	}
	return names
}

// cluster returns a client of every known node, for member calls, which
// any member with a leader serves. The caller closes it.
func (a *etcdAdmin) cluster() (*clientv3.Client, error) {
	a.mu.Lock()
	addrs := maps.Clone(a.addrs)
	a.mu.Unlock()
	cli, err := dialEtcd(addrs)
	if err != nil {
		return nil, Definite(err)
	}
	return cli, nil
}

// members lists the members, linearizably, under the caller's context.
func (a *etcdAdmin) members(ctx context.Context, cli *clientv3.Client) ([]*etcdserverpb.Member, map[uint64]string, error) {
	ml, err := cli.MemberList(clientv3.WithRequireLeader(ctx))
	if err != nil {
		return nil, nil, classifyEtcd(err)
	}
	return ml.Members, a.memberNames(ml.Members), nil
}

// AddMember adds id as a learner at peerAddr and promotes it in the
// background once it has caught up (etcd refuses earlier). Calling it for a
// member that exists already only restarts the promotion: a half-finished
// add is finished, not repeated.
func (a *etcdAdmin) AddMember(ctx context.Context, id, peerAddr string) error {
	peerURL := etcdURL(peerAddr)
	a.mu.Lock()
	a.peers[peerURL] = id
	a.mu.Unlock()
	cli, err := a.cluster()
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*a.timeout)
	defer cancel()
	ms, names, err := a.members(ctx, cli)
	if err != nil {
		return fmt.Errorf("etcd admin: add %s: %w", id, err)
	}
	var memberID uint64
	for _, m := range ms {
		if names[m.ID] == id || slices.Contains(m.PeerURLs, peerURL) {
			if !m.IsLearner {
				return nil
			}
			memberID = m.ID
		}
	}
	if memberID == 0 {
		resp, err := cli.MemberAddAsLearner(clientv3.WithRequireLeader(ctx), []string{peerURL})
		if err != nil {
			return fmt.Errorf("etcd admin: add %s as a learner: %w", id, classifyEtcd(err))
		}
		memberID = resp.Member.ID
	}
	go a.promote(id, memberID)
	return nil
}

// promote asks for the learner's promotion until etcd accepts it, the
// member is gone, or etcdPromoteWindow has passed.
func (a *etcdAdmin) promote(id string, memberID uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), etcdPromoteWindow)
	defer cancel()
	for ctx.Err() == nil {
		if done := a.tryPromote(ctx, memberID); done {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(etcdPromoteInterval):
		}
	}
}

func (a *etcdAdmin) tryPromote(ctx context.Context, memberID uint64) bool {
	cli, err := a.cluster()
	if err != nil {
		return false
	}
	defer cli.Close()
	actx, cancel := context.WithTimeout(ctx, 2*a.timeout)
	defer cancel()
	_, err = cli.MemberPromote(clientv3.WithRequireLeader(actx), memberID)
	if err == nil {
		return true
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "in sync with leader"):
		return false // not caught up yet
	case strings.Contains(msg, "member not found"), strings.Contains(msg, "can only promote a learner member"):
		// Removed meanwhile, or promoted by an earlier attempt whose
		// answer was lost.
		return true
	}
	return false
}

// RemoveMember removes id from the configuration; a node that is no member
// (any more) is not an error.
func (a *etcdAdmin) RemoveMember(ctx context.Context, id string) error {
	cli, err := a.cluster()
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*a.timeout)
	defer cancel()
	ms, names, err := a.members(ctx, cli)
	if err != nil {
		return fmt.Errorf("etcd admin: remove %s: %w", id, err)
	}
	for _, m := range ms {
		if names[m.ID] != id {
			continue
		}
		if _, err := cli.MemberRemove(clientv3.WithRequireLeader(ctx), m.ID); err != nil && !strings.Contains(err.Error(), "member not found") {
			return fmt.Errorf("etcd admin: remove %s: %w", id, classifyEtcd(err))
		}
	}
	return nil
}

func (a *etcdAdmin) ReplaceMember(context.Context, string, string, string) error {
	return &MissingError{System: NameEtcd, Capability: MemberReplace, Wanted: "membership swap", Available: []string{"membership add, remove, replace, rejoin"}}
}

func (a *etcdAdmin) SetClock(context.Context, string, int64, float64) error {
	return &MissingError{System: NameEtcd, Capability: ClockSkew, Wanted: "nemesis kind clock"}
}

func (a *etcdAdmin) SetSlow(context.Context, string, client.Slow) error {
	return &MissingError{System: NameEtcd, Capability: SlowDown, Wanted: "nemesis kind slow"}
}
