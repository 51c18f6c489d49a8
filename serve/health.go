package serve

import (
	"net/http"
)

// handleHealth is GET /healthz for load balancers and monitoring: 200
// {"status":"ok"} while the store can be read and the queue takes
// campaigns, 503 with the reason otherwise. It needs no token and tells
// nothing about the runs.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	if _, err := s.root.Stat("."); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": "the store cannot be read"})
		return
	}
	if q := s.queue; q != nil {
		q.mu.Lock()
		closed := q.closed
		q.mu.Unlock()
		if closed {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": errShuttingDown.Error()})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
