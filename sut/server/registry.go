package server

import (
	"net/http"
	"sync"

	"github.com/faultline/faultline/sut/kv"
	"github.com/faultline/faultline/sut/raft"
)

// outcome answers one pending client request: either a state-machine result
// (status 0) or an HTTP error status with its message.
type outcome struct {
	result kv.Result
	status int
	msg    string
}

func failure(status int, msg string) outcome { return outcome{status: status, msg: msg} }

// The answers a request can get besides a result. Definite failures mean the
// request certainly had no effect; indefinite ones that it may take effect.
var (
	outcomeOverwritten = failure(http.StatusServiceUnavailable, "proposal overwritten by a new leader: not applied")
	outcomeLeaderLost  = failure(http.StatusGatewayTimeout, "leadership lost: outcome unknown")
	outcomeSnapshot    = failure(http.StatusGatewayTimeout, "log replaced by a snapshot: outcome unknown")
	outcomeReadDropped = failure(http.StatusServiceUnavailable, "read dropped: not leader")
	outcomeTimeout     = failure(http.StatusGatewayTimeout, "timeout: outcome unknown")
	outcomeNotLeader   = failure(http.StatusTemporaryRedirect, "not leader")
	outcomeBusy        = failure(http.StatusServiceUnavailable, "server busy: request not proposed")
	outcomeStopping    = failure(http.StatusServiceUnavailable, "server stopping")
	// A proposal handed to the core may already be replicated.
	outcomeStoppingUnknown = failure(http.StatusGatewayTimeout, "server stopping: outcome unknown")
)

type proposalWaiter struct {
	index, term uint64
	cmd         kv.Command // kept for the speculative answer of ack-before-commit
	ch          chan outcome
}

type readWaiter struct {
	ctx   uint64
	index uint64 // known once the core released the read
	ch    chan outcome
}

// memberWaiter waits for a committed configuration satisfying done.
type memberWaiter struct {
	done func(raft.Membership) bool
	ch   chan outcome
}

// registry holds every client request waiting on the drive loop or the
// applier. Each waiter is answered exactly once: answering removes it under
// the lock, and channels have room for the one answer.
type registry struct {
	mu        sync.Mutex
	proposals map[uint64]*proposalWaiter // by log index
	reads     map[uint64]*readWaiter     // by read context, until the core releases them
	waiting   []*readWaiter              // released, waiting for applied >= index
	members   []*memberWaiter
	applied   uint64
	stopped   bool
}

func newRegistry(applied uint64) *registry {
	return &registry{proposals: map[uint64]*proposalWaiter{}, reads: map[uint64]*readWaiter{}, applied: applied}
}

func answer(ch chan outcome, o outcome) { ch <- o }

// addProposal registers a proposal the core accepted at (index, term). A
// waiter left at the same index by a deposed term is overwritten by it.
func (r *registry) addProposal(w *proposalWaiter) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		answer(w.ch, outcomeStoppingUnknown)
		return
	}
	if old, ok := r.proposals[w.index]; ok {
		answer(old.ch, outcomeOverwritten)
	}
	r.proposals[w.index] = w
}

// cancelProposal forgets w (its requester gave up).
func (r *registry) cancelProposal(w *proposalWaiter) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.proposals[w.index] == w {
		delete(r.proposals, w.index)
	}
}

// takeProposal removes and returns the waiter at index, if any.
func (r *registry) takeProposal(index uint64) *proposalWaiter {
	r.mu.Lock()
	defer r.mu.Unlock()
	w, ok := r.proposals[index]
	if ok {
		delete(r.proposals, index)
	}
	return w
}

// entryAt is called for every entry stored or applied: a waiter at that
// index whose term differs was overwritten and can never commit.
func (r *registry) entryAt(index, term uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if w, ok := r.proposals[index]; ok && w.term != term {
		delete(r.proposals, index)
		answer(w.ch, outcomeOverwritten)
	}
}

// applied answers the proposal at (index, term) with res.
func (r *registry) proposalApplied(index, term uint64, res kv.Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w, ok := r.proposals[index]
	if !ok {
		return
	}
	delete(r.proposals, index)
	if w.term != term {
		answer(w.ch, outcomeOverwritten)
		return
	}
	answer(w.ch, outcome{result: res})
}

// failProposals answers every pending proposal with o, or only those at or
// below upTo when upTo > 0.
func (r *registry) failProposals(o outcome, upTo uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, w := range r.proposals {
		if upTo == 0 || i <= upTo {
			delete(r.proposals, i)
			answer(w.ch, o)
		}
	}
}

func (r *registry) addRead(w *readWaiter) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		answer(w.ch, outcomeStopping)
		return false
	}
	r.reads[w.ctx] = w
	return true
}

func (r *registry) cancelRead(w *readWaiter) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reads[w.ctx] == w {
		delete(r.reads, w.ctx)
	}
	for i, x := range r.waiting {
		if x == w {
			r.waiting = append(r.waiting[:i], r.waiting[i+1:]...)
			break
		}
	}
}

// readReleased records the core's ReadState: the read may be answered once
// applied >= index. With wait false it is answered at once (the planted
// follower-read-no-wait bug).
func (r *registry) readReleased(ctx, index uint64, wait bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w, ok := r.reads[ctx]
	if !ok {
		return
	}
	delete(r.reads, ctx)
	w.index = index
	if !wait || r.applied >= index {
		answer(w.ch, outcome{})
		return
	}
	r.waiting = append(r.waiting, w)
}

func (r *registry) readDropped(ctx uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if w, ok := r.reads[ctx]; ok {
		delete(r.reads, ctx)
		answer(w.ch, outcomeReadDropped)
	}
}

// setApplied advances the applied index and releases the reads it covers.
func (r *registry) setApplied(index uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if index > r.applied {
		r.applied = index
	}
	kept := r.waiting[:0]
	for _, w := range r.waiting {
		if w.index <= r.applied {
			answer(w.ch, outcome{})
		} else {
			kept = append(kept, w)
		}
	}
	clear(r.waiting[len(kept):])
	r.waiting = kept
}

func (r *registry) appliedIndex() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.applied
}

func (r *registry) addMember(w *memberWaiter) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		answer(w.ch, outcomeStoppingUnknown)
		return
	}
	r.members = append(r.members, w)
}

func (r *registry) cancelMember(w *memberWaiter) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, x := range r.members {
		if x == w {
			r.members = append(r.members[:i], r.members[i+1:]...)
			return
		}
	}
}

// configCommitted answers the membership waiters that m satisfies.
func (r *registry) configCommitted(m raft.Membership) {
	r.mu.Lock()
	defer r.mu.Unlock()
	kept := r.members[:0]
	for _, w := range r.members {
		if w.done(m) {
			answer(w.ch, outcome{})
		} else {
			kept = append(kept, w)
		}
	}
	clear(r.members[len(kept):])
	r.members = kept
}

// stop answers everything still pending and refuses new waiters.
func (r *registry) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopped = true
	for i, w := range r.proposals {
		delete(r.proposals, i)
		answer(w.ch, outcomeStoppingUnknown)
	}
	for c, w := range r.reads {
		delete(r.reads, c)
		answer(w.ch, outcomeStopping)
	}
	for _, w := range r.waiting {
		answer(w.ch, outcomeStopping)
	}
	r.waiting = nil
	for _, w := range r.members {
		answer(w.ch, outcomeStoppingUnknown)
	}
	r.members = nil
}
