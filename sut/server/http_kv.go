package server

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/faultline/faultline/sut/bugs"
	"github.com/faultline/faultline/sut/kv"
)

// The key-value endpoints: GET, PUT, DELETE /kv/{key}, POST /kv/{key}/cas
// and /kv/{key}/append.

// pathKey is the request's key; one raftd cannot keep byte for byte
// (kv.CheckKey) has been answered 400 naming it.
func pathKey(w http.ResponseWriter, r *http.Request) (string, bool) {
	key := r.PathValue("key")
	if err := kv.CheckKey(key); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return "", false
	}
	return key, true
}

// write runs one write command end to end and answers it with reply.
func (s *Server) write(w http.ResponseWriter, r *http.Request, cmd kv.Command, reply func(kv.Result) any) {
	var err error
	if cmd.ClientID, cmd.Seq, err = session(r); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if !s.isLeader() {
		s.redirect(w, r)
		return
	}
	ctx, cancel := s.requestContext(r)
	defer cancel()
	res, o := s.propose(ctx, cmd)
	if o != nil {
		s.writeOutcome(w, r, o)
		return
	}
	if res.Err != "" {
		// Applied, but refused by the state machine (e.g. append to a
		// non-list): a definite failure with no effect.
		writeJSON(w, http.StatusConflict, apiError{Error: res.Err})
		return
	}
	writeJSON(w, http.StatusOK, reply(res))
}

// valueBody reads a {"value": v} body; on a bad one it has answered 400
// naming the field.
func valueBody(w http.ResponseWriter, r *http.Request) (any, bool) {
	b, err := readBody(w, r)
	if err == nil {
		if v, ok := plainValueBody(b); ok {
			return v, true
		}
	}
	var fields map[string]json.RawMessage
	if err == nil {
		fields, err = bodyFieldsOf(b)
	}
	if err == nil {
		err = knownFields(fields, "value")
	}
	var value any
	if err == nil {
		value, err = jsonValue(fields, "value")
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return nil, false
	}
	return value, true
}

// okBody is the answer to a put, encoded once: {"ok":true}.
var okBody = json.RawMessage(`{"ok":true}`)

func (s *Server) handlePut(w http.ResponseWriter, r *http.Request) {
	key, ok := pathKey(w, r)
	if !ok {
		return
	}
	value, ok := valueBody(w, r)
	if !ok {
		return
	}
	s.write(w, r, kv.Command{Op: kv.OpPut, Key: key, Value: value},
		func(kv.Result) any { return okBody })
}

func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request) {
	key, ok := pathKey(w, r)
	if !ok {
		return
	}
	s.write(w, r, kv.Command{Op: kv.OpDelete, Key: key},
		func(res kv.Result) any { return map[string]bool{"ok": true, "found": res.Found} })
}

func (s *Server) handleCas(w http.ResponseWriter, r *http.Request) {
	key, ok := pathKey(w, r)
	if !ok {
		return
	}
	fields, err := bodyFields(w, r)
	if err == nil {
		err = knownFields(fields, "expect", "value")
	}
	var expect, value any
	if err == nil {
		expect, err = jsonValue(fields, "expect")
	}
	if err == nil {
		value, err = jsonValue(fields, "value")
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.write(w, r, kv.Command{Op: kv.OpCas, Key: key, Expect: expect, Value: value},
		func(res kv.Result) any { return map[string]bool{"ok": res.Swapped} })
}

// handleAppend answers {"value": the list after the append}.
func (s *Server) handleAppend(w http.ResponseWriter, r *http.Request) {
	key, ok := pathKey(w, r)
	if !ok {
		return
	}
	value, ok := valueBody(w, r)
	if !ok {
		return
	}
	s.write(w, r, kv.Command{Op: kv.OpAppend, Key: key, Value: value},
		func(res kv.Result) any { return map[string]any{"value": res.Value} })
}

func (s *Server) handleGet(w http.ResponseWriter, r *http.Request) {
	key, ok := pathKey(w, r)
	if !ok {
		return
	}
	var value any
	var found bool
	switch mode := r.URL.Query().Get("read"); mode {
	case "local":
		value, found = s.localRead(key)
	case "":
		if s.cfg.Bugs.Has(bugs.StaleLocalRead) {
			// PLANTED BUG stale-local-read: the read is served from this
			// node's applied state with no leadership check at all: a
			// deposed leader or a follower cut off by a partition keeps
			// answering with what it had.
			value, found = s.localRead(key)
			break
		}
		if !s.isLeader() {
			s.redirect(w, r)
			return
		}
		ctx, cancel := s.requestContext(r)
		defer cancel()
		var o *outcome
		if value, found, o = s.reader.read(ctx, key); o != nil {
			s.writeOutcome(w, r, o)
			return
		}
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("query parameter read: unknown value %q (want local or nothing)", mode))
		return
	}
	if !found {
		writeError(w, http.StatusNotFound, "not found")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": value})
}
