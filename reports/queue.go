package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Job states.
const (
	JobQueued      = "queued"
	JobRunning     = "running"
	JobDone        = "done"
	JobFailed      = "failed"
	JobInterrupted = "interrupted"
	JobCancelled   = "cancelled"
)

// maxQueued bounds the campaigns waiting to run.
const maxQueued = 50

var errQueueFull = errors.New("the campaign queue is full; try again when one has finished")
var errShuttingDown = errors.New("the server is shutting down")

// job is one launched campaign.
type job struct {
	id        string
	req       LaunchRequest
	state     string
	queuedAt  time.Time
	startedAt time.Time
	endedAt   time.Time
	runDir    string
	err       string
	progress  LaunchProgress
	reported  bool // the Launcher has called Progress at least once
	tail      *historyTail
	following sync.Mutex // one reader of the history at a time (views may be concurrent)
}

// queue runs launched campaigns one at a time, in order. It reads runs
// (to follow their progress, or to mark them interrupted) only through the
// store's root, like every other access of the server.
type queue struct {
	store    string
	root     *os.Root
	launcher Launcher
	log      *slog.Logger

	ctx    context.Context // cancelled by Shutdown: the running campaign stops
	cancel context.CancelFunc
	next   chan *job
	done   chan struct{}

	mu     sync.Mutex
	seq    int
	jobs   map[string]*job
	order  []*job
	closed bool
}

func newQueue(store string, root *os.Root, l Launcher, log *slog.Logger) *queue {
	ctx, cancel := context.WithCancel(context.Background())
	q := &queue{
		store: store, root: root, launcher: l, log: log, ctx: ctx, cancel: cancel,
		next: make(chan *job, maxQueued), done: make(chan struct{}), jobs: map[string]*job{},
	}
	go q.work()
	return q
}

// submit queues a validated request.
func (q *queue) submit(req LaunchRequest) (*job, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil, errShuttingDown
	}
	q.seq++
	j := &job{id: fmt.Sprintf("c%d", q.seq), req: req, state: JobQueued, queuedAt: time.Now()}
	select {
	case q.next <- j:
	default:
		q.seq--
		return nil, errQueueFull
	}
	q.jobs[j.id] = j
	q.order = append(q.order, j)
	return j, nil
}

func (q *queue) work() {
	defer close(q.done)
	for {
		select {
		case <-q.ctx.Done():
			return
		case j := <-q.next:
			if q.ctx.Err() != nil {
				return
			}
			q.run(j)
		}
	}
}

func (q *queue) run(j *job) {
	q.mu.Lock()
	j.state, j.startedAt = JobRunning, time.Now()
	req := j.req
	q.mu.Unlock()
	req.Progress = func(p LaunchProgress) {
		q.mu.Lock()
		defer q.mu.Unlock()
		j.progress, j.reported = p, true
		if p.RunDir != "" {
			j.runDir = p.RunDir
		}
	}
	q.log.Info("campaign starting", "job", j.id, "command", req.Command())
	runDir, err := q.launch(req)

	q.mu.Lock()
	j.endedAt = time.Now()
	if runDir != "" {
		j.runDir = runDir
	}
	switch {
	case q.ctx.Err() != nil:
		j.state = JobInterrupted
		if err != nil {
			j.err = err.Error()
		}
	case err != nil:
		j.state, j.err = JobFailed, err.Error()
	default:
		j.state = JobDone
	}
	state, dir := j.state, j.runDir
	q.mu.Unlock()
	if id, ok := runIDOf(q.store, dir); ok && state == JobInterrupted {
		// The campaign should have marked its run itself; make sure a run
		// left "running" does not look alive forever.
		if err := markInterrupted(q.root, id); err != nil {
			q.log.Warn("marking run interrupted", "run", dir, "err", err)
		}
	}
	q.log.Info("campaign finished", "job", j.id, "state", state, "run", dir)
}

// launch calls the Launcher, turning a panic into an error so that one bad
// campaign does not take the server down.
func (q *queue) launch(req LaunchRequest) (runDir string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("campaign panicked: %v", p)
		}
	}()
	return q.launcher.Launch(q.ctx, req)
}

// shutdown cancels the running campaign, drops the queued ones and waits for
// the running one to return (or ctx to expire).
func (q *queue) shutdown(ctx context.Context) error {
	q.mu.Lock()
	q.closed = true
	for _, j := range q.order {
		if j.state == JobQueued {
			j.state, j.endedAt = JobCancelled, time.Now()
		}
	}
	q.mu.Unlock()
	q.cancel()
	select {
	case <-q.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for the running campaign to stop: %w", ctx.Err())
	}
}

