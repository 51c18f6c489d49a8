package raft

// progressState is how the leader currently replicates to one follower.
type progressState uint8

const (
	// probing: one append at a time until the follower's log position is found.
	stateProbe progressState = iota
	// replicating: appends are pipelined optimistically, up to the inflight window.
	stateReplicate
	// sending a snapshot in chunks; appends wait until it is installed.
	stateSnapshot
)

// progress is the leader's view of one member's log.
type progress struct {
	match, next uint64
	state       progressState
	// paused: in probe state, an append is outstanding; heartbeat responses
	// clear it so a lost probe is retried.
	paused bool
	// inflight holds the last index of every pipelined append not yet acked.
	inflight []uint64
	// recentActive: heard from since the last check-quorum.
	recentActive bool
	// readAck is the newest heartbeat round (read round) the member answered.
	readAck uint64

	// Snapshot transfer: which snapshot, how many bytes the follower holds,
	// and how many ticks since it last answered.
	snapIndex  uint64
	snapOffset uint64
	snapStall  int
}

func (p *progress) becomeProbe() {
	p.state = stateProbe
	p.paused = false
	p.inflight = nil
	p.next = p.match + 1
}

func (p *progress) becomeReplicate() {
	p.state = stateReplicate
	p.paused = false
	p.inflight = nil
	p.next = p.match + 1
}

func (p *progress) becomeSnapshot(snapIndex uint64) {
	p.state = stateSnapshot
	p.paused = false
	p.inflight = nil
	p.snapIndex = snapIndex
	p.snapOffset = 0
	p.snapStall = 0
}

// maybeUpdate records an acknowledgement of index; it reports whether the
// match index moved (stale acks move nothing).
func (p *progress) maybeUpdate(index uint64) bool {
	p.paused = false
	if index <= p.match {
		return false
	}
	p.match = index
	p.next = max(p.next, index+1)
	// Free every pipelined append the ack covers.
	i := 0
	for i < len(p.inflight) && p.inflight[i] <= index {
		i++
	}
	p.inflight = p.inflight[i:]
	return true
}

// maybeDecrTo handles a rejection of the append whose previous index was
// rejected. It reports false for a stale rejection (one that does not concern
// the append we are waiting on), which must be ignored.
func (p *progress) maybeDecrTo(rejected, probeNext uint64) bool {
	if p.state == stateReplicate {
		if rejected <= p.match {
			return false
		}
		p.next = max(p.match+1, min(rejected, probeNext))
		return true
	}
	if p.next-1 != rejected {
		return false
	}
	p.next = max(p.match+1, min(rejected, probeNext))
	p.paused = false
	return true
}
