package campaign

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/sut/runtime"
	"github.com/faultline/faultline/sut/system"
)

// statusPollInterval is how often every node's GET /admin/status is polled.
const statusPollInterval = 300 * time.Millisecond

// StatusLine is one line of nodes/status.jsonl: what one node said about
// itself at one instant (Time is on the history's clock). A node that did
// not answer within the poll gets a line with Error set and no role.
type StatusLine struct {
	Time    int64    `json:"time"`
	ID      string   `json:"id"`
	Role    string   `json:"role,omitempty"`
	Term    uint64   `json:"term,omitempty"`
	Leader  string   `json:"leader,omitempty"`
	Commit  uint64   `json:"commit,omitempty"`
	Applied uint64   `json:"applied,omitempty"`
	Voters  []string `json:"voters,omitempty"`
	Error   string   `json:"error,omitempty"`
}

// statusPoller polls every node of the cluster and writes nodes/status.jsonl.
// It also remembers the latest leader for the progress line and the wait
// for a leader. It is black-box: it only reads the public status endpoint.
type statusPoller struct {
	cluster runtime.Cluster
	rec     *history.Recorder
	admin   system.Admin

	mu     sync.Mutex
	f      *os.File
	w      *bufio.Writer
	leader string // id of a node that said it is leader, "" if none
	term   uint64
	err    error
}

func newStatusPoller(path string, cluster runtime.Cluster, sys system.System, rec *history.Recorder) (*statusPoller, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	return &statusPoller{
		cluster: cluster,
		rec:     rec,
		admin:   sys.NewAdmin(clusterAddrs(cluster), statusPollInterval),
		f:       f,
		w:       bufio.NewWriter(f),
	}, nil
}

// run polls until ctx is done.
func (p *statusPoller) run(ctx context.Context) {
	t := time.NewTicker(statusPollInterval)
	defer t.Stop()
	for {
		p.pollOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// pollOnce asks every node in parallel and writes one line per node.
func (p *statusPoller) pollOnce(ctx context.Context) {
	ids := p.cluster.Nodes()
	sort.Strings(ids)
	for _, id := range ids {
		p.admin.SetAddr(id, p.cluster.ClientAddr(id))
	}
	lines := make([]StatusLine, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, statusPollInterval)
			defer cancel()
			st, err := p.admin.Status(cctx, id)
			line := StatusLine{Time: p.rec.Now(), ID: id}
			if err != nil {
				line.Error = err.Error()
			} else {
				line.Role, line.Term, line.Leader = st.Role, st.Term, st.Leader
				line.Commit, line.Applied, line.Voters = st.Commit, st.Applied, st.Config.Voters
			}
			lines[i] = line
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return // answers cut short by the end of polling say nothing about the nodes
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	leader, term := "", uint64(0)
	for _, l := range lines {
		if l.Role == "leader" && l.Term >= term {
			leader, term = l.ID, l.Term
		}
		if p.err == nil {
			b, _ := json.Marshal(l)
			_, p.err = p.w.Write(append(b, '\n'))
		}
	}
	if p.err == nil {
		p.err = p.w.Flush()
	}
	p.leader, p.term = leader, term
}

// Leader is the node that most recently said it leads ("" if none did).
func (p *statusPoller) Leader() (string, uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.leader, p.term
}

// close flushes and closes status.jsonl.
func (p *statusPoller) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	err := p.err
	if ferr := p.w.Flush(); err == nil {
		err = ferr
	}
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// clusterAddrs is the client address book of the cluster's current nodes.
func clusterAddrs(c runtime.Cluster) map[string]string {
	m := map[string]string{}
	for _, id := range c.Nodes() {
		if a := c.ClientAddr(id); a != "" {
			m[id] = a
		}
	}
	return m
}
