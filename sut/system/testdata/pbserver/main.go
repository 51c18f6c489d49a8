// Command pbserver is a deliberately weak primary-backup key-value store
// that speaks Faultline's HTTP protocol (docs/sut-protocol.md). It exists to
// show that `checker run --system http` catches the bugs of a server that is
// not raftd:
//
//   - replication is asynchronous: the primary acknowledges a write at once
//     and ships its whole state to the backups every 50 ms;
//   - backups answer reads from their own copy, however old;
//   - a backup that has not heard from a primary for a while promotes
//     itself with a higher epoch, and the old primary steps down only when
//     it hears of it, so writes the old primary acknowledged but had not
//     shipped are lost.
//
// It is not a model to copy. Flags: --id, --listen, --peers id=host:port,...
// (every node, itself included), --data (unused: state is in memory).
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

const (
	shipEvery       = 50 * time.Millisecond
	primaryTimeout  = 600 * time.Millisecond // silence before a backup promotes
	promotionStride = 300 * time.Millisecond // extra wait per rank, so backups rarely race
)

type server struct {
	id    string
	peers map[string]string // id -> address, itself included
	order []string          // ids sorted: rank decides who promotes first
	http  *http.Client

	mu        sync.Mutex
	epoch     uint64
	primary   string
	version   uint64 // writes applied by the primary of this copy
	store     map[string]any
	lastHeard time.Time
}

// snapshot is what a primary ships: its whole state.
type snapshot struct {
	Epoch   uint64         `json:"epoch"`
	Primary string         `json:"primary"`
	Version uint64         `json:"version"`
	Store   map[string]any `json:"store"`
}

func main() {
	id := flag.String("id", "", "node id")
	listen := flag.String("listen", "", "host:port for clients and peers")
	peersFlag := flag.String("peers", "", "id=host:port,... of every node")
	flag.String("data", "", "data directory (unused)")
	flag.Parse()
	peers := map[string]string{}
	for _, p := range strings.Split(*peersFlag, ",") {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			log.Fatalf("--peers entry %q: want id=host:port", p)
		}
		peers[k] = v
	}
	if *id == "" || *listen == "" || peers[*id] == "" {
		log.Fatal("--id, --listen and --peers (including this node) are required")
	}
	host, _, err := net.SplitHostPort(*listen)
	if err != nil {
		log.Fatalf("--listen: %v", err)
	}
	s := &server{id: *id, peers: peers, store: map[string]any{}, lastHeard: time.Now()}
	for k := range peers {
		s.order = append(s.order, k)
	}
	slices.Sort(s.order)
	s.primary = s.order[0]
	s.http = peerClient(host)
	go s.run()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /kv/{key}", s.get)
	mux.HandleFunc("PUT /kv/{key}", s.put)
	mux.HandleFunc("POST /kv/{key}/cas", s.cas)
	mux.HandleFunc("POST /kv/{key}/append", s.appendTo)
	mux.HandleFunc("GET /admin/status", s.status)
	mux.HandleFunc("POST /internal/ship", s.receive)
	log.Printf("pbserver %s on %s, peers %v", *id, *listen, peers)
	log.Fatal(http.ListenAndServe(*listen, mux))
}

// peerClient dials peers from this node's own IP, as the protocol asks, so
// that the process runtime can tell who is talking.
func peerClient(host string) *http.Client {
	d := &net.Dialer{Timeout: 200 * time.Millisecond}
	if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
		d.LocalAddr = &net.TCPAddr{IP: ip}
	}
	return &http.Client{Timeout: 300 * time.Millisecond, Transport: &http.Transport{DialContext: d.DialContext}}
}

// run ships the state while primary and promotes after a silence.
func (s *server) run() {
	for range time.Tick(shipEvery) {
		s.mu.Lock()
		isPrimary := s.primary == s.id
		silent := time.Since(s.lastHeard)
		rank := slices.Index(s.order, s.id)
		if !isPrimary && silent > primaryTimeout+time.Duration(rank)*promotionStride {
			s.epoch++
			s.primary = s.id
			isPrimary = true
			log.Printf("promoted to primary, epoch %d", s.epoch)
		}
		var snap snapshot
		if isPrimary {
			snap = snapshot{Epoch: s.epoch, Primary: s.id, Version: s.version, Store: cloneStore(s.store)}
		}
		s.mu.Unlock()
		if isPrimary {
			s.ship(snap)
		}
	}
}

