package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/faultline/faultline/sut/kv"
	"github.com/faultline/faultline/sut/raft"
)

// The HTTP API (docs/raftd-api.md), with the answers this server gives:
//
//	GET    /kv/{key}           200 {"value": v} | 404 {"error":"not found"}; ?read=local serves local state on any node
//	PUT    /kv/{key}           {"value": v} -> 200 {"ok": true}
//	DELETE /kv/{key}           200 {"ok": true, "found": bool}
//	POST   /kv/{key}/cas       {"expect": a, "value": b} -> 200 {"ok": swapped}
//	POST   /kv/{key}/append    {"value": v} -> 200 {"value": the list after the append}
//	GET    /admin/status       StatusBody
//	POST   /admin/members      {"add": "id=host:port"} | {"remove": "id"} | both (one replacement) -> 200 ConfigBody once C(new) commits
//	POST   /fault/clock        {"offset_ms": n, "rate": r} -> 200 ClockBody (only with --fault-injection; 404 otherwise)
//	POST   /fault/slow         {"fsync_ms": n, "apply_ms": n, "net_ms": n} -> 200 SlowBody; GET answers SlowBody (both only with --fault-injection)
//	POST   /raft/stream        the peer transport (transport.go)
//
// Failures, all {"error": "..."}: 400 bad input (naming the field or
// header); 307 not leader (Location, X-Leader-Id, "leader") and 503 no
// leader, both definite; 409 refused by the state machine ("not a list",
// "stale sequence") or a membership change already in flight, definite;
// 503 a proposal overwritten by another leader or a read dropped, definite;
// 504 outcome unknown (timeout, leadership lost with the write pending).
// Writes carry X-Client-Id and X-Seq into the command's session.

// maxBodyBytes bounds a client request body.
const maxBodyBytes = 1 << 20

// routes maps the HTTP API of docs/raftd-api.md onto the handlers.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /kv/{key}", s.handleGet)
	mux.HandleFunc("PUT /kv/{key}", s.handlePut)
	mux.HandleFunc("DELETE /kv/{key}", s.handleDelete)
	mux.HandleFunc("POST /kv/{key}/cas", s.handleCas)
	mux.HandleFunc("POST /kv/{key}/append", s.handleAppend)
	mux.HandleFunc("GET /admin/status", s.handleStatus)
	mux.HandleFunc("POST /admin/members", s.handleMembers)
	if s.cfg.FaultInjection {
		mux.HandleFunc("POST /fault/clock", s.handleFaultClock)
		mux.HandleFunc("POST /fault/slow", s.handleFaultSlow)
		mux.HandleFunc("GET /fault/slow", s.handleFaultSlowGet)
	} else {
		mux.HandleFunc("/fault/", func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusNotFound, "fault injection is disabled (start raftd with --fault-injection)")
		})
	}
	mux.HandleFunc("POST "+streamPath, s.handleStream)
	// Every answer is JSON, a path no handler takes included.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no endpoint %s %s", r.Method, r.URL.Path))
	})
	return refuseUncleanKeyPaths(mux)
}

// refuseUncleanKeyPaths answers /kv/ with no key, and a /kv/ path that is
// not clean (a "." or ".." segment, an empty one), with a 400 naming the key. Left to the mux, such a
// path gets an HTML redirect to another path, which is another key.
func refuseUncleanKeyPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case p == "/kv/":
			writeError(w, http.StatusBadRequest, "key: empty (the path is /kv/ with no key)")
			return
		case strings.HasPrefix(p, "/kv/") && !isCleanPath(p):
			writeError(w, http.StatusBadRequest, fmt.Sprintf("key: the path %q has a . or .. or empty segment; no URL can carry such a key", p))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// isCleanPath is the mux's own rule: path.Clean changes nothing but a
// trailing slash.
func isCleanPath(p string) bool {
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	return clean == p
}

// apiError is a JSON error body: {"error": "...", "leader": "..."}.
type apiError struct {
	Error  string `json:"error"`
	Leader string `json:"leader,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var b []byte
	var err error
	if raw, ok := v.(json.RawMessage); ok {
		b = append(raw[:len(raw):len(raw)], '\n') // a fixed answer, encoded once
	} else {
		b, err = json.Marshal(v)
		b = append(b, '\n')
	}
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encoding the answer failed"}`+"\n")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, apiError{Error: msg})
}

