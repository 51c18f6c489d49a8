package server

import (
	"net"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/faultline/faultline/sut/raft"
)

// nodeStatus is what the drive loop publishes after every round for the
// HTTP handlers (leadership checks, redirects, /admin/status).
type nodeStatus = raft.Status

func (s *Server) publishStatus() {
	st := s.rn.Status()
	s.status.Store(&st)
}

// StatusBody is the JSON of GET /admin/status.
type StatusBody struct {
	ID            string     `json:"id"`
	Role          string     `json:"role"`
	Term          uint64     `json:"term"`
	Leader        string     `json:"leader"`
	Commit        uint64     `json:"commit"`
	Applied       uint64     `json:"applied"`
	LastIndex     uint64     `json:"last_index"`
	SnapshotIndex uint64     `json:"snapshot_index"`
	LeaseValid    bool       `json:"lease_valid"`
	Config        ConfigBody `json:"config"`
	Clock         ClockBody  `json:"clock"`
	ReadMode      string     `json:"read_mode"`
	Bugs          []string   `json:"bugs"`
	Stats         StatsBody  `json:"stats"`
}

// stats are counters for diagnosing throughput: how well proposals batch
// into fsyncs, and what the disk costs.
type stats struct {
	readies, saves, syncs, entries, saveNanos atomic.Uint64
}

func (st *stats) persisted(entries int, synced bool, took time.Duration) {
	st.saves.Add(1)
	st.entries.Add(uint64(entries))
	st.saveNanos.Add(uint64(took))
	if synced {
		st.syncs.Add(1)
	}
}

// StatsBody is the "stats" object of /admin/status.
type StatsBody struct {
	Readies        uint64  `json:"readies"`          // Ready batches processed
	Saves          uint64  `json:"saves"`            // WAL writes
	Syncs          uint64  `json:"syncs"`            // of which fsynced
	Entries        uint64  `json:"entries"`          // entries persisted
	SaveMillis     float64 `json:"save_ms"`          // total time in WAL writes
	EntriesPerSync float64 `json:"entries_per_sync"` // batching achieved: entries per fsync
	DroppedMsgs    uint64  `json:"dropped_msgs"`     // peer messages dropped (link down or full)
}

func (st *stats) body() StatsBody {
	b := StatsBody{Readies: st.readies.Load(), Saves: st.saves.Load(), Syncs: st.syncs.Load(),
		Entries: st.entries.Load(), SaveMillis: float64(st.saveNanos.Load()) / 1e6}
	if b.Syncs > 0 {
		b.EntriesPerSync = float64(b.Entries) / float64(b.Syncs)
	}
	return b
}

// ConfigBody is the latest configuration in the node's log.
type ConfigBody struct {
	Voters   []string          `json:"voters"`
	Outgoing []string          `json:"outgoing,omitempty"`
	Learners []string          `json:"learners"`
	Joint    bool              `json:"joint"`
	Addrs    map[string]string `json:"addrs,omitempty"`
}

// ClockBody is the node's clock skew.
type ClockBody struct {
	OffsetMs int64   `json:"offset_ms"`
	Rate     float64 `json:"rate"`
}

func (s *Server) statusBody() StatusBody {
	st := s.status.Load()
	offset, rate := s.clock.Skew()
	m := st.Membership
	return StatusBody{
		ID:            s.cfg.ID,
		Role:          st.Role.String(),
		Term:          st.Term,
		Leader:        st.Lead,
		Commit:        st.Commit,
		Applied:       s.reg.appliedIndex(),
		LastIndex:     st.LastIndex,
		SnapshotIndex: st.SnapshotIndex,
		LeaseValid:    st.LeaseValid,
		Config: ConfigBody{
			Voters:   nonNil(slices.Clone(m.Voters)),
			Outgoing: slices.Clone(m.Outgoing),
			Learners: nonNil(slices.Clone(m.Learners)),
			Joint:    m.Joint(),
			Addrs:    m.Addrs,
		},
		Clock:    ClockBody{OffsetMs: offset.Milliseconds(), Rate: rate},
		ReadMode: ReadModeName(s.cfg.ReadMode),
		Bugs:     nonNil(s.cfg.Bugs.List()),
		Stats:    s.statsBody(),
	}
}

func (s *Server) statsBody() StatsBody {
	b := s.stats.body()
	if d, ok := s.transport.(interface{ Dropped() uint64 }); ok {
		b.DroppedMsgs = d.Dropped()
	}
	return b
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.statusBody())
}

func msDuration(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }

func splitHostPort(addr string) (string, string, error) { return net.SplitHostPort(addr) }
