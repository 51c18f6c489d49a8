package system

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// etcdMemberTimeout is the least time one member API request gets: a
// change is a Raft round trip through a cluster that may just have healed,
// longer than a workload request's timeout.
const etcdMemberTimeout = 5 * time.Second

// etcdPromoteWait bounds how long a change is tried again while etcd says
// the cluster is not ready for it (untilSettled); etcdPromotePoll is how
// often it asks.
const (
	etcdPromoteWait = 30 * time.Second
	etcdPromotePoll = 250 * time.Millisecond
)

var _ PreAdder = (*etcdAdmin)(nil)

// onAnyMember runs one member API call through each node in turn (skip
// excluded: a node being added is a learner, which cannot answer), each
// under its own timeout, until one answers. A node that is down, cut off
// or without a leader fails with a transport or availability error, and
// the next is asked; an answer of etcd's (a failed precondition: the
// member exists, is not ready, ...) ends the round. A call the first node
// may have applied before its timeout can so be applied twice: each
// caller takes etcd's "already done" answer as success.
func (a *etcdAdmin) onAnyMember(ctx context.Context, skip string, call func(ctx context.Context, cli *clientv3.Client) error) error {
	a.mu.Lock()
	ids := slices.Sorted(maps.Keys(a.addrs))
	a.mu.Unlock()
	lastErr := errors.New("etcd admin: no node to ask")
	for _, id := range ids {
		if id == skip {
			continue
		}
		cli, _, err := a.node(id)
		if err != nil {
			lastErr = err
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, max(a.timeout, etcdMemberTimeout))
		err = call(cctx, cli)
		cancel()
		if err == nil {
			return nil
		}
		lastErr = fmt.Errorf("via %s: %w", id, err)
		if ctx.Err() != nil || status.Code(err) == codes.FailedPrecondition {
			return lastErr
		}
	}
	return lastErr
}

// members is the cluster's member list, read linearizably from the first
// node that answers.
func (a *etcdAdmin) members(ctx context.Context, skip string) ([]*etcdserverpb.Member, error) {
	var ms []*etcdserverpb.Member
	err := a.onAnyMember(ctx, skip, func(ctx context.Context, cli *clientv3.Client) error {
		ml, err := cli.MemberList(ctx)
		if err != nil {
			return err
		}
		ms = ml.Members
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("etcd member list: %w", classifyEtcd(err))
	}
	return ms, nil
}

// find returns the member named id, or the unnamed (not yet started) member
// id was added with, or nil.
func (a *etcdAdmin) find(ms []*etcdserverpb.Member, id string) *etcdserverpb.Member {
	a.mu.Lock()
	url := a.peerURLs[id]
	a.mu.Unlock()
	for _, m := range ms {
		if m.Name == id || (m.Name == "" && url != "" && hasURL(m, url)) {
			return m
		}
	}
	return nil
}

func hasURL(m *etcdserverpb.Member, url string) bool {
	for _, u := range m.PeerURLs {
		if u == url {
			return true
		}
	}
	return false
}

// PreAdd adds id as a learner (idempotent: a member of that name or URL is
// left as it is) and returns the member list as id -> peer address. A
// learner that never started (no name) and is not id is removed first: it
// is left over from an addition whose node failed to start, and etcd holds
// one learner at a time.
func (a *etcdAdmin) PreAdd(ctx context.Context, id, peerAddr string) (map[string]string, error) {
	url := etcdURL(peerAddr)
	a.mu.Lock()
	a.peerURLs[id] = url
	a.mu.Unlock()
	ms, err := a.members(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if m.IsLearner && m.Name == "" && !hasURL(m, url) {
			if err := a.removeID(ctx, id, m.ID); err != nil {
				return nil, fmt.Errorf("etcd: remove learner %x left by an earlier addition: %w", m.ID, err)
			}
		}
	}
	if a.find(ms, id) == nil {
		err := untilSettled(ctx, func() error {
			return a.onAnyMember(ctx, id, func(ctx context.Context, cli *clientv3.Client) error {
				_, err := cli.MemberAddAsLearner(ctx, []string{url})
				if rpctypes.Error(err) == rpctypes.ErrPeerURLExist {
					return nil // added by an attempt that timed out
				}
				return err
			})
		})
		if err != nil {
			return nil, fmt.Errorf("etcd member add %s as learner: %w", id, classifyEtcd(err))
		}
	}
	if ms, err = a.members(ctx, id); err != nil {
		return nil, err
	}
	return peerAddrs(ms, id, url)
}

// peerAddrs names each member's peer address (scheme stripped); the one
// unnamed member is id, the node about to start.
func peerAddrs(ms []*etcdserverpb.Member, id, url string) (map[string]string, error) {
	peers := make(map[string]string, len(ms))
	for _, m := range ms {
		name := m.Name
		if hasURL(m, url) {
			name = id
		}
		if name == "" || len(m.PeerURLs) == 0 {
			return nil, fmt.Errorf("etcd member %x has no name or no peer URL: cannot list it to a joining node", m.ID)
		}
		peers[name] = strings.TrimPrefix(m.PeerURLs[0], "http://")
	}
	return peers, nil
}

// AddMember makes id a voter: it adds id as a learner if it is not a member
// yet, then promotes it once etcd says it has caught up with the leader.
// The node must be running (etcd's order: PreAdd, start, AddMember).
func (a *etcdAdmin) AddMember(ctx context.Context, id, peerAddr string) error {
	if _, err := a.PreAdd(ctx, id, peerAddr); err != nil {
		return err
	}
	return untilSettled(ctx, func() error { return a.promote(ctx, id) })
}

// untilSettled calls change until it is done, for as long as etcd answers
// that the cluster is not ready for it yet (a learner that has not caught
// up, or too few members connected for long enough: etcd's guard against
// a change that would cost it its quorum), at most etcdPromoteWait.
func untilSettled(ctx context.Context, change func() error) error {
	deadline := time.Now().Add(etcdPromoteWait)
	for {
		err := change()
		if err == nil || !notReady(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		case <-time.After(etcdPromotePoll):
		}
	}
}

// notReady reports whether etcd refused a change only for now.
func notReady(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, rpctypes.ErrMemberLearnerNotReady.Error()) || strings.Contains(msg, rpctypes.ErrUnhealthy.Error())
}

