package server

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestBadBodiesNameTheField(t *testing.T) {
	c := newTestCluster(t, 1, func(cfg *Config) { cfg.FaultInjection = true })
	s := c.waitLeader()
	cases := []struct {
		method, path string
		body         any
		header       map[string]string
		want         string
	}{
		{"PUT", "/kv/x", "", nil, "body: empty"},
		{"PUT", "/kv/x", "[1,2]", nil, "body: not a JSON object"},
		{"PUT", "/kv/x", "{}", nil, "field value: missing"},
		{"PUT", "/kv/x", `{"value": 1, "colour": 2}`, nil, "field colour: unknown"},
		{"PUT", "/kv/x", `{"value": 1}`, map[string]string{"X-Client-Id": "c", "X-Seq": "minus one"}, "header X-Seq"},
		{"PUT", "/kv/x", `{"value": 1}`, map[string]string{"X-Seq": "3"}, "header X-Seq: given without X-Client-Id"},
		{"POST", "/kv/x/cas", `{"value": 1}`, nil, "field expect: missing"},
		{"POST", "/kv/x/cas", `{"expect": 1}`, nil, "field value: missing"},
		{"POST", "/kv/x/append", `{"val": 1}`, nil, "field val: unknown"},
		{"GET", "/kv/x?read=sloppy", nil, nil, "query parameter read"},
		{"POST", "/admin/members", `{}`, nil, "field add"},
		{"POST", "/admin/members", `{"add": "n4=127.0.0.1:1", "remove": ""}`, nil, "field remove"},
		{"POST", "/admin/members", `{"add": "n4"}`, nil, "field add: \"n4\" is not id=host:port"},
		{"POST", "/admin/members", `{"add": "n4=nowhere"}`, nil, "field add: address"},
		{"POST", "/admin/members", `{"remove": 4}`, nil, "field remove"},
		{"POST", "/admin/members", `{"add": "n4=127.0.0.1:1", "remove": "n2"}`, nil, "must be a voter"},
		{"POST", "/fault/clock", `{"rate": 0}`, nil, "field rate"},
		{"POST", "/fault/clock", `{"rate": -2}`, nil, "field rate"},
		{"POST", "/fault/clock", `{"rate": "fast"}`, nil, "field rate"},
		{"POST", "/fault/clock", `{"offset_ms": 1.5}`, nil, "field offset_ms"},
		{"POST", "/fault/clock", `{"offset": 10}`, nil, "field offset: unknown"},
	}
	for _, tc := range cases {
		code, body, _ := do(t, s, tc.method, tc.path, tc.body, tc.header)
		msg, _ := body["error"].(string)
		if code != 400 || !strings.Contains(msg, tc.want) {
			t.Errorf("%s %s %v: got %d %q, want 400 mentioning %q", tc.method, tc.path, tc.body, code, msg, tc.want)
		}
	}
}

func TestFaultClockEndpoint(t *testing.T) {
	off := newTestCluster(t, 1, nil)
	if code, _, _ := do(t, off.waitLeader(), "POST", "/fault/clock", `{"offset_ms": 5, "rate": 2}`, nil); code != 404 {
		t.Fatalf("POST /fault/clock without --fault-injection: %d, want 404", code)
	}

	on := newTestCluster(t, 1, func(cfg *Config) { cfg.FaultInjection = true })
	s := on.waitLeader()
	code, body, _ := do(t, s, "POST", "/fault/clock", `{"offset_ms": 250, "rate": 1.5}`, nil)
	if code != 200 {
		t.Fatalf("POST /fault/clock: %d %v", code, body)
	}
	_, status, _ := do(t, s, "GET", "/admin/status", nil, nil)
	clock, _ := status["clock"].(map[string]any)
	if clock["offset_ms"] != jsonNumber("250") || clock["rate"] != jsonNumber("1.5") {
		t.Fatalf("status clock = %v, want offset_ms 250 rate 1.5", clock)
	}
	// Only the rate: the offset stays.
	do(t, s, "POST", "/fault/clock", `{"rate": 1}`, nil)
	if offset, rate := s.Clock().Skew(); offset != 250*time.Millisecond || rate != 1 {
		t.Fatalf("after setting only the rate: offset %v rate %v, want 250ms and 1", offset, rate)
	}
}

