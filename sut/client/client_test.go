package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// seen is one request a fake node received.
type seen struct {
	method, path, query string
	clientID, seq       string
	headerAck           string
	body                map[string]any
}

// fakeNode emulates one raftd node's HTTP answers on 127.0.0.1: a test
// double of the network and server, so the client's redirect, retry and
// failure classification can be driven exactly.
type fakeNode struct {
	id  string
	srv *httptest.Server

	mu     sync.Mutex
	reqs   []seen
	handle http.HandlerFunc
}

func newFakeNode(t *testing.T, id string, h http.HandlerFunc) *fakeNode {
	n := &fakeNode{id: id, handle: h}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s := seen{method: r.Method, path: r.URL.Path, query: r.URL.RawQuery,
			clientID: r.Header.Get("X-Client-Id"), seq: r.Header.Get("X-Seq"), headerAck: r.Header.Get("X-Seq-Ack")}
		if b, _ := io.ReadAll(r.Body); len(b) > 0 {
			dec := json.NewDecoder(strings.NewReader(string(b)))
			dec.UseNumber()
			dec.Decode(&s.body)
		}
		n.mu.Lock()
		n.reqs = append(n.reqs, s)
		h := n.handle
		n.mu.Unlock()
		h(w, r)
	})
	n.srv = httptest.NewServer(mux)
	t.Cleanup(n.srv.Close)
	return n
}

func (n *fakeNode) addr() string { return strings.TrimPrefix(n.srv.URL, "http://") }

func (n *fakeNode) set(h http.HandlerFunc) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.handle = h
}

func (n *fakeNode) requests() []seen {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]seen(nil), n.reqs...)
}

func jsonAnswer(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

var ok200 = jsonAnswer(200, `{"ok":true}`)

// redirectTo answers like a follower that knows leader id, with a Location
// the host may not be able to reach.
func redirectTo(id, location string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Leader-Id", id)
		if location != "" {
			w.Header().Set("Location", location+r.URL.RequestURI())
		}
		jsonAnswer(http.StatusTemporaryRedirect, fmt.Sprintf(`{"error":"not leader","leader":%q}`, id))(w, r)
	}
}

var noLeader = jsonAnswer(http.StatusServiceUnavailable, `{"error":"no leader"}`)

// cluster starts fake nodes n1..nN, all answering with h.
func cluster(t *testing.T, n int, h http.HandlerFunc) ([]*fakeNode, map[string]string) {
	var nodes []*fakeNode
	addrs := map[string]string{}
	for i := 1; i <= n; i++ {
		fn := newFakeNode(t, fmt.Sprintf("n%d", i), h)
		nodes = append(nodes, fn)
		addrs[fn.id] = fn.addr()
	}
	return nodes, addrs
}

// refusedAddr is a loopback address where nothing listens.
func refusedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := l.Addr().String()
	l.Close()
	return a
}

// testTimeout is long enough that a loaded machine never turns an answer
// into a timeout; tests of timeouts set their own.
const testTimeout = time.Minute

func asError(t *testing.T, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *client.Error", err, err)
	}
	return e
}

func TestRedirectResolvedByLeaderIDThroughTheMap(t *testing.T) {
	nodes, addrs := cluster(t, 3, ok200)
	// Location names a cluster-internal address the host cannot reach.
	nodes[0].set(redirectTo("n2", "http://n2:8080"))
	c := New(addrs, Options{Timeout: testTimeout, ClientID: "cli"})
	c.Prefer("n1")
	node, err := c.Put(context.Background(), "k", 42)
	if err != nil || node != "n2" {
		t.Fatalf("Put = %q, %v; want answered by n2", node, err)
	}
	r1, r2 := nodes[0].requests(), nodes[1].requests()
	if len(r1) != 1 || len(r2) != 1 {
		t.Fatalf("requests: n1 %d, n2 %d; want 1 each", len(r1), len(r2))
	}
	if r1[0].seq != r2[0].seq || r2[0].seq == "" || r2[0].clientID != "cli" {
		t.Fatalf("attempts of one operation: n1 seq %q, n2 seq %q client %q", r1[0].seq, r2[0].seq, r2[0].clientID)
	}
	if r2[0].method != http.MethodPut || r2[0].path != "/kv/k" || r2[0].body["value"] != json.Number("42") {
		t.Fatalf("n2 saw %+v", r2[0])
	}
	if c.Leader() != "n2" {
		t.Fatalf("Leader() = %q, want n2", c.Leader())
	}
	// Without a preference the next operation goes straight to the leader.
	c.Prefer("")
	if _, err := c.Put(context.Background(), "k", 43); err != nil {
		t.Fatal(err)
	}
	if len(nodes[0].requests()) != 1 || len(nodes[1].requests()) != 2 {
		t.Fatal("second operation did not go straight to the known leader")
	}
	r2 = nodes[1].requests()
	if r2[1].seq == r2[0].seq {
		t.Fatalf("two operations share seq %s", r2[0].seq)
	}
}