// promote promotes id if it is a learner; a voter is left alone.
func (a *etcdAdmin) promote(ctx context.Context, id string) error {
	ms, err := a.members(ctx, id)
	if err != nil {
		return err
	}
	m := a.find(ms, id)
	switch {
	case m == nil:
		return fmt.Errorf("etcd promote %s: not a member", id)
	case !m.IsLearner:
		return nil
	}
	err = a.onAnyMember(ctx, id, func(ctx context.Context, cli *clientv3.Client) error {
		_, err := cli.MemberPromote(ctx, m.ID)
		if rpctypes.Error(err) == rpctypes.ErrMemberNotLearner {
			return nil // promoted by an attempt that timed out
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("etcd promote %s: %w", id, classifyEtcd(err))
	}
	return nil
}

// RemoveMember takes id out of the cluster; an id that is no member is
// already out.
func (a *etcdAdmin) RemoveMember(ctx context.Context, id string) error {
	ms, err := a.members(ctx, "")
	if err != nil {
		return err
	}
	m := a.find(ms, id)
	if m == nil {
		return nil
	}
	if err := untilSettled(ctx, func() error { return a.removeID(ctx, "", m.ID) }); err != nil {
		return fmt.Errorf("etcd member remove %s: %w", id, err)
	}
	return nil
}

func (a *etcdAdmin) removeID(ctx context.Context, skip string, memberID uint64) error {
	err := a.onAnyMember(ctx, skip, func(ctx context.Context, cli *clientv3.Client) error {
		_, err := cli.MemberRemove(ctx, memberID)
		if rpctypes.Error(err) == rpctypes.ErrMemberNotFound {
			return nil // removed already
		}
		return err
	})
	return classifyEtcd(err)
}

// ReplaceMember is refused: etcd changes one member per request, so it
// lacks member-replace (the planner offers no swap on etcd).
func (a *etcdAdmin) ReplaceMember(context.Context, string, string, string) error {
	return &MissingError{System: NameEtcd, Capability: MemberReplace, Wanted: "membership swap"}
}
