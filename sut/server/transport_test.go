package server

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/faultline/faultline/sut/raft"
)

// streamReceiver is a real HTTP server running the receiving half of the
// transport, recording what arrives and from which source address.
type streamReceiver struct {
	mu      sync.Mutex
	got     []raft.Message
	sources map[string]bool
	srv     *http.Server
	ln      net.Listener
}

func newStreamReceiver(t *testing.T, addr string) *streamReceiver {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	r := &streamReceiver{sources: map[string]bool{}, ln: ln}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		host, _, _ := net.SplitHostPort(req.RemoteAddr)
		r.mu.Lock()
		r.sources[host] = true
		r.mu.Unlock()
		serveStream(w, req, func(m raft.Message) bool {
			r.mu.Lock()
			r.got = append(r.got, m)
			r.mu.Unlock()
			return true
		}, log)
	})}
	go r.srv.Serve(ln)
	t.Cleanup(func() { r.srv.Close() })
	return r
}

func (r *streamReceiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
	}
}

func TestTransportStreamsFromTheListenIP(t *testing.T) {
	recv := newStreamReceiver(t, "127.0.0.1:0")
	addr := recv.ln.Addr().String()
	tr := newHTTPTransport("n1", net.ParseIP("127.0.0.2"), func(id string) (string, bool) { return addr, id == "n2" },
		func() string { return "127.0.0.2:7001" }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer tr.Close()

	var batch []raft.Message
	for i := uint64(1); i <= 500; i++ {
		batch = append(batch, raft.Message{Type: raft.MsgApp, From: "n1", To: "n2", Term: 1, Index: i,
			Entries: []raft.Entry{{Term: 1, Index: i + 1, Data: []byte("payload")}}})
	}
	// Messages to a peer with no known address are dropped without blocking.
	tr.Send([]raft.Message{{Type: raft.MsgApp, From: "n1", To: "nowhere"}})
	tr.Send(batch)
	waitFor(t, "500 messages delivered", func() bool { return recv.count() == 500 })
	recv.mu.Lock()
	defer recv.mu.Unlock()
	for i, m := range recv.got {
		if m.Index != uint64(i+1) {
			t.Fatalf("message %d carries index %d: the link reordered messages", i, m.Index)
		}
	}
	if len(recv.sources) != 1 || !recv.sources["127.0.0.2"] {
		t.Fatalf("streams came from %v, want only 127.0.0.2 (the --listen IP)", recv.sources)
	}
}

func TestTransportReconnectsAfterPeerRestart(t *testing.T) {
	recv := newStreamReceiver(t, "127.0.0.1:0")
	addr := recv.ln.Addr().String()
	tr := newHTTPTransport("n1", nil, func(string) (string, bool) { return addr, true },
		func() string { return "" }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer tr.Close()
	msg := raft.Message{Type: raft.MsgHeartbeat, From: "n1", To: "n2", Term: 1}
	tr.Send([]raft.Message{msg})
	waitFor(t, "first delivery", func() bool { return recv.count() == 1 })

	recv.srv.Close() // the peer dies
	again := newStreamReceiver(t, addr)
	// Raft resends; so does this test, until the link is back.
	waitFor(t, "delivery after the peer restarted", func() bool {
		tr.Send([]raft.Message{msg})
		time.Sleep(10 * time.Millisecond)
		return again.count() > 0
	})
}

// Something that accepts and closes at once (a proxy in front of a dead
// peer) must not make the link spin: it backs off like a refused dial.
func TestTransportBacksOffFromAcceptAndClose(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted atomic.Int64
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			conn.Close()
		}
	}()
	tr := newHTTPTransport("n1", nil, func(string) (string, bool) { return ln.Addr().String(), true },
		func() string { return "" }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	tr.Send([]raft.Message{{Type: raft.MsgHeartbeat, From: "n1", To: "n2"}})
	time.Sleep(500 * time.Millisecond)
	tr.Close()
	// Backing off from 50ms doubles to at most ~5 attempts in 500ms; a
	// spinning link makes thousands.
	if n := accepted.Load(); n < 1 || n > 20 {
		t.Fatalf("%d connections in 500ms, want a handful", n)
	}
}
