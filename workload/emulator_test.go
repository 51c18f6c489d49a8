package workload

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/faultline/faultline/history"
)

// answer is what the emulator does with one request.
type answer int

const (
	serve       answer = iota // behave like a healthy leader
	unavailable               // 503 {"error":"no leader"}
	hang                      // never answer (until the client gives up)
	casMismatch               // cas answers {"ok": false}
)

// emulator answers like raftd's client API (docs/raftd-api.md) over an in-memory
// store, so the recording clients can be tested without a cluster. decide
// picks the answer per request; the default serves everything.
type emulator struct {
	srv    *httptest.Server
	decide func(r *http.Request) answer

	requests  atomic.Int64
	localSeen atomic.Int64 // GETs with ?read=local
	mu        sync.Mutex
	store     map[string]any
	clientIDs map[string]bool
	sends     map[string]int // "client-id/seq" -> times that write was sent
	closing   chan struct{}  // closed at cleanup: releases hung requests
}

func newEmulator(t testing.TB, decide func(r *http.Request) answer) *emulator {
	t.Helper()
	e := &emulator{decide: decide, store: map[string]any{}, clientIDs: map[string]bool{}, sends: map[string]int{}, closing: make(chan struct{})}
	e.srv = httptest.NewServer(http.HandlerFunc(e.handle))
	t.Cleanup(func() {
		close(e.closing)
		e.srv.Close()
	})
	return e
}

func (e *emulator) addr() string { return strings.TrimPrefix(e.srv.URL, "http://") }

func (e *emulator) handle(w http.ResponseWriter, r *http.Request) {
	e.requests.Add(1)
	if r.URL.Query().Get("read") == "local" {
		e.localSeen.Add(1)
	}
	e.mu.Lock()
	e.clientIDs[r.Header.Get("X-Client-Id")] = true
	if seq := r.Header.Get("X-Seq"); seq != "" {
		e.sends[r.Header.Get("X-Client-Id")+"/"+seq]++
	}
	e.mu.Unlock()
	a := serve
	if e.decide != nil {
		a = e.decide(r)
	}
	switch a {
	case unavailable:
		reply(w, http.StatusServiceUnavailable, map[string]any{"error": "no leader"})
		return
	case hang:
		// Drain the body first: only then does the server notice that the
		// client hung up and cancel the request's context.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-e.closing:
		}
		return
	}
	key, op, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/kv/"), "/")
	var body struct {
		Value  any `json:"value"`
		Expect any `json:"expect"`
	}
	if r.Method != http.MethodGet {
		dec := json.NewDecoder(r.Body)
		dec.UseNumber()
		if err := dec.Decode(&body); err != nil {
			reply(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
			return
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	cur, found := e.store[key]
	switch {
	case r.Method == http.MethodGet:
		if !found {
			reply(w, http.StatusNotFound, map[string]any{"error": "not found"})
			return
		}
		reply(w, http.StatusOK, map[string]any{"value": cur})
	case r.Method == http.MethodPut:
		e.store[key] = body.Value
		reply(w, http.StatusOK, map[string]any{})
	case op == "cas":
		ok := a != casMismatch && found && history.ValueKey(cur) == history.ValueKey(body.Expect)
		if ok {
			e.store[key] = body.Value
		}
		reply(w, http.StatusOK, map[string]any{"ok": ok})
	case op == "append":
		list, _ := cur.([]any)
		list = append(list, body.Value)
		e.store[key] = list
		reply(w, http.StatusOK, map[string]any{"value": list})
	default:
		reply(w, http.StatusNotFound, map[string]any{"error": "no such call"})
	}
}

func reply(w http.ResponseWriter, code int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}
