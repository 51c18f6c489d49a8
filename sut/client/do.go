package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// call is one logical operation, sent in as many attempts as it takes.
type call struct {
	method string
	path   string // with the query
	body   []byte // nil: no body
	// session: a write; every attempt carries X-Client-Id and the same X-Seq.
	session bool
	seq     uint64
	// node pins the call to one node: one attempt, no redirects (status,
	// clock faults).
	node    string
	timeout time.Duration
	// notFoundOK: 404 is an answer (an absent key), not an error.
	notFoundOK bool
	// fromLeader: a 2xx answer shows that its node leads.
	fromLeader bool
	// resend is how many times an indefinite attempt may be sent again.
	resend int
}

// reply is the answer to the attempt that ended a call.
type reply struct {
	node    string
	status  int
	body    []byte
	headers http.Header
}

func (r reply) header(name string) string { return r.headers.Get(name) }

// do runs c: it tries nodes until one gives a final answer, following
// redirects through the client's address map and retrying definite failures
// on other nodes.
func (cl *Client) do(ctx context.Context, c call) (reply, error) {
	if c.node != "" {
		addr, ok := cl.Addr(c.node)
		if !ok {
			return reply{}, &Error{Definite: true, Node: c.node, Msg: "unknown node (not in the client's address map)"}
		}
		r, err := cl.attempt(ctx, target{c.node, addr}, c)
		if err != nil {
			return reply{}, err
		}
		if r.status/100 == 2 || (r.status == http.StatusNotFound && c.notFoundOK) {
			return r, nil
		}
		return reply{}, statusError(r)
	}

	maxFailures := cl.maxAttempts()
	var (
		failures, redirects, resent int
		unknown                     *Error // an indefinite attempt: the call may have taken effect
		last                        *Error
		next                        target
		tried                       = map[string]bool{}
	)
	giveUp := func(e *Error) (reply, error) {
		if unknown != nil && e.Definite {
			e = &Error{Node: e.Node, Status: e.Status, Err: e.Err,
				Msg: e.Msg + "; an earlier attempt (" + unknown.Msg + ") may still take effect"}
		}
		return reply{}, e
	}
	for {
		if err := ctx.Err(); err != nil {
			e := &Error{Definite: true, Msg: "gave up: " + err.Error(), Err: err}
			if last != nil {
				e.Node, e.Msg = last.Node, e.Msg+" after: "+last.Msg
			}
			return giveUp(e)
		}
		t := next
		next = target{}
		if t.addr == "" {
			t = cl.pick(tried)
		}
		if t.addr == "" {
			return giveUp(&Error{Definite: true, Msg: "no nodes to try (the client's address map is empty)"})
		}
		tried[t.id] = true

		r, err := cl.attempt(ctx, t, c)
		if err == nil {
			switch {
			case r.status/100 == 2 || (r.status == http.StatusNotFound && c.notFoundOK):
				if c.fromLeader {
					cl.setLeader(t.id)
				}
				return r, nil
			case r.status == http.StatusTemporaryRedirect:
				cl.forgetLeader(t.id)
				nt, why := cl.redirectTarget(t, r)
				last = &Error{Definite: true, Node: t.id, Status: r.status, Msg: why}
				if nt.addr != "" && redirects < maxFailures {
					redirects++
					next = nt
					continue
				}
				err = last
			default:
				err = statusError(r)
			}
		}
		var e *Error
		errors.As(err, &e)
		last = e
		if !e.Definite {
			if resent >= c.resend {
				return reply{}, e
			}
			// Send the same operation again (same seq); the leader may
			// have changed, so start from another node.
			resent++
			unknown = e
			cl.forgetLeader(t.id)
			clear(tried)
			tried[t.id] = true
			continue
		}
		if !retryable(e) {
			return giveUp(e)
		}
		cl.forgetLeader(t.id)
		failures++
		if failures >= maxFailures {
			return giveUp(e)
		}
		pause(ctx, failures)
	}
}

// retryable tells the definite failures worth trying elsewhere: no leader
// here, a redirect that could not be followed, or a node that cannot be
// reached. A request the server refused (4xx) would be refused anywhere.
func retryable(e *Error) bool {
	return e.Status == 0 || e.Status == http.StatusServiceUnavailable || e.Status == http.StatusTemporaryRedirect
}