func TestRedirectToLoopbackLocationWhenLeaderUnknown(t *testing.T) {
	leader := newFakeNode(t, "n9", ok200)
	follower := newFakeNode(t, "n1", redirectTo("n9", leader.srv.URL))
	c := New(map[string]string{"n1": follower.addr()}, Options{Timeout: testTimeout})
	node, err := c.Put(context.Background(), "k", "v")
	if err != nil || node != "n9" {
		t.Fatalf("Put = %q, %v; want answered by n9 via Location", node, err)
	}
	if len(leader.requests()) != 1 {
		t.Fatal("Location was not followed")
	}
}

func TestUnfollowableRedirectIsDefinite(t *testing.T) {
	nodes, addrs := cluster(t, 3, redirectTo("n7", "http://10.1.2.3:8080"))
	c := New(addrs, Options{Timeout: testTimeout})
	_, err := c.Put(context.Background(), "k", 1)
	e := asError(t, err)
	if !e.Definite || e.Status != http.StatusTemporaryRedirect || !strings.Contains(e.Msg, "cannot be followed") {
		t.Fatalf("error %+v, want a definite unfollowable redirect", e)
	}
	if !IsDefinite(err) {
		t.Fatal("IsDefinite = false")
	}
	for _, n := range nodes {
		if len(n.requests()) != 1 {
			t.Fatalf("node %s got %d requests, want 1 (each node tried once)", n.id, len(n.requests()))
		}
	}
}

func TestNoLeaderIsRetriedElsewhereWithTheSameSeq(t *testing.T) {
	nodes, addrs := cluster(t, 3, noLeader)
	c := New(addrs, Options{Timeout: testTimeout})
	_, err := c.Put(context.Background(), "k", 1)
	e := asError(t, err)
	if !e.Definite || e.Status != http.StatusServiceUnavailable || e.Msg != "no leader" {
		t.Fatalf("error %+v, want definite 503 no leader", e)
	}
	seqs := map[string]bool{}
	total := 0
	for _, n := range nodes {
		for _, r := range n.requests() {
			seqs[r.seq] = true
			total++
		}
	}
	if total != 3 || len(seqs) != 1 {
		t.Fatalf("%d attempts with seqs %v; want 3 attempts (MaxAttempts default) sharing one seq", total, seqs)
	}

	// Once one node leads, the operation succeeds there.
	nodes[2].set(ok200)
	node, err := c.Put(context.Background(), "k", 2)
	if err != nil || node != "n3" {
		t.Fatalf("Put = %q, %v; want success on n3", node, err)
	}
}

func TestMaxAttemptsOption(t *testing.T) {
	nodes, addrs := cluster(t, 5, noLeader)
	c := New(addrs, Options{Timeout: testTimeout, MaxAttempts: 2})
	if _, err := c.Put(context.Background(), "k", 1); !IsDefinite(err) {
		t.Fatalf("err %v", err)
	}
	total := 0
	for _, n := range nodes {
		total += len(n.requests())
	}
	if total != 2 {
		t.Fatalf("%d attempts, want MaxAttempts=2", total)
	}
	// The default follows the number of nodes.
	c = New(addrs, Options{Timeout: testTimeout})
	c.Put(context.Background(), "k", 1)
	total = 0
	for _, n := range nodes {
		total += len(n.requests())
	}
	if total != 2+5 {
		t.Fatalf("%d attempts in total, want 2+5", total)
	}
}

