package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/faultline/faultline/sut/kv"
	"github.com/faultline/faultline/sut/raft"
)

// propose submits cmd through the log and waits until it is committed and
// applied (or a definite or indefinite failure is known).
func (s *Server) propose(ctx context.Context, cmd kv.Command) (kv.Result, *outcome) {
	data, err := kv.EncodeCommand(cmd)
	if err != nil {
		o := failure(http.StatusBadRequest, err.Error())
		return kv.Result{}, &o
	}
	w := &proposalWaiter{cmd: cmd, ch: make(chan outcome, 1)}
	var proposeErr error
	ran := s.run(ctx.Done(), func() {
		index, term, err := s.rn.Propose(data)
		if err != nil {
			proposeErr = err
			return
		}
		w.index, w.term = index, term
		s.reg.addProposal(w)
	})
	if !ran {
		// Never reached the core: nothing was proposed.
		return kv.Result{}, &outcomeBusy
	}
	if proposeErr != nil {
		if errors.Is(proposeErr, raft.ErrNotLeader) {
			return kv.Result{}, &outcomeNotLeader
		}
		o := failure(http.StatusServiceUnavailable, "proposal refused: "+proposeErr.Error())
		return kv.Result{}, &o
	}
	select {
	case o := <-w.ch:
		if o.status != 0 {
			return kv.Result{}, &o
		}
		return o.result, nil
	case <-ctx.Done():
		s.reg.cancelProposal(w)
		return kv.Result{}, &outcomeTimeout
	}
}

// changeMembership proposes a joint-consensus change and waits until the
// final configuration C(new) is committed.
func (s *Server) changeMembership(ctx context.Context, change raft.MembershipChange) *outcome {
	w := &memberWaiter{done: changeDone(change), ch: make(chan outcome, 1)}
	var proposeErr error
	ran := s.run(ctx.Done(), func() {
		if proposeErr = s.rn.ProposeMembership(change); proposeErr == nil {
			s.reg.addMember(w)
			s.log.Info("membership change proposed", "add", change.Add, "addr", change.Addr, "remove", change.Remove)
		}
	})
	if !ran {
		return &outcomeBusy
	}
	switch {
	case proposeErr == nil:
	case errors.Is(proposeErr, raft.ErrNotLeader):
		return &outcomeNotLeader
	case errors.Is(proposeErr, raft.ErrChangeInProgress):
		o := failure(http.StatusConflict, "a membership change is in progress: "+proposeErr.Error())
		return &o
	default:
		o := failure(http.StatusBadRequest, fmt.Sprintf("membership change refused: %v", proposeErr))
		return &o
	}
	select {
	case o := <-w.ch:
		if o.status != 0 {
			return &o
		}
		return nil
	case <-ctx.Done():
		s.reg.cancelMember(w)
		return &outcomeTimeout
	}
}

// changeDone says when a committed configuration completes change: the
// configuration is no longer joint, the added server is a voter and the
// removed one is gone (both, for a replacement).
func changeDone(c raft.MembershipChange) func(raft.Membership) bool {
	return func(m raft.Membership) bool {
		if m.Joint() {
			return false
		}
		if c.Add != "" && (!slices.Contains(m.Voters, c.Add) || slices.Contains(m.Learners, c.Add)) {
			return false
		}
		return c.Remove == "" || !slices.Contains(m.Voters, c.Remove) && !slices.Contains(m.Learners, c.Remove)
	}
}
