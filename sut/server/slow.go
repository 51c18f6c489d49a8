package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/faultline/faultline/sut/raft"
)

// Slow-node faults (POST /fault/slow, only with --fault-injection): a node
// whose disk, state machine or network is slow rather than dead. Each is a
// delay in real time, not the node's skewable clock, because the hardware it
// models does not read that clock:
//
//   - fsync: every WAL write that must be synced waits this long first. The
//     drive loop is single-threaded, so like a real slow disk this holds up
//     everything the node does, acknowledgements included.
//   - apply: every batch of committed entries reaches the state machine no
//     earlier than this long after the drive loop handed it over. The
//     applier keeps draining its queue meanwhile, so the drive loop never
//     blocks on it: the node keeps voting and acknowledging at full speed
//     while its state machine lags behind its commit index, which is what a
//     read must wait out (applied >= read index).
//   - net: every peer message this node sends leaves this long after it was
//     produced, in order. Replies travel at the sender's delay, so a link is
//     as slow as the sum of its two ends. A message still held when a
//     partition starts is lost with it, as on a real slow link.
//
// Zero heals. The delays are bounded (maxSlowMs) so a forgotten fault slows
// a node down without wedging it for good.

// maxSlowMs bounds each delay: well beyond an election timeout, well short
// of what would look like a dead node (that is kill's and pause's job).
const maxSlowMs = 10_000

// slowFaults holds a node's delays; its zero value is no delay. Readers
// wait on changed so that healing cuts a pending delay short.
type slowFaults struct {
	mu                sync.Mutex
	fsync, apply, net time.Duration
	changed           chan struct{} // closed and replaced on every change

	netQueue   []delayedSend // messages held by the net delay, oldest first
	netTimer   *time.Timer   // runs flushNet when netQueue's head is due
	netSend    func([]raft.Message)
	netStopped bool // the server stopped: held messages were dropped
}

type delayedSend struct {
	due  time.Time
	msgs []raft.Message
}

// SlowBody is the JSON of POST and GET /fault/slow: the delays in force.
type SlowBody struct {
	FsyncMs int64 `json:"fsync_ms"`
	ApplyMs int64 `json:"apply_ms"`
	NetMs   int64 `json:"net_ms"`
}

func (f *slowFaults) body() SlowBody {
	f.mu.Lock()
	defer f.mu.Unlock()
	return SlowBody{FsyncMs: f.fsync.Milliseconds(), ApplyMs: f.apply.Milliseconds(), NetMs: f.net.Milliseconds()}
}

// set replaces the delays and wakes every waiter so it re-reads them.
func (f *slowFaults) set(b SlowBody) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fsync, f.apply, f.net = msDuration(b.FsyncMs), msDuration(b.ApplyMs), msDuration(b.NetMs)
	if f.changed != nil {
		close(f.changed)
	}
	f.changed = make(chan struct{})
	if f.netTimer != nil && len(f.netQueue) > 0 {
		// Let flushNet re-read the delay now: a healed link releases what
		// it holds at once, in order.
		f.netTimer.Reset(0)
	}
}

// changedLocked returns the channel closed at the next change.
func (f *slowFaults) changedLocked() chan struct{} {
	if f.changed == nil {
		f.changed = make(chan struct{})
	}
	return f.changed
}

// waitSync is the slow disk: it sleeps for the fsync delay before a synced
// WAL write, returning early when the delay is changed (healed) or the server
// stops.
func (f *slowFaults) waitSync(stop <-chan struct{}) {
	start := time.Now()
	for {
		f.mu.Lock()
		left := f.fsync - time.Since(start)
		changed := f.changedLocked()
		f.mu.Unlock()
		if left <= 0 {
			return
		}
		t := time.NewTimer(left)
		select {
		case <-t.C:
			return
		case <-changed:
			t.Stop()
		case <-stop:
			t.Stop()
			return
		}
	}
}

// applyDue says how long a task handed to the applier at received must still
// wait, and returns the channel that a change of the delay closes.
func (f *slowFaults) applyDue(received time.Time) (time.Duration, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.apply - time.Since(received), f.changedLocked()
}

func (f *slowFaults) applyDelayed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.apply > 0
}

// untilLocked is how long until due, never negative.
func (f *slowFaults) untilLocked(due time.Time) time.Duration {
	return max(0, time.Until(due))
}

