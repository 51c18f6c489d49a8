package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/faultline/faultline/sut/raft"
)

// The admin, fault and peer endpoints: POST /admin/members, POST
// /fault/clock, POST /raft/stream (GET /admin/status is in status.go).

func (s *Server) handleMembers(w http.ResponseWriter, r *http.Request) {
	fields, err := bodyFields(w, r)
	if err == nil {
		err = knownFields(fields, "add", "remove")
	}
	var change raft.MembershipChange
	if err == nil {
		change, err = parseMembershipChange(fields)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if !s.isLeader() {
		s.redirect(w, r)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.MembershipTimeout)
	defer cancel()
	if o := s.changeMembership(ctx, change); o != nil {
		s.writeOutcome(w, r, o)
		return
	}
	writeJSON(w, http.StatusOK, s.statusBody().Config)
}

// parseMembershipChange reads {"add":"id=host:port"}, {"remove":"id"}, or
// both: a replacement, done as one joint-consensus change (the new server
// joins as a learner, then one C(old,new) brings it in and takes the other
// out), which a nemesis needs to move to a configuration whose majorities
// differ from the old one's by two servers.
func parseMembershipChange(fields map[string]json.RawMessage) (raft.MembershipChange, error) {
	var c raft.MembershipChange
	_, hasAdd := fields["add"]
	_, hasRemove := fields["remove"]
	if !hasAdd && !hasRemove {
		return c, errors.New(`body: give field add ("id=host:port"), field remove ("id"), or both`)
	}
	if hasAdd {
		var spec string
		if err := json.Unmarshal(fields["add"], &spec); err != nil {
			return c, fmt.Errorf("field add: want a string id=host:port: %v", err)
		}
		id, addr, ok := strings.Cut(spec, "=")
		if !ok || id == "" || addr == "" {
			return c, fmt.Errorf("field add: %q is not id=host:port", spec)
		}
		if _, _, err := splitHostPort(addr); err != nil {
			return c, fmt.Errorf("field add: address %q: %v", addr, err)
		}
		c.Add, c.Addr = id, addr
		if !hasRemove {
			return c, nil
		}
	}
	if err := json.Unmarshal(fields["remove"], &c.Remove); err != nil || c.Remove == "" {
		return c, errors.New(`field remove: want a non-empty string id`)
	}
	return c, nil
}

func (s *Server) handleFaultClock(w http.ResponseWriter, r *http.Request) {
	fields, err := bodyFields(w, r)
	if err == nil {
		err = knownFields(fields, "offset_ms", "rate")
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	offset, rate := s.clock.Skew()
	if raw, ok := fields["offset_ms"]; ok {
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			writeError(w, http.StatusBadRequest, "field offset_ms: want an integer number of milliseconds")
			return
		}
		ms, err := n.Int64()
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("field offset_ms: %q is not an integer", n))
			return
		}
		offset = msDuration(ms)
	}
	if raw, ok := fields["rate"]; ok {
		if err := json.Unmarshal(raw, &rate); err != nil {
			writeError(w, http.StatusBadRequest, "field rate: want a number")
			return
		}
	}
	if err := s.clock.SetSkew(offset, rate); err != nil {
		writeError(w, http.StatusBadRequest, "field rate: "+err.Error())
		return
	}
	s.log.Info("clock skewed", "offset_ms", offset.Milliseconds(), "rate", rate)
	writeJSON(w, http.StatusOK, s.statusBody().Clock)
}

func (s *Server) handleStream(w http.ResponseWriter, r *http.Request) {
	from, addr := r.Header.Get("X-Raft-From"), r.Header.Get("X-Raft-Addr")
	if to := r.Header.Get("X-Raft-To"); to != "" && to != s.cfg.ID {
		writeError(w, http.StatusMisdirectedRequest, fmt.Sprintf("this is %s, not %s", s.cfg.ID, to))
		return
	}
	if from != "" && addr != "" {
		s.learned.Store(from, addr)
	}
	serveStream(w, r, s.Receive, s.log)
}