// pause waits a little longer after each definite failure of a call before
// the next attempt, so that an election in progress has a moment to finish.
func pause(ctx context.Context, failures int) {
	d := time.Duration(failures) * 20 * time.Millisecond
	d = min(d, 200*time.Millisecond)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// redirectTarget resolves a 307 to the leader's address: by X-Leader-Id (or
// the body's "leader") through the client's own map, else Location's host
// when it is a loopback address. It returns an empty target and the reason
// when the redirect cannot be followed.
func (cl *Client) redirectTarget(from target, r reply) (target, string) {
	lead := r.header("X-Leader-Id")
	if lead == "" {
		var b struct {
			Leader string `json:"leader"`
		}
		if json.Unmarshal(r.body, &b) == nil {
			lead = b.Leader
		}
	}
	if lead == from.id {
		return target{}, "redirected to itself"
	}
	if a, ok := cl.Addr(lead); ok && lead != "" {
		return target{lead, a}, "not leader; leader is " + lead
	}
	if loc := r.header("Location"); loc != "" {
		if u, err := url.Parse(loc); err == nil && u.Host != "" && CheckLoopback(u.Host) == nil {
			id := lead
			if id == "" {
				id = u.Host
			}
			return target{id, u.Host}, "not leader; redirected to " + u.Host
		}
		return target{}, fmt.Sprintf("not leader; redirect to leader %q at %s cannot be followed (not in the address map, not a loopback address)", lead, loc)
	}
	return target{}, fmt.Sprintf("not leader; leader %q is not in the address map and no usable Location was given", lead)
}

// attempt sends c once to t. A failure is definite only when no connection
// carried the request: once a connection is obtained the request may have
// been written, and then only the server's answer can tell.
func (cl *Client) attempt(ctx context.Context, t target, c call) (reply, error) {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var gotConn atomic.Bool
	trace := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { gotConn.Store(true) }}
	var body io.Reader
	if c.body != nil {
		body = bytes.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(actx, trace), c.method, "http://"+t.addr+c.path, body)
	if err != nil {
		return reply{}, &Error{Definite: true, Node: t.id, Msg: "building the request: " + err.Error(), Err: err}
	}
	if c.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.session {
		req.Header.Set("X-Client-Id", cl.opt.ClientID)
		req.Header.Set("X-Seq", strconv.FormatUint(c.seq, 10))
		req.Header.Set("X-Seq-Ack", strconv.FormatUint(cl.ackSeq(), 10))
	}
	resp, err := cl.http.Do(req)
	if err != nil {
		e := &Error{Node: t.id, Err: err, Definite: !gotConn.Load() || isDialError(err)}
		switch {
		case ctx.Err() != nil:
			e.Msg = fmt.Sprintf("%s %s: %v", c.method, c.path, ctx.Err())
		case errors.Is(actx.Err(), context.DeadlineExceeded):
			e.Msg = fmt.Sprintf("%s %s: no answer within %v", c.method, c.path, c.timeout)
		default:
			e.Msg = err.Error()
		}
		return reply{}, e
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	r := reply{node: t.id, status: resp.StatusCode, body: b}
	r.headers = resp.Header
	if err != nil {
		// The status arrived but the body broke off: a refusal stays a
		// refusal, but a success whose result is lost is unknown.
		e := statusError(r)
		e.Msg = fmt.Sprintf("reading the answer to %s %s: %v", c.method, c.path, err)
		e.Err = err
		e.Definite = resp.StatusCode/100 != 2 && e.Definite
		return reply{}, e
	}
	return r, nil
}

// isDialError reports a failure to open a connection (refused, unreachable,
// or our own loopback guard): the request never left.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// statusError turns a non-success answer into an Error. 307 and 503 say the
// node did nothing; 4xx means the request was refused as it stands. 504 and
// every other 5xx leave the outcome unknown.
func statusError(r reply) *Error {
	definite := r.status == http.StatusTemporaryRedirect || r.status == http.StatusServiceUnavailable ||
		(r.status >= 400 && r.status < 500)
	return &Error{Definite: definite, Node: r.node, Status: r.status, Msg: bodyMessage(r.body, r.status)}
}

// bodyMessage extracts {"error": msg} from an answer, or its raw text.
func bodyMessage(b []byte, status int) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		return e.Error
	}
	if s := strings.TrimSpace(string(b)); s != "" {
		if len(s) > 200 {
			s = s[:200] + "..."
		}
		return s
	}
	return http.StatusText(status)
}

// decode reads a JSON answer with numbers as json.Number.
func decode(r reply, v any) error {
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decoding the answer of node %s (HTTP %d): %v", r.node, r.status, err)
	}
	return nil
}