func TestStatusFields(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *Config) { cfg.Bugs = map[string]bool{"no-dedup": true} })
	leader := c.waitLeader()
	code, st, _ := do(t, leader, "GET", "/admin/status", nil, nil)
	if code != 200 {
		t.Fatalf("status: %d", code)
	}
	for _, field := range []string{"id", "role", "term", "leader", "commit", "applied", "config", "clock", "last_index", "snapshot_index", "read_mode", "bugs"} {
		if _, ok := st[field]; !ok {
			t.Errorf("status lacks field %q: %v", field, st)
		}
	}
	if st["role"] != "leader" || st["leader"] != leader.cfg.ID || st["read_mode"] != "readindex" {
		t.Errorf("status = %v", st)
	}
	conf := st["config"].(map[string]any)
	if len(conf["voters"].([]any)) != 3 || conf["joint"] != false {
		t.Errorf("config = %v, want 3 voters, not joint", conf)
	}
	if bugs := st["bugs"].([]any); len(bugs) != 1 || bugs[0] != "no-dedup" {
		t.Errorf("bugs = %v, want [no-dedup]", bugs)
	}
}

func TestFollowerRedirectsToLeader(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	leader := c.waitLeader()
	// Wait until the followers know the leader too.
	var follower *Server
	for deadline := time.Now().Add(5 * time.Second); follower == nil && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		for id, s := range c.servers {
			if id != leader.cfg.ID && s.status.Load().Lead == leader.cfg.ID {
				follower = s
			}
		}
	}
	if follower == nil {
		t.Fatal("no follower learned the leader")
	}
	for _, req := range []struct{ method, path, body string }{
		{"PUT", "/kv/x", `{"value": 1}`},
		{"GET", "/kv/x", ""},
		{"POST", "/kv/x/append", `{"value": 1}`},
		{"POST", "/admin/members", `{"remove": "n3"}`},
	} {
		var body any
		if req.body != "" {
			body = req.body
		}
		code, out, h := do(t, follower, req.method, req.path, body, nil)
		// The leader the follower knows: normally the one found above.
		named := h.Get("X-Leader-Id")
		wantLoc := "http://" + c.peers[named] + req.path
		if code != 307 || named == "" || named == follower.cfg.ID || h.Get("Location") != wantLoc ||
			out["error"] != "not leader" || out["leader"] != named {
			t.Errorf("%s %s at a follower: %d %v Location=%q X-Leader-Id=%q; want 307 to the leader's address", req.method, req.path,
				code, out, h.Get("Location"), named)
		}
	}
	// A local read is served by any node.
	if code, out := c.leaderDo("PUT", "/kv/y", `{"value": "v"}`); code != 200 {
		t.Fatalf("PUT: %d %v", code, out)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if code, out, _ := do(t, follower, "GET", "/kv/y?read=local", nil, nil); code == 200 && out["value"] == "v" {
			return
		}
	}
	t.Fatal("the follower never served the write by a local read")
}

func TestNoLeaderAnswers503(t *testing.T) {
	// n1 of a three-node cluster whose other members never start: it can
	// never win an election.
	net := newMemNet()
	cfg := Config{ID: "n1", Listen: "127.0.0.1:17001", DataDir: t.TempDir(), Tick: testTick, UnsafeNoSync: true,
		Peers:  map[string]string{"n1": "127.0.0.1:17001", "n2": "127.0.0.1:17002", "n3": "127.0.0.1:17003"},
		Logger: testLogger(t)}
	s, err := New(cfg, WithTransport(net.transport()))
	if err != nil {
		t.Fatal(err)
	}
	net.attach("n1", s)
	s.Start()
	defer s.Stop()
	for _, req := range []struct{ method, path, body string }{
		{"PUT", "/kv/x", `{"value": 1}`}, {"GET", "/kv/x", ""}, {"POST", "/admin/members", `{"remove": "n3"}`},
	} {
		var body any
		if req.body != "" {
			body = req.body
		}
		code, out, _ := do(t, s, req.method, req.path, body, nil)
		if code != 503 || out["error"] != "no leader" {
			t.Fatalf("%s %s with no leader: %d %v, want 503 no leader", req.method, req.path, code, out)
		}
	}
}

// A stream meant for another node (its address now belongs to someone else)
// is refused, so the sender never counts it as a link.
func TestStreamForAnotherNodeIsRefused(t *testing.T) {
	c := newTestCluster(t, 1, nil)
	s := c.servers["n1"]
	code, out, _ := do(t, s, "POST", streamPath, "", map[string]string{"X-Raft-From": "n2", "X-Raft-To": "n7"})
	if code != 421 || !strings.Contains(fmt.Sprint(out["error"]), "not n7") {
		t.Fatalf("stream for n7 at n1: %d %v, want 421", code, out)
	}
}