func TestConnectionRefusedIsDefiniteAndRetried(t *testing.T) {
	good := newFakeNode(t, "n2", ok200)
	c := New(map[string]string{"n1": refusedAddr(t), "n2": good.addr()}, Options{Timeout: testTimeout})
	c.Prefer("n1")
	node, err := c.Put(context.Background(), "k", 1)
	if err != nil || node != "n2" {
		t.Fatalf("Put = %q, %v; want retried on n2", node, err)
	}
	c = New(map[string]string{"n1": refusedAddr(t)}, Options{Timeout: testTimeout})
	_, err = c.Put(context.Background(), "k", 1)
	if e := asError(t, err); !e.Definite || e.Node != "n1" {
		t.Fatalf("all nodes refusing: %+v, want definite", e)
	}
}

func TestTimeoutIsIndefiniteAndNotRetried(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	hang := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}
	nodes, addrs := cluster(t, 3, hang)
	c := New(addrs, Options{Timeout: 50 * time.Millisecond})
	_, err := c.Put(context.Background(), "k", 1)
	e := asError(t, err)
	if e.Definite || IsDefinite(err) || !strings.Contains(e.Msg, "no answer within") {
		t.Fatalf("timeout gave %+v, want indefinite", e)
	}
	total := 0
	for _, n := range nodes {
		total += len(n.requests())
	}
	if total != 1 {
		t.Fatalf("an indefinite failure was retried: %d attempts", total)
	}
	// The caller giving up is indefinite too once the request is out.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for total < 2 {
			time.Sleep(time.Millisecond)
			total = 0
			for _, n := range nodes {
				total += len(n.requests())
			}
		}
		cancel()
	}()
	c = New(addrs, Options{Timeout: time.Minute})
	if _, err := c.Put(ctx, "k", 1); IsDefinite(err) || err == nil {
		t.Fatalf("cancelled after sending: %v, want indefinite", err)
	}
	// Cancelled before anything was sent: definite.
	if _, err := c.Put(ctx, "k", 1); !IsDefinite(err) {
		t.Fatalf("cancelled before sending: %v, want definite", err)
	}
}

func TestStatusClassification(t *testing.T) {
	cases := []struct {
		status   int
		definite bool
		attempts int
	}{
		{http.StatusGatewayTimeout, false, 1},
		{http.StatusInternalServerError, false, 1},
		{http.StatusBadGateway, false, 1},
		{http.StatusConflict, true, 1},   // refused by the state machine: not retried
		{http.StatusBadRequest, true, 1}, // refused as it stands
		{http.StatusServiceUnavailable, true, 3},
	}
	for _, tc := range cases {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			nodes, addrs := cluster(t, 3, jsonAnswer(tc.status, `{"error":"because"}`))
			c := New(addrs, Options{Timeout: testTimeout})
			_, _, err := c.Append(context.Background(), "k", 1)
			e := asError(t, err)
			if e.Definite != tc.definite || e.Status != tc.status || e.Msg != "because" {
				t.Fatalf("got %+v, want definite=%v status %d msg because", e, tc.definite, tc.status)
			}
			total := 0
			for _, n := range nodes {
				total += len(n.requests())
			}
			if total != tc.attempts {
				t.Fatalf("%d attempts, want %d", total, tc.attempts)
			}
		})
	}
}

func TestBrokenConnectionAfterRequestIsIndefinite(t *testing.T) {
	cut := func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}
	nodes, addrs := cluster(t, 3, cut)
	c := New(addrs, Options{Timeout: testTimeout})
	_, err := c.Put(context.Background(), "k", 1)
	if e := asError(t, err); e.Definite {
		t.Fatalf("connection cut after the request: %+v, want indefinite", e)
	}
	total := 0
	for _, n := range nodes {
		total += len(n.requests())
	}
	if total != 1 {
		t.Fatalf("%d attempts, want 1", total)
	}
}

