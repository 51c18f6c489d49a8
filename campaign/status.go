package campaign

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/store"
	"github.com/faultline/faultline/sut/runtime"
	"github.com/faultline/faultline/sut/system"
)

// statusPollInterval is how often every node's GET /admin/status is polled.
const statusPollInterval = 300 * time.Millisecond

// statusPoller polls every node of the cluster and writes nodes/status.jsonl.
// It also remembers the latest leader for the progress line and the wait
// for a leader. It is black-box: it only reads the public status endpoint.
type statusPoller struct {
	cluster runtime.Cluster
	rec     *history.Recorder
	admin   system.Admin

	out *store.StatusWriter

	mu     sync.Mutex
	leader string // id of a node that said it is leader, "" if none
	term   uint64
}

func newStatusPoller(runDir string, cluster runtime.Cluster, sys system.System, rec *history.Recorder) (*statusPoller, error) {
	out, err := store.CreateStatus(runDir)
	if err != nil {
		return nil, err
	}
	return &statusPoller{
		cluster: cluster,
		rec:     rec,
		admin:   sys.NewAdmin(clusterAddrs(cluster), statusPollInterval),
		out:     out,
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
	lines := make([]store.StatusLine, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, statusPollInterval)
			defer cancel()
			st, err := p.admin.Status(cctx, id)
			line := store.StatusLine{Time: p.rec.Now(), ID: id}
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
	leader, term := "", uint64(0)
	for _, l := range lines {
		if l.Role == "leader" && l.Term >= term {
			leader, term = l.ID, l.Term
		}
	}
	_ = p.out.Write(lines) // an error is kept and returned by close
	p.mu.Lock()
	p.leader, p.term = leader, term
	p.mu.Unlock()
}

// Leader is the node that most recently said it leads ("" if none did).
func (p *statusPoller) Leader() (string, uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.leader, p.term
}

// close flushes and closes status.jsonl.
func (p *statusPoller) close() error { return p.out.Close() }

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