// JobView is a launched campaign as the API shows it.
type JobView struct {
	ID        string       `json:"id"`
	State     string       `json:"state"`
	Position  int          `json:"position,omitempty"` // 1 = next to run
	Command   string       `json:"command"`
	Request   requestView  `json:"request"`
	QueuedAt  time.Time    `json:"queued_at"`
	StartedAt *time.Time   `json:"started_at,omitempty"`
	EndedAt   *time.Time   `json:"ended_at,omitempty"`
	RunID     string       `json:"run_id,omitempty"`
	ReportURL string       `json:"report_url,omitempty"`
	Verdict   string       `json:"verdict,omitempty"`
	Progress  progressView `json:"progress"`
	Error     string       `json:"error,omitempty"`
	URL       string       `json:"url"`
}

type requestView struct {
	Name        string   `json:"name"`
	Runtime     string   `json:"runtime"`
	Nodes       int      `json:"nodes"`
	Duration    string   `json:"duration"`
	Workload    string   `json:"workload"`
	Concurrency int      `json:"concurrency"`
	Rate        float64  `json:"rate"`
	Keys        int      `json:"keys"`
	Nemesis     string   `json:"nemesis"`
	Interval    string   `json:"interval"`
	Seed        int64    `json:"seed"`
	Read        string   `json:"read"`
	ReadMode    string   `json:"read_mode"`
	Bugs        []string `json:"bugs"`
}

type progressView struct {
	Source  string  `json:"source,omitempty"` // "campaign" (its callback) or "history" (tailing history.jsonl)
	Phase   string  `json:"phase,omitempty"`
	Elapsed float64 `json:"elapsed_s"`
	Total   float64 `json:"total_s"`
	Percent float64 `json:"percent"`
	Ok      int     `json:"ok"`
	Fail    int     `json:"fail"`
	Info    int     `json:"info"`
	Fault   string  `json:"fault,omitempty"`
	Leader  string  `json:"leader,omitempty"`
	Message string  `json:"message,omitempty"`
}

func viewRequest(r LaunchRequest) requestView {
	return requestView{Name: r.Name, Runtime: r.Runtime, Nodes: r.Nodes, Duration: r.Duration.String(), Workload: r.Workload,
		Concurrency: r.Concurrency, Rate: r.Rate, Keys: r.Keys, Nemesis: r.Nemesis, Interval: r.Interval.String(),
		Seed: r.Seed, Read: r.Read, ReadMode: r.ReadMode, Bugs: append([]string{}, r.Bugs...)}
}

// view snapshots a job, following its history when the campaign reports no
// progress of its own.
func (q *queue) view(id string) (JobView, bool) {
	q.mu.Lock()
	j, ok := q.jobs[id]
	q.mu.Unlock()
	if !ok {
		return JobView{}, false
	}
	q.follow(j)
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.viewLocked(j), true
}

func (q *queue) list() []JobView {
	q.mu.Lock()
	jobs := append([]*job(nil), q.order...)
	q.mu.Unlock()
	out := make([]JobView, 0, len(jobs))
	for i := len(jobs) - 1; i >= 0; i-- {
		if v, ok := q.view(jobs[i].id); ok {
			out = append(out, v)
		}
	}
	return out
}

func (q *queue) viewLocked(j *job) JobView {
	v := JobView{ID: j.id, State: j.state, Command: j.req.Command(), Request: viewRequest(j.req), QueuedAt: j.queuedAt, Error: j.err,
		URL: "/campaigns/" + j.id}
	if j.state == JobQueued {
		for _, o := range q.order {
			if o.state == JobQueued {
				v.Position++
			}
			if o == j {
				break
			}
		}
	}
	if !j.startedAt.IsZero() {
		t := j.startedAt
		v.StartedAt = &t
	}
	if !j.endedAt.IsZero() {
		t := j.endedAt
		v.EndedAt = &t
	}
	if id, ok := runIDOf(q.store, j.runDir); ok {
		v.RunID = id
		v.ReportURL = runURL(id)
	}
	p := j.progress
	pv := progressView{Phase: p.Phase, Elapsed: p.Elapsed.Seconds(), Total: p.Total.Seconds(), Ok: p.Ok, Fail: p.Fail, Info: p.Info,
		Fault: p.Fault, Leader: p.Leader, Message: p.Message}
	if j.reported {
		pv.Source = "campaign"
	} else if t := j.tail; t != nil {
		pv.Source = "history"
		pv.Elapsed = float64(t.last) / 1e9
		pv.Ok, pv.Fail, pv.Info = t.ok, t.fail, t.info
		pv.Fault = t.activeFaults()
	}
	if pv.Total == 0 {
		pv.Total = j.req.Duration.Seconds()
	}
	if pv.Total > 0 {
		pv.Percent = min(100, 100*pv.Elapsed/pv.Total)
	}
	if j.state == JobDone {
		pv.Percent = 100
	}
	v.Progress = pv
	return v
}

