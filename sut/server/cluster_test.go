package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/sut/raft"
)

// testCluster is an in-process raftd cluster on a memNet: real cores, real
// WALs (without fsync) in temporary directories, real HTTP handlers called
// directly.
type testCluster struct {
	t      testing.TB
	net    *memNet
	dir    string
	peers  map[string]string
	mutate func(*Config)

	mu      sync.Mutex // guards servers: chaos tests restart nodes under load
	servers map[string]*Server
}

// server returns the running server id, or nil.
func (c *testCluster) server(id string) *Server {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.servers[id]
}

// running lists the running servers.
func (c *testCluster) running() map[string]*Server {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]*Server, len(c.servers))
	for id, s := range c.servers {
		out[id] = s
	}
	return out
}

// testTick keeps elections fast but well above scheduling noise on a busy
// two-core machine: the election timeout is 10-20 ticks.
const testTick = 20 * time.Millisecond

func newTestCluster(t testing.TB, n int, mutate func(*Config)) *testCluster {
	t.Helper()
	c := &testCluster{t: t, net: newMemNet(), dir: t.TempDir(), peers: map[string]string{}, mutate: mutate, servers: map[string]*Server{}}
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("n%d", i)
		c.peers[id] = fmt.Sprintf("127.0.0.1:%d", 17000+i) // never dialed: the memNet carries messages
	}
	for id := range c.peers {
		c.start(id)
	}
	t.Cleanup(c.stopAll)
	return c
}

func (c *testCluster) config(id string) Config {
	cfg := Config{
		ID: id, Listen: c.peers[id], Peers: c.peers, DataDir: filepath.Join(c.dir, id),
		Tick: testTick, ElectionTicks: 10, HeartbeatTicks: 1, SnapshotEvery: 1000,
		RequestTimeout: 2 * time.Second, UnsafeNoSync: true, Seed: int64(len(id)) + int64(id[len(id)-1]),
		Logger: testLogger(c.t),
	}
	if c.mutate != nil {
		c.mutate(&cfg)
	}
	return cfg
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() || os.Getenv("RAFTD_TEST_LOGS") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func (c *testCluster) start(id string) *Server {
	c.t.Helper()
	s, err := New(c.config(id), WithTransport(c.net.transport()))
	if err != nil {
		c.t.Fatalf("start %s: %v", id, err)
	}
	c.net.attach(id, s)
	c.mu.Lock()
	c.servers[id] = s
	c.mu.Unlock()
	s.Start()
	return s
}

func (c *testCluster) stop(id string) {
	c.mu.Lock()
	s := c.servers[id]
	delete(c.servers, id)
	c.mu.Unlock()
	if s != nil {
		s.Stop()
	}
}

func (c *testCluster) stopAll() {
	for id := range c.running() {
		c.stop(id)
	}
}

// waitLeader waits until a server other than those in exclude leads with a
// term in which it has committed (so it serves reads and writes at once),
// and returns it.
func (c *testCluster) waitLeader(exclude ...string) *Server {
	c.t.Helper()
	return c.waitLeaderWhere(func(s *Server, st *raft.Status) bool {
		return st.Commit > 0 && s.reg.appliedIndex() >= st.Commit
	}, exclude...)
}

// waitLeaderWhere waits for a leader outside exclude for which ok holds.
func (c *testCluster) waitLeaderWhere(ok func(*Server, *raft.Status) bool, exclude ...string) *Server {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for id, s := range c.running() {
			if contains(exclude, id) {
				continue
			}
			st := s.status.Load()
			if st.Role == raft.Leader && ok(s, st) {
				return s
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.t.Fatalf("no leader within 10s")
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// do sends one HTTP request to s's handler and decodes the JSON answer.
func do(t testing.TB, s *Server, method, path string, body any, header map[string]string) (int, map[string]any, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			rd = bytes.NewBufferString(b)
		default:
			raw, err := json.Marshal(b)
			if err != nil {
				t.Fatal(err)
			}
			rd = bytes.NewReader(raw)
		}
	}
	req := httptest.NewRequest(method, path, rd)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	var out map[string]any
	if rec.Body.Len() > 0 {
		dec := json.NewDecoder(rec.Body)
		dec.UseNumber()
		if err := dec.Decode(&out); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %v", method, path, err)
		}
	}
	return rec.Code, out, rec.Header()
}

func TestClusterWritesAndReads(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	code, body := c.leaderDo("PUT", "/kv/x", map[string]any{"value": 42})
	if code != 200 {
		t.Fatalf("PUT: %d %v", code, body)
	}
	code, body = c.leaderDo("GET", "/kv/x", nil)
	if code != 200 || body["value"] != json.Number("42") {
		t.Fatalf("GET after PUT: %d %v, want 200 value 42", code, body)
	}
	code, body = c.leaderDo("POST", "/kv/l/append", map[string]any{"value": "a"})
	if code != 200 || fmt.Sprint(body["value"]) != "[a]" {
		t.Fatalf("append: %d %v", code, body)
	}
	code, body = c.leaderDo("POST", "/kv/x/cas", map[string]any{"expect": 41, "value": 43})
	if code != 200 || body["ok"] != false {
		t.Fatalf("cas with a wrong expectation: %d %v, want ok false", code, body)
	}
	code, body = c.leaderDo("POST", "/kv/x/cas", map[string]any{"expect": 42, "value": 43})
	if code != 200 || body["ok"] != true {
		t.Fatalf("cas: %d %v, want ok true", code, body)
	}
	code, _ = c.leaderDo("DELETE", "/kv/x", nil)
	if code != 200 {
		t.Fatalf("DELETE: %d", code)
	}
	code, body = c.leaderDo("GET", "/kv/x", nil)
	if code != 404 || body["error"] != "not found" {
		t.Fatalf("GET after DELETE: %d %v, want 404 not found", code, body)
	}
}

func jsonNumber(s string) json.Number { return json.Number(s) }

// waitApplied waits until every running server has applied index.
func (c *testCluster) waitApplied(index uint64) {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, s := range c.running() {
		for s.reg.appliedIndex() < index {
			if time.Now().After(deadline) {
				c.t.Fatalf("%s did not apply index %d within 10s", s.cfg.ID, index)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
}

// leaderDo sends a request to whichever server leads, retrying on the new
// leader when leadership moves underneath (a busy machine can delay ticks
// enough for an election).
func (c *testCluster) leaderDo(method, path string, body any, header ...map[string]string) (int, map[string]any) {
	c.t.Helper()
	var h map[string]string
	if len(header) > 0 {
		h = header[0]
	}
	for attempt := 0; ; attempt++ {
		s := c.waitLeader()
		code, out, _ := do(c.t, s, method, path, body, h)
		if (code != 307 && code != 503) || attempt == 10 {
			return code, out
		}
	}
}