func TestGetFoundAbsentAndLocal(t *testing.T) {
	n := newFakeNode(t, "n1", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("key") == "" && strings.HasSuffix(r.URL.Path, "/missing") {
			jsonAnswer(404, `{"error":"not found"}`)(w, r)
			return
		}
		jsonAnswer(200, `{"value":9007199254740993}`)(w, r)
	})
	c := New(map[string]string{"n1": n.addr()}, Options{Timeout: testTimeout})
	v, found, node, err := c.Get(context.Background(), "k", false)
	if err != nil || !found || node != "n1" || v != json.Number("9007199254740993") {
		t.Fatalf("Get = %#v %v %q %v", v, found, node, err)
	}
	v, found, _, err = c.Get(context.Background(), "missing", false)
	if err != nil || found || v != nil {
		t.Fatalf("Get of an absent key = %v %v %v; want found=false, no error", v, found, err)
	}
	if _, _, _, err := c.Get(context.Background(), "k", true); err != nil {
		t.Fatal(err)
	}
	reqs := n.requests()
	last := reqs[len(reqs)-1]
	if last.query != "read=local" || last.seq != "" || last.clientID != "" {
		t.Fatalf("local read sent %+v; want ?read=local and no session headers", last)
	}
}

func TestKeyIsEscapedAsOnePathSegment(t *testing.T) {
	var got string
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /kv/{key}", func(w http.ResponseWriter, r *http.Request) {
		got = r.PathValue("key")
		ok200(w, r)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := New(map[string]string{"n1": strings.TrimPrefix(srv.URL, "http://")}, Options{Timeout: testTimeout})
	if _, err := c.Put(context.Background(), "a/b c?d", 1); err != nil {
		t.Fatal(err)
	}
	if got != "a/b c?d" {
		t.Fatalf("server saw key %q", got)
	}
	if _, err := c.Put(context.Background(), "", 1); !IsDefinite(err) {
		t.Fatalf("empty key: %v", err)
	}
}

func TestCasAppendDeleteBodiesAndAnswers(t *testing.T) {
	n := newFakeNode(t, "n1", nil)
	c := New(map[string]string{"n1": n.addr()}, Options{Timeout: testTimeout})
	ctx := context.Background()

	n.set(jsonAnswer(200, `{"ok":false}`))
	swapped, _, err := c.Cas(ctx, "k", nil, 5)
	if err != nil || swapped {
		t.Fatalf("Cas = %v, %v; want not swapped, no error", swapped, err)
	}
	r := n.requests()[0]
	if exp, present := r.body["expect"]; !present || exp != nil || r.body["value"] != json.Number("5") || r.path != "/kv/k/cas" {
		t.Fatalf("cas request %+v; want expect null sent explicitly", r)
	}
	n.set(jsonAnswer(200, `{"ok":true}`))
	if swapped, _, err := c.Cas(ctx, "k", 5, 6); err != nil || !swapped {
		t.Fatalf("Cas = %v, %v", swapped, err)
	}
	n.set(jsonAnswer(200, `{}`))
	if _, _, err := c.Cas(ctx, "k", 5, 6); err == nil || IsDefinite(err) {
		t.Fatalf("cas answer without ok: %v, want an indefinite error", err)
	}

	n.set(jsonAnswer(200, `{"value":[1,"x",2]}`))
	list, _, err := c.Append(ctx, "l", 2)
	if err != nil || !reflect.DeepEqual(list, []any{json.Number("1"), "x", json.Number("2")}) {
		t.Fatalf("Append = %v, %v", list, err)
	}
	if r := n.requests()[3]; r.path != "/kv/l/append" || r.method != http.MethodPost {
		t.Fatalf("append request %+v", r)
	}

	n.set(jsonAnswer(200, `{"ok":true,"found":false}`))
	if _, err := c.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	reqs := n.requests()
	if d := reqs[len(reqs)-1]; d.method != http.MethodDelete || d.body != nil || d.seq == "" {
		t.Fatalf("delete request %+v; want DELETE with session headers and no body", d)
	}
}

