package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Status is a node's GET /admin/status answer.
type Status struct {
	ID      string `json:"id"`
	Role    string `json:"role"` // leader, follower, candidate or learner
	Term    uint64 `json:"term"`
	Leader  string `json:"leader"`
	Commit  uint64 `json:"commit"`
	Applied uint64 `json:"applied"`
	// LastIndex is the node's last log index: a leader has committed what
	// it had appended once Commit reaches it.
	LastIndex uint64 `json:"last_index"`
	Config    struct {
		Voters   []string `json:"voters"`
		Learners []string `json:"learners"`
		Joint    bool     `json:"joint"`
	} `json:"config"`
	Clock struct {
		OffsetMs int64   `json:"offset_ms"`
		Rate     float64 `json:"rate"`
	} `json:"clock"`
}

// Status asks node id for its status (that node only: no redirect, no retry).
func (c *Client) Status(ctx context.Context, id string) (Status, error) {
	return getJSON[Status](ctx, c, id, "/admin/status")
}

// getJSON GETs path from node id only (no redirect, no retry) and decodes
// the answer into a T.
func getJSON[T any](ctx context.Context, c *Client, id, path string) (T, error) {
	var v T
	r, err := c.do(ctx, call{method: http.MethodGet, path: path, node: id, timeout: c.opt.Timeout})
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal(r.body, &v); err != nil {
		return v, &Error{Definite: true, Node: id, Status: r.status, Msg: "decoding " + path + ": " + err.Error(), Err: err}
	}
	return v, nil
}

// AddMember asks the leader (following redirects) to add node id, reachable
// by peers at peerAddr, through a joint-consensus change, and waits for the
// answer, which comes once the new configuration is committed.
func (c *Client) AddMember(ctx context.Context, id, peerAddr string) error {
	if id == "" || peerAddr == "" || strings.ContainsAny(id, "=,") {
		return &Error{Definite: true, Msg: fmt.Sprintf("AddMember: bad id %q or peer address %q", id, peerAddr)}
	}
	return c.members(ctx, map[string]string{"add": id + "=" + peerAddr})
}

// RemoveMember asks the leader to remove node id, and waits for the answer.
func (c *Client) RemoveMember(ctx context.Context, id string) error {
	if id == "" {
		return &Error{Definite: true, Msg: "RemoveMember: empty id"}
	}
	return c.members(ctx, map[string]string{"remove": id})
}

// ReplaceMember asks the leader to replace voter remove by node add (peers
// reach it at peerAddr) in one joint-consensus change: add joins as a
// learner, then a single C(old,new) brings it in and takes remove out. It
// waits for the answer, which comes once C(new) is committed.
func (c *Client) ReplaceMember(ctx context.Context, add, peerAddr, remove string) error {
	if add == "" || peerAddr == "" || strings.ContainsAny(add, "=,") || remove == "" {
		return &Error{Definite: true, Msg: fmt.Sprintf("ReplaceMember: bad id %q, peer address %q or removed id %q", add, peerAddr, remove)}
	}
	return c.members(ctx, map[string]string{"add": add + "=" + peerAddr, "remove": remove})
}

// members sends a membership change. It is not a session write: an
// indefinite answer is never re-sent.
func (c *Client) members(ctx context.Context, body map[string]string) error {
	b, err := json.Marshal(body)
	if err != nil {
		return &Error{Definite: true, Msg: err.Error(), Err: err}
	}
	_, err = c.do(ctx, call{method: http.MethodPost, path: "/admin/members", body: b,
		timeout: c.opt.AdminTimeout, fromLeader: true})
	return err
}

// SetClock skews node id's clock: offsetMs added to its reading, rate the
// speed of its flow (1 = real time). The node must run with
// --fault-injection.
func (c *Client) SetClock(ctx context.Context, id string, offsetMs int64, rate float64) error {
	b, err := json.Marshal(map[string]any{"offset_ms": offsetMs, "rate": rate})
	if err != nil {
		return &Error{Definite: true, Msg: err.Error(), Err: err}
	}
	_, err = c.do(ctx, call{method: http.MethodPost, path: "/fault/clock", body: b, node: id, timeout: c.opt.Timeout})
	return err
}

// Slow is a node's slow-node fault (POST /fault/slow): delays in
// milliseconds before each synced WAL write (FsyncMs), before each batch of
// committed entries reaches the state machine (ApplyMs) and before each peer
// message leaves (NetMs). Zero is no delay.
type Slow struct {
	FsyncMs int64 `json:"fsync_ms"`
	ApplyMs int64 `json:"apply_ms"`
	NetMs   int64 `json:"net_ms"`
}

// SetSlow replaces node id's slow-node delays (Slow{} heals them all). The
// node must run with --fault-injection.
func (c *Client) SetSlow(ctx context.Context, id string, d Slow) error {
	b, err := json.Marshal(d)
	if err != nil {
		return &Error{Definite: true, Msg: err.Error(), Err: err}
	}
	_, err = c.do(ctx, call{method: http.MethodPost, path: "/fault/slow", body: b, node: id, timeout: c.opt.Timeout})
	return err
}

// GetSlow asks node id for the slow-node delays in force.
func (c *Client) GetSlow(ctx context.Context, id string) (Slow, error) {
	return getJSON[Slow](ctx, c, id, "/fault/slow")
}