// follow finds a running job's run directory (when the Launcher has not
// said) and reads what its history gained since the last look.
func (q *queue) follow(j *job) {
	j.following.Lock()
	defer j.following.Unlock()
	q.mu.Lock()
	state, dir, reported, started, name := j.state, j.runDir, j.reported, j.startedAt, j.req.Name
	tail := j.tail
	q.mu.Unlock()
	if state == JobQueued || reported {
		return
	}
	if dir == "" {
		dir = discoverRunDir(q.root, q.store, name, started)
		if dir == "" {
			return
		}
	}
	id, ok := runIDOf(q.store, dir)
	if !ok {
		return // a run outside the store is not followed
	}
	if tail == nil || tail.path != path.Join(id, historyFile) {
		tail = &historyTail{path: path.Join(id, historyFile), open: map[string]int{}}
	}
	tail.poll(q.root)
	q.mu.Lock()
	j.tail = tail
	if j.runDir == "" {
		j.runDir = dir
	}
	q.mu.Unlock()
}

// discoverRunDir finds the run a campaign named name created since started.
func discoverRunDir(root *os.Root, store, name string, started time.Time) string {
	if checkRunName(name) != nil {
		return ""
	}
	entries, err := fs.ReadDir(root.FS(), name)
	if err != nil {
		return ""
	}
	sort.Slice(entries, func(a, b int) bool { return entries[a].Name() > entries[b].Name() })
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		sub, err := fs.Sub(root.FS(), name+"/"+e.Name())
		if err != nil {
			continue
		}
		c, err := readCampaign(sub)
		if err != nil {
			continue
		}
		if t, ok := c.Started(); ok && !t.Before(started.Add(-2*time.Second)) {
			return filepath.Join(store, name, e.Name())
		}
	}
	return ""
}

// historyTail follows a growing history.jsonl, counting completions.
type historyTail struct {
	path    string // inside the store
	off     int64
	partial []byte
	ok      int
	fail    int
	info    int
	last    int64
	open    map[string]int // fault kind -> intervals open
}

// maxTailRead bounds the bytes read per look, so a page refresh stays cheap
// on a fast campaign; the next look continues.
const maxTailRead = 8 << 20

func (t *historyTail) poll(root *os.Root) {
	f, err := root.Open(t.path)
	if err != nil {
		return
	}
	defer f.Close()
	if _, err := f.Seek(t.off, io.SeekStart); err != nil {
		return
	}
	b, err := io.ReadAll(io.LimitReader(f, maxTailRead))
	if err != nil {
		return
	}
	t.off += int64(len(b))
	data := append(t.partial, b...)
	consumed := 0
	for {
		i := bytes.IndexByte(data[consumed:], '\n')
		if i < 0 {
			break
		}
		t.line(data[consumed : consumed+i])
		consumed += i + 1
	}
	t.partial = append([]byte(nil), data[consumed:]...)
}

func (t *historyTail) line(b []byte) {
	var e struct {
		Time    int64           `json:"time"`
		Process json.RawMessage `json:"process"`
		Type    string          `json:"type"`
		F       string          `json:"f"`
	}
	if json.Unmarshal(b, &e) != nil {
		return
	}
	t.last = max(t.last, e.Time)
	if string(e.Process) == `"nemesis"` {
		switch {
		case strings.HasSuffix(e.F, "-start"):
			t.open[strings.TrimSuffix(e.F, "-start")]++
		case strings.HasSuffix(e.F, "-end"):
			if k := strings.TrimSuffix(e.F, "-end"); t.open[k] > 0 {
				t.open[k]--
			}
		}
		return
	}
	switch e.Type {
	case "ok":
		t.ok++
	case "fail":
		t.fail++
	case "info":
		t.info++
	}
}

func (t *historyTail) activeFaults() string {
	var kinds []string
	for k, n := range t.open {
		if n > 0 {
			kinds = append(kinds, k)
		}
	}
	sort.Strings(kinds)
	return strings.Join(kinds, "+")
}

// markInterrupted turns a run's "running" status into "interrupted",
// keeping every other field of campaign.json as it is.
func markInterrupted(root *os.Root, id string) error {
	name := path.Join(id, campaignFile)
	b, err := root.ReadFile(name)
	if err != nil {
		return err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	var status string
	_ = json.Unmarshal(m["status"], &status)
	if status != StatusRunning {
		return nil
	}
	m["status"] = json.RawMessage(`"interrupted"`)
	if _, ok := m["error"]; !ok {
		m["error"] = json.RawMessage(`"checker serve stopped while the campaign ran"`)
	}
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp := name + ".tmp"
	if err := root.WriteFile(tmp, append(out, '\n'), 0o644); err != nil {
		return err
	}
	return root.Rename(tmp, name)
}