func TestRetryIndefiniteResendsTheSameSeq(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	h := func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		first := calls == 1
		mu.Unlock()
		if first {
			jsonAnswer(http.StatusGatewayTimeout, `{"error":"timeout: outcome unknown"}`)(w, r)
			return
		}
		jsonAnswer(200, `{"value":[7]}`)(w, r)
	}
	nodes, addrs := cluster(t, 1, h)
	c := New(addrs, Options{Timeout: testTimeout, RetryIndefinite: 1})
	list, _, err := c.Append(context.Background(), "l", 7)
	if err != nil || len(list) != 1 {
		t.Fatalf("Append = %v, %v", list, err)
	}
	reqs := nodes[0].requests()
	if len(reqs) != 2 || reqs[0].seq != reqs[1].seq {
		t.Fatalf("re-sent attempts %+v; want 2 with one seq", reqs)
	}

	// An indefinite attempt followed by definite failures stays indefinite.
	mu.Lock()
	calls = 0
	mu.Unlock()
	nodes[0].set(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		first := calls == 1
		mu.Unlock()
		if first {
			jsonAnswer(http.StatusGatewayTimeout, `{"error":"timeout"}`)(w, r)
			return
		}
		noLeader(w, r)
	})
	_, _, err = c.Append(context.Background(), "l", 8)
	if e := asError(t, err); e.Definite || !strings.Contains(e.Msg, "earlier attempt") {
		t.Fatalf("got %+v; want indefinite because of the first attempt", e)
	}
}

func TestNonLoopbackAddressIsNeverDialed(t *testing.T) {
	c := New(map[string]string{"n1": "192.0.2.1:80"}, Options{Timeout: testTimeout})
	_, err := c.Put(context.Background(), "k", 1)
	e := asError(t, err)
	if !e.Definite || !strings.Contains(e.Msg, "not a loopback address") {
		t.Fatalf("got %+v; want a definite refusal to dial", e)
	}
}

func TestAdminCalls(t *testing.T) {
	nodes, addrs := cluster(t, 2, ok200)
	nodes[0].set(jsonAnswer(200, `{"id":"n1","role":"follower","term":4,"leader":"n2","commit":10,"applied":9,
		"config":{"voters":["n1","n2"],"learners":["n3"],"joint":true},"clock":{"offset_ms":-250,"rate":1.5},"extra":1}`))
	c := New(addrs, Options{Timeout: testTimeout})
	ctx := context.Background()
	st, err := c.Status(ctx, "n1")
	if err != nil {
		t.Fatal(err)
	}
	if st.ID != "n1" || st.Role != "follower" || st.Term != 4 || st.Leader != "n2" || st.Commit != 10 || st.Applied != 9 ||
		!reflect.DeepEqual(st.Config.Voters, []string{"n1", "n2"}) || !st.Config.Joint || st.Config.Learners[0] != "n3" ||
		st.Clock.OffsetMs != -250 || st.Clock.Rate != 1.5 {
		t.Fatalf("status %+v", st)
	}
	if _, err := c.Status(ctx, "n9"); !IsDefinite(err) || !strings.Contains(err.Error(), "unknown node") {
		t.Fatalf("status of an unknown node: %v", err)
	}

	// Membership changes follow the redirect to the leader.
	nodes[0].set(redirectTo("n2", ""))
	c.Prefer("n1")
	if err := c.AddMember(ctx, "n3", "n3:7000"); err != nil {
		t.Fatal(err)
	}
	r := nodes[1].requests()
	if len(r) != 1 || r[0].path != "/admin/members" || r[0].body["add"] != "n3=n3:7000" {
		t.Fatalf("leader saw %+v", r)
	}
	if err := c.RemoveMember(ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	if r := nodes[1].requests(); r[1].body["remove"] != "n1" {
		t.Fatalf("remove request %+v", r[1])
	}
	if err := c.AddMember(ctx, "n=3", "x:1"); !IsDefinite(err) {
		t.Fatalf("bad member id accepted: %v", err)
	}
	if err := c.ReplaceMember(ctx, "n4", "n4:7000", "n1"); err != nil {
		t.Fatal(err)
	}
	if r := nodes[1].requests(); r[2].body["add"] != "n4=n4:7000" || r[2].body["remove"] != "n1" {
		t.Fatalf("replace request %+v", r[2])
	}
	if err := c.ReplaceMember(ctx, "n4", "n4:7000", ""); !IsDefinite(err) {
		t.Fatalf("replacement without a removed id accepted: %v", err)
	}

	// Clock faults go to the named node only, even when it is no leader.
	nodes[0].set(ok200)
	if err := c.SetClock(ctx, "n1", 300, 0.5); err != nil {
		t.Fatal(err)
	}
	reqs := nodes[0].requests()
	last := reqs[len(reqs)-1]
	if last.path != "/fault/clock" || last.body["offset_ms"] != json.Number("300") || last.body["rate"] != json.Number("0.5") {
		t.Fatalf("clock request %+v", last)
	}
	nodes[0].set(jsonAnswer(404, `404 page not found`))
	if err := c.SetClock(ctx, "n1", 1, 1); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("clock fault on a node without fault injection: %v", err)
	}

	// Slow-node faults too, with every delay in the body.
	nodes[0].set(ok200)
	if err := c.SetSlow(ctx, "n1", Slow{ApplyMs: 1500}); err != nil {
		t.Fatal(err)
	}
	reqs = nodes[0].requests()
	last = reqs[len(reqs)-1]
	if last.path != "/fault/slow" || last.body["apply_ms"] != json.Number("1500") ||
		last.body["fsync_ms"] != json.Number("0") || last.body["net_ms"] != json.Number("0") {
		t.Fatalf("slow request %+v", last)
	}
}