func (s *server) ship(snap snapshot) {
	body, _ := json.Marshal(snap)
	for _, id := range s.order {
		if id == s.id {
			continue
		}
		go func() {
			resp, err := s.http.Post("http://"+s.peers[id]+"/internal/ship", "application/json", bytes.NewReader(body))
			if err != nil {
				return
			}
			defer resp.Body.Close()
			var back snapshot
			if resp.StatusCode == http.StatusConflict && json.NewDecoder(resp.Body).Decode(&back) == nil {
				s.adopt(back) // a newer primary exists: step down
			}
		}()
	}
}

// receive takes a primary's state when its epoch is not older than ours.
func (s *server) receive(w http.ResponseWriter, r *http.Request) {
	var snap snapshot
	if err := json.NewDecoder(r.Body).Decode(&snap); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	if s.outranks(snap) {
		mine := snapshot{Epoch: s.epoch, Primary: s.primary}
		s.mu.Unlock()
		reply(w, http.StatusConflict, mine)
		return
	}
	s.mu.Unlock()
	s.adopt(snap)
	reply(w, http.StatusOK, map[string]any{})
}

// outranks reports whether this node's view beats snap's: a newer epoch,
// or, when two backups promoted themselves into the same epoch, the lower
// id. Called with s.mu held.
func (s *server) outranks(snap snapshot) bool {
	return snap.Epoch < s.epoch || (snap.Epoch == s.epoch && s.primary == s.id && snap.Primary > s.id)
}

// adopt follows snap's primary and takes its state when it carries one.
func (s *server) adopt(snap snapshot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.outranks(snap) {
		return
	}
	if snap.Epoch > s.epoch && s.primary == s.id {
		log.Printf("stepping down: %s is primary in epoch %d", snap.Primary, snap.Epoch)
	}
	s.epoch, s.primary = snap.Epoch, snap.Primary
	if snap.Store != nil {
		s.store, s.version = snap.Store, snap.Version
	}
	s.lastHeard = time.Now()
}

func cloneStore(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func reply(w http.ResponseWriter, code int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}

// get answers from this node's copy, primary or not: the bug that makes
// stale reads.
func (s *server) get(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	v, ok := s.store[r.PathValue("key")]
	s.mu.Unlock()
	if !ok {
		reply(w, http.StatusNotFound, map[string]string{"error": "not found"})
		return
	}
	reply(w, http.StatusOK, map[string]any{"value": v})
}

// onPrimary runs f on the request's body under the lock when this node is
// primary; otherwise it redirects to the primary (a definite failure for
// the client). The write is acknowledged before any backup has it.
func (s *server) onPrimary(w http.ResponseWriter, r *http.Request, f func(value, expect any) (int, any)) {
	var body struct {
		Value  any `json:"value"`
		Expect any `json:"expect"`
	}
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		reply(w, http.StatusBadRequest, map[string]string{"error": "body: " + err.Error()})
		return
	}
	s.mu.Lock()
	if s.primary != s.id {
		primary := s.primary
		s.mu.Unlock()
		w.Header().Set("X-Leader-Id", primary)
		w.Header().Set("Location", "http://"+s.peers[primary]+r.URL.Path)
		reply(w, http.StatusTemporaryRedirect, map[string]string{"error": "not primary", "leader": primary})
		return
	}
	code, out := f(body.Value, body.Expect)
	s.version++
	s.mu.Unlock()
	reply(w, code, out)
}

func (s *server) put(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	s.onPrimary(w, r, func(value, _ any) (int, any) {
		s.store[key] = value
		return http.StatusOK, map[string]any{}
	})
}

func (s *server) cas(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	s.onPrimary(w, r, func(value, expect any) (int, any) {
		cur, ok := s.store[key]
		if !ok || fmt.Sprint(cur) != fmt.Sprint(expect) {
			return http.StatusOK, map[string]any{"ok": false}
		}
		s.store[key] = value
		return http.StatusOK, map[string]any{"ok": true}
	})
}

func (s *server) appendTo(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	s.onPrimary(w, r, func(value, _ any) (int, any) {
		list, _ := s.store[key].([]any)
		list = append(slices.Clone(list), value)
		s.store[key] = list
		return http.StatusOK, map[string]any{"value": list}
	})
}

func (s *server) status(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	role := "follower"
	if s.primary == s.id {
		role = "leader"
	}
	reply(w, http.StatusOK, map[string]any{
		"id": s.id, "role": role, "term": s.epoch, "leader": s.primary,
		"commit": s.version, "applied": s.version,
		"config": map[string]any{"voters": s.order, "learners": []string{}, "joint": false},
	})
}