// send hands msgs to the transport now, or holds them for the net delay.
// While earlier messages are held, later ones queue behind them even after
// the delay is healed, so the node's messages leave in the order it produced
// them.
func (f *slowFaults) send(t Transport, stop <-chan struct{}, msgs []raft.Message) {
	f.mu.Lock()
	if f.net <= 0 && len(f.netQueue) == 0 {
		f.mu.Unlock()
		t.Send(msgs)
		return
	}
	if f.netStopped {
		f.mu.Unlock()
		return
	}
	f.netQueue = append(f.netQueue, delayedSend{due: time.Now().Add(f.net), msgs: msgs})
	if f.netTimer == nil {
		f.netSend = t.Send
		f.netTimer = time.AfterFunc(f.net, func() { f.flushNet(stop) })
	} else if len(f.netQueue) == 1 {
		f.netTimer.Reset(f.untilLocked(f.netQueue[0].due))
	}
	f.mu.Unlock()
}

// flushNet sends every held batch that is due, in order, and re-arms the
// timer for the next one. Two runs may overlap (set re-arms the timer while
// one runs); each takes a batch off the head and sends it under the lock,
// so the order holds either way.
func (f *slowFaults) flushNet(stop <-chan struct{}) {
	for {
		f.mu.Lock()
		select {
		case <-stop:
			f.netStopped, f.netQueue = true, nil
			f.mu.Unlock()
			return
		default:
		}
		if len(f.netQueue) == 0 {
			f.mu.Unlock()
			return
		}
		head := f.netQueue[0]
		// A healed delay releases everything held at once.
		if f.net > 0 && time.Now().Before(head.due) {
			f.netTimer.Reset(f.untilLocked(head.due))
			f.mu.Unlock()
			return
		}
		f.netQueue[0] = delayedSend{}
		f.netQueue = f.netQueue[1:]
		send := f.netSend
		// Sending under the lock keeps the order against a concurrent send
		// that finds the queue empty; Transport.Send never blocks.
		send(head.msgs)
		f.mu.Unlock()
	}
}

// sendPeers is how the drive loop sends: through the net delay, if any.
func (s *Server) sendPeers(msgs []raft.Message) { s.slow.send(s.transport, s.stop, msgs) }

// handleFaultSlow serves POST /fault/slow: {"fsync_ms": n, "apply_ms": n,
// "net_ms": n}, each optional (an absent field keeps its delay), each an
// integer in [0, maxSlowMs]. It answers the delays now in force.
func (s *Server) handleFaultSlow(w http.ResponseWriter, r *http.Request) {
	fields, err := bodyFields(w, r)
	if err == nil {
		err = knownFields(fields, "fsync_ms", "apply_ms", "net_ms")
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	b := s.slow.body()
	for _, f := range []struct {
		name string
		dst  *int64
	}{{"fsync_ms", &b.FsyncMs}, {"apply_ms", &b.ApplyMs}, {"net_ms", &b.NetMs}} {
		raw, ok := fields[f.name]
		if !ok {
			continue
		}
		ms, err := parseDelayMs(raw)
		if err != nil {
			writeError(w, http.StatusBadRequest, "field "+f.name+": "+err.Error())
			return
		}
		*f.dst = ms
	}
	s.slow.set(b)
	s.log.Info("slow node fault", "fsync_ms", b.FsyncMs, "apply_ms", b.ApplyMs, "net_ms", b.NetMs)
	writeJSON(w, http.StatusOK, b)
}

// handleFaultSlowGet serves GET /fault/slow: the delays in force.
func (s *Server) handleFaultSlowGet(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.slow.body())
}

// parseDelayMs reads a delay: an integer number of milliseconds in
// [0, maxSlowMs].
func parseDelayMs(raw json.RawMessage) (int64, error) {
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil || n == "" { // null decodes to ""
		return 0, fmt.Errorf("want an integer number of milliseconds, got %s", raw)
	}
	ms, err := n.Int64()
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer number of milliseconds", n)
	}
	if ms < 0 || ms > maxSlowMs {
		return 0, fmt.Errorf("%d is out of range [0, %d] (0 heals)", ms, maxSlowMs)
	}
	return ms, nil
}
