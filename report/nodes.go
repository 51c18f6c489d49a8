package report

import (
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/faultline/faultline/store"
)

// roleUnreachable is the role shown while a node's status could not be polled.
const roleUnreachable = "unreachable"

// RoleChange is a moment a node's role or term changed.
type RoleChange struct {
	Time   int64
	Role   string
	Term   uint64
	Leader string
}

// NodeFacts is what the report says about one node.
type NodeFacts struct {
	ID       string
	Changes  []RoleChange // in time order; the first is the node's first known state
	Elected  int          // how many times it became leader
	MaxTerm  uint64
	Last     *RoleChange
	Commit   uint64 // last known commit index
	Applied  uint64
	Voters   []string
	LogFile  string // "nodes/<id>.log" when the file exists
	LogBytes int64
}

// Leadership is one span during which a node was seen as leader of a term.
type Leadership struct {
	Leader     string
	Term       uint64
	Start, End int64
}

// nodeData is the per-node section of a report.
type nodeData struct {
	Nodes      []NodeFacts
	Leaders    []Leadership
	StatusRows int
	Problems   []string
}

// readNodes reads nodes/status.jsonl and lists nodes/*.log. Extra ids (from
// campaign.json) make sure every node shows, even one never polled.
func readNodes(fsys fs.FS, extraIDs []string) nodeData {
	var nd nodeData
	byID := map[string]*NodeFacts{}
	get := func(id string) *NodeFacts {
		if f, ok := byID[id]; ok {
			return f
		}
		f := &NodeFacts{ID: id}
		byID[id] = f
		return f
	}
	for _, id := range extraIDs {
		get(id)
	}
	statuses, problems := store.ReadStatus(fsys, ".")
	nd.Problems = problems
	nd.StatusRows = len(statuses)
	sort.SliceStable(statuses, func(i, j int) bool { return statuses[i].Time < statuses[j].Time })
	for _, st := range statuses {
		if st.ID == "" {
			continue
		}
		f := get(st.ID)
		role := st.Role
		if st.Error != "" || role == "" {
			role = roleUnreachable
		}
		if role != roleUnreachable {
			f.Commit, f.Applied = st.Commit, st.Applied
			if len(st.Voters) > 0 {
				f.Voters = st.Voters
			}
			f.MaxTerm = max(f.MaxTerm, st.Term)
		}
		term := st.Term
		n := len(f.Changes)
		if role == roleUnreachable && n > 0 {
			term = f.Changes[n-1].Term // an unreachable node's term is unknown: keep the last seen
		}
		if n == 0 || f.Changes[n-1].Role != role || f.Changes[n-1].Term != term {
			if role == "leader" {
				f.Elected++
			}
			f.Changes = append(f.Changes, RoleChange{Time: st.Time, Role: role, Term: term, Leader: st.Leader})
		}
		nd.Leaders = noteLeader(nd.Leaders, st, role)
	}
	logs, _ := fs.Glob(fsys, nodesDir+"/*.log")
	for _, p := range logs {
		fi, err := fs.Stat(fsys, p)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		f := get(strings.TrimSuffix(path.Base(p), ".log"))
		f.LogFile = p
		f.LogBytes = fi.Size()
	}
	for _, f := range byID {
		if n := len(f.Changes); n > 0 {
			f.Last = &f.Changes[n-1]
		}
		nd.Nodes = append(nd.Nodes, *f)
	}
	sort.Slice(nd.Nodes, func(i, j int) bool { return nd.Nodes[i].ID < nd.Nodes[j].ID })
	return nd
}

// noteLeader extends or opens a leadership span from a leader's own status.
func noteLeader(spans []Leadership, st store.StatusLine, role string) []Leadership {
	if role != "leader" {
		return spans
	}
	for i := len(spans) - 1; i >= 0 && i >= len(spans)-4; i-- {
		if spans[i].Leader == st.ID && spans[i].Term == st.Term {
			spans[i].End = max(spans[i].End, st.Time)
			return spans
		}
	}
	return append(spans, Leadership{Leader: st.ID, Term: st.Term, Start: st.Time, End: st.Time})
}
