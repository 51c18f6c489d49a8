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
	Config  struct {
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
	r, err := c.do(ctx, call{method: http.MethodGet, path: "/admin/status", node: id, timeout: c.opt.Timeout})
	if err != nil {
		return Status{}, err
	}
	var st Status
	if err := json.Unmarshal(r.body, &st); err != nil {
		return Status{}, &Error{Definite: true, Node: id, Status: r.status, Msg: "decoding /admin/status: " + err.Error(), Err: err}
	}
	return st, nil
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
