package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/faultline/faultline/sut/kv"
)

// kvPath is the API path of key, escaped so any key is one path segment. A
// key raftd cannot keep byte for byte (kv.CheckKey: empty, too long, not
// UTF-8) is a definite error: nothing is sent.
func kvPath(key, suffix string) (string, error) {
	if err := kv.CheckKey(key); err != nil {
		return "", &Error{Definite: true, Msg: err.Error(), Err: err}
	}
	return "/kv/" + url.PathEscape(key) + suffix, nil
}

// write sends a write operation (body nil: none): a fresh seq shared by all
// its attempts. Text that JSON would change (kv.CheckText) is a definite
// error before anything is sent: json.Marshal would otherwise send U+FFFD in
// its place and the server would acknowledge a value never asked for.
func (c *Client) write(ctx context.Context, method, path string, body map[string]any) (reply, error) {
	var b []byte
	if body != nil {
		for field, v := range body {
			if err := kv.CheckText("field "+field, v); err != nil {
				return reply{}, &Error{Definite: true, Msg: err.Error(), Err: err}
			}
		}
		var err error
		if b, err = json.Marshal(body); err != nil {
			return reply{}, &Error{Definite: true, Msg: "encoding the request body: " + err.Error(), Err: err}
		}
	}
	seq := c.beginWrite()
	defer c.endWrite(seq)
	return c.do(ctx, call{
		method: method, path: path, body: b,
		session: true, seq: seq,
		timeout: c.opt.Timeout, fromLeader: true, resend: c.opt.RetryIndefinite,
	})
}

// malformed reports a success answer the client cannot read: the operation
// happened, but its result is unknown.
func malformed(r reply, err error) error {
	return &Error{Node: r.node, Status: r.status, Msg: err.Error(), Err: err}
}

// Get reads key: linearizably by the server's read mode, or, with local, from
// the answering node's own state (a possibly stale read; it goes to the
// preferred node first). An absent key is found=false, not an error.
func (c *Client) Get(ctx context.Context, key string, local bool) (value any, found bool, node string, err error) {
	path, err := kvPath(key, "")
	if err != nil {
		return nil, false, "", err
	}
	if local {
		path += "?read=local"
	}
	r, err := c.do(ctx, call{method: http.MethodGet, path: path, timeout: c.opt.Timeout,
		notFoundOK: true, fromLeader: !local, resend: c.opt.RetryIndefinite})
	if err != nil {
		return nil, false, nodeOf(err), err
	}
	if r.status == http.StatusNotFound {
		return nil, false, r.node, nil
	}
	var b struct {
		Value any `json:"value"`
	}
	if err := decode(r, &b); err != nil {
		return nil, false, r.node, malformed(r, err)
	}
	return b.Value, true, r.node, nil
}

// Put writes value at key.
func (c *Client) Put(ctx context.Context, key string, value any) (node string, err error) {
	path, err := kvPath(key, "")
	if err != nil {
		return "", err
	}
	r, err := c.write(ctx, http.MethodPut, path, map[string]any{"value": value})
	if err != nil {
		return nodeOf(err), err
	}
	return r.node, nil
}

// Cas sets key to value if it holds expect (nil matches an absent key). The
// server answers {"ok": swapped}; a cas that did not swap is not an error.
func (c *Client) Cas(ctx context.Context, key string, expect, value any) (swapped bool, node string, err error) {
	path, err := kvPath(key, "/cas")
	if err != nil {
		return false, "", err
	}
	r, err := c.write(ctx, http.MethodPost, path, map[string]any{"expect": expect, "value": value})
	if err != nil {
		return false, nodeOf(err), err
	}
	var b struct {
		OK *bool `json:"ok"`
	}
	if err := decode(r, &b); err != nil {
		return false, r.node, malformed(r, err)
	}
	if b.OK == nil {
		return false, r.node, malformed(r, errors.New(`cas answer has no "ok" field`))
	}
	return *b.OK, r.node, nil
}

// Append appends value to the list at key. The server answers
// {"value": list}, the whole list after this append, returned as list (nil
// if the server sent none).
func (c *Client) Append(ctx context.Context, key string, value any) (list []any, node string, err error) {
	path, err := kvPath(key, "/append")
	if err != nil {
		return nil, "", err
	}
	r, err := c.write(ctx, http.MethodPost, path, map[string]any{"value": value})
	if err != nil {
		return nil, nodeOf(err), err
	}
	var b struct {
		Value any `json:"value"`
	}
	if err := decode(r, &b); err != nil {
		return nil, r.node, malformed(r, err)
	}
	if b.Value == nil {
		return nil, r.node, nil
	}
	l, ok := b.Value.([]any)
	if !ok {
		return nil, r.node, malformed(r, errors.New(`append answer's "value" is not a list`))
	}
	return l, r.node, nil
}

// Delete removes key (deleting an absent key succeeds).
func (c *Client) Delete(ctx context.Context, key string) (node string, err error) {
	path, err := kvPath(key, "")
	if err != nil {
		return "", err
	}
	r, err := c.write(ctx, http.MethodDelete, path, nil)
	if err != nil {
		return nodeOf(err), err
	}
	return r.node, nil
}

func nodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Node
	}
	return ""
}