func TestAddressMapChanges(t *testing.T) {
	nodes, addrs := cluster(t, 2, ok200)
	c := New(map[string]string{"n1": addrs["n1"]}, Options{Timeout: testTimeout})
	c.SetAddr("n2", addrs["n2"])
	c.Prefer("n2")
	if node, err := c.Put(context.Background(), "k", 1); err != nil || node != "n2" {
		t.Fatalf("Put = %q, %v; want n2 (added, preferred)", node, err)
	}
	c.RemoveAddr("n2")
	if node, err := c.Put(context.Background(), "k", 1); err != nil || node != "n1" {
		t.Fatalf("Put = %q, %v; want n1 after n2 was removed", node, err)
	}
	if got := c.Nodes(); !reflect.DeepEqual(got, []string{"n1"}) {
		t.Fatalf("Nodes = %v", got)
	}
	if len(nodes[1].requests()) != 1 {
		t.Fatal("a removed node was still tried")
	}
}

func TestConcurrentOperationsGetDistinctSeqs(t *testing.T) {
	nodes, addrs := cluster(t, 1, ok200)
	c := New(addrs, Options{Timeout: testTimeout})
	const workers, each = 64, 5
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if _, err := c.Put(context.Background(), "k", 1); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	seqs := map[string]bool{}
	for _, r := range nodes[0].requests() {
		seqs[r.seq] = true
	}
	if len(seqs) != workers*each {
		t.Fatalf("%d distinct seqs for %d operations", len(seqs), workers*each)
	}
}

func TestSeqAckIsTheLowestUnansweredSeq(t *testing.T) {
	release := make(chan struct{})
	n := newFakeNode(t, "n1", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/slow") {
			<-release
		}
		ok200(w, r)
	})
	c := New(map[string]string{"n1": n.addr()}, Options{Timeout: time.Minute})
	ctx := context.Background()
	c.Put(ctx, "a", 1)
	c.Put(ctx, "b", 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Put(ctx, "slow", 1) // seq 3 stays unanswered
	}()
	for len(n.requests()) < 3 {
		time.Sleep(time.Millisecond)
	}
	c.Put(ctx, "c", 1) // seq 4
	close(release)
	<-done
	c.Put(ctx, "d", 1) // seq 5, nothing else in flight

	acks := map[string]string{}
	for _, r := range n.requests() {
		acks[r.path] = r.seq + "/" + r.headerAck
	}
	want := map[string]string{"/kv/a": "1/1", "/kv/b": "2/2", "/kv/slow": "3/3", "/kv/c": "4/3", "/kv/d": "5/5"}
	if !reflect.DeepEqual(acks, want) {
		t.Fatalf("seq/ack per request %v, want %v", acks, want)
	}
}