// writeOutcome answers a failed request; a "not leader" outcome becomes a
// redirect to the leader, or 503 when none is known.
func (s *Server) writeOutcome(w http.ResponseWriter, r *http.Request, o *outcome) {
	if o.status == http.StatusTemporaryRedirect {
		s.redirect(w, r)
		return
	}
	writeError(w, o.status, o.msg)
}

// redirect sends a client to the leader: 307 with Location (the leader's
// address from the configuration) and X-Leader-Id, or 503 without a leader.
// Both are definite failures: nothing was done here.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request) {
	lead := s.status.Load().Lead
	if lead == "" || lead == s.cfg.ID {
		writeError(w, http.StatusServiceUnavailable, "no leader")
		return
	}
	w.Header().Set("X-Leader-Id", lead)
	if addr, ok := s.peerAddr(lead); ok {
		w.Header().Set("Location", "http://"+addr+r.URL.RequestURI())
	}
	writeJSON(w, http.StatusTemporaryRedirect, apiError{Error: "not leader", Leader: lead})
}

func (s *Server) isLeader() bool { return s.status.Load().Role == raft.Leader }

func (s *Server) requestContext(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
}

// bodyFields decodes a JSON object body into its raw fields, naming the
// problem when it is not one.
func bodyFields(w http.ResponseWriter, r *http.Request) (map[string]json.RawMessage, error) {
	b, err := readBody(w, r)
	if err != nil {
		return nil, err
	}
	return bodyFieldsOf(b)
}

// readBody reads a request body of at most maxBodyBytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		return nil, fmt.Errorf("body: %v", err)
	}
	return b, nil
}

// bodyFieldsOf is bodyFields of a body already read.
func bodyFieldsOf(b []byte) (map[string]json.RawMessage, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, errors.New("body: empty, want a JSON object")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return nil, fmt.Errorf("body: not a JSON object: %v", err)
	}
	if fields == nil {
		return nil, errors.New("body: null, want a JSON object")
	}
	if err := exactJSONBody(b); err != nil {
		return nil, err
	}
	return fields, nil
}

// plainValueBody reads the body a client sends to put or append a number
// or a plain string, {"value":v} with no white space and no escapes, without
// encoding/json: on the leader this parse is part of every write. ok is
// false for any other body, which bodyFieldsOf then reads and judges.
func plainValueBody(b []byte) (any, bool) {
	rest, ok := bytes.CutPrefix(b, []byte(`{"value":`))
	if !ok || !utf8.Valid(b) {
		return nil, false
	}
	v, rest, ok := kv.ReadScalar(rest)
	if !ok || (string(rest) != "}" && string(rest) != "}\n") {
		return nil, false
	}
	return v, true
}

// jsonValue decodes a required field as a JSON value with numbers kept as
// json.Number.
func jsonValue(fields map[string]json.RawMessage, name string) (any, error) {
	raw, ok := fields[name]
	if !ok {
		return nil, fmt.Errorf("field %s: missing", name)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("field %s: %v", name, err)
	}
	return v, nil
}

func knownFields(fields map[string]json.RawMessage, names ...string) error {
	for name := range fields {
		known := false
		for _, n := range names {
			known = known || n == name
		}
		if !known {
			return fmt.Errorf("field %s: unknown (allowed: %s)", name, strings.Join(names, ", "))
		}
	}
	return nil
}

// session reads the write's X-Client-Id and X-Seq headers.
func session(r *http.Request) (string, uint64, error) {
	client := r.Header.Get("X-Client-Id")
	if err := kv.CheckText("header X-Client-Id", client); err != nil {
		return "", 0, err
	}
	raw := r.Header.Get("X-Seq")
	if raw == "" {
		return client, 0, nil
	}
	seq, err := strconv.ParseUint(raw, 10, 64)
	if err != nil {
		return "", 0, fmt.Errorf("header X-Seq: %q is not an unsigned integer", raw)
	}
	if client == "" {
		return "", 0, errors.New("header X-Seq: given without X-Client-Id")
	}
	return client, seq, nil
}
