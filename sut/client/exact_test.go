package client

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/sut/kv"
	"github.com/faultline/faultline/sut/server"
)

// realNode starts one real raftd node (server.New behind a real listener,
// fsync off) and returns its address and a stop function (also run when the
// test ends).
func realNode(t *testing.T, dir string) (string, func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	srv, err := server.New(server.Config{
		ID: "n1", Listen: addr, Peers: map[string]string{"n1": addr}, DataDir: dir,
		Tick: 10 * time.Millisecond, SnapshotEvery: 2, UnsafeNoSync: true,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv.Handler()}
	srv.Start()
	go hs.Serve(ln)
	var once sync.Once
	stop := func() {
		once.Do(func() {
			hs.Close()
			srv.Stop()
		})
	}
	t.Cleanup(stop)
	waitServing(t, addr)
	return addr, stop
}

// waitServing waits until the single node leads with its term's no-op
// applied, so it serves reads and writes.
func waitServing(t *testing.T, addr string) {
	t.Helper()
	c := New(map[string]string{"n1": addr}, Options{Timeout: time.Second})
	defer c.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := c.Status(context.Background(), "n1")
		if err == nil && st.Role == "leader" && st.Commit > 0 && st.Applied >= st.Commit {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("node at %s did not become a serving leader within 30 s: %+v %v", addr, st, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestExactBytesEndToEnd sends keys and values with NUL bytes, U+FFFD
// itself, escapes and the longest key allowed through the Go client, raftd's
// HTTP API, its log and snapshots (every 2 entries), a restart, and back.
func TestExactBytesEndToEnd(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cases := map[string]any{
		"a\x00b":                            "x\x00y",
		"a\ufffdb":                          "\ufffd",
		"a/b?c#d%":                          []any{"\U0001F600", "<&>\u2028"},
		"ключ":                              map[string]any{"n\u00e9": json.Number("12345678901234567890123")},
		strings.Repeat("k", kv.MaxKeyBytes): "long",
	}
	readAll := func(c *Client, when string) {
		t.Helper()
		for k, want := range cases {
			got, found, _, err := c.Get(ctx, k, false)
			if err != nil || !found || !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: Get(%q) = %#v, %v, %v; want %#v", when, k, got, found, err, want)
			}
		}
	}
	first, stopFirst := realNode(t, dir)
	c1 := New(map[string]string{"n1": first}, Options{Timeout: 5 * time.Second, RetryIndefinite: 3})
	for k, v := range cases {
		if _, err := c1.Put(ctx, k, v); err != nil {
			t.Fatalf("Put(%q): %v", k, err)
		}
	}
	readAll(c1, "after the writes")
	stopFirst()
	// Refused before anything is sent: a definite error naming the key or
	// field, and nothing stored.
	addr, _ := realNode(t, t.TempDir())
	c := New(map[string]string{"n1": addr}, Options{Timeout: 5 * time.Second})
	for _, tc := range []struct {
		op   func() error
		want string
	}{
		{func() error { _, err := c.Put(ctx, "a\xffb", 1); return err }, `key "a\xffb": invalid UTF-8 at byte 1`},
		{func() error { _, err := c.Put(ctx, "x", "x\xffy"); return err }, `field value: string "x\xffy": invalid UTF-8 at byte 1`},
		{func() error { _, _, err := c.Cas(ctx, "x", []string{"\xfe"}, 1); return err }, "field expect[0]"},
		{func() error { _, _, err := c.Append(ctx, "x", map[string]any{"\xc3": 1}); return err }, "field value: member name"},
		{func() error { _, _, _, err := c.Get(ctx, strings.Repeat("k", kv.MaxKeyBytes+1), false); return err }, "over the 8192-byte limit"},
	} {
		err := tc.op()
		if !IsDefinite(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want a definite error mentioning %s", err, tc.want)
		}
	}
	if _, found, _, err := c.Get(ctx, "x", false); err != nil || found {
		t.Fatalf("Get(x) after refused writes: found %v, %v", found, err)
	}
	// The reproduction, sent raw over HTTP: refused, never stored
	// under a\uFFFDb.
	for _, key := range []string{"a%ffb", "a%feb"} {
		req, _ := http.NewRequest(http.MethodPut, "http://"+addr+"/kv/"+key, strings.NewReader(`{"value":1}`))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(body), "invalid UTF-8") {
			t.Fatalf("raw PUT /kv/%s: %d %s, want 400 naming the key", key, resp.StatusCode, body)
		}
	}
	if _, found, _, err := c.Get(ctx, "a\ufffdb", false); err != nil || found {
		t.Fatalf("Get(a\\uFFFDb) after refused raw writes: found %v, %v", found, err)
	}

	// A restart replays snapshot and log: the first node's data, reopened.
	again, _ := realNode(t, dir)
	c2 := New(map[string]string{"n1": again}, Options{Timeout: 5 * time.Second, RetryIndefinite: 3})
	readAll(c2, "after a restart from snapshot and log")
}
