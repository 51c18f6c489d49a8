package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/faultline/faultline/campaign"
	"github.com/faultline/faultline/store"
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
var errNoJob = errors.New("no such campaign")
var errJobOver = errors.New("the campaign has already ended")

// job is one launched campaign.
type job struct {
	id        string
	opt       campaign.Options
	state     string
	queuedAt  time.Time
	startedAt time.Time
	endedAt   time.Time
	runDir    string
	err       string
	progress  campaign.Snapshot
	// cancel stops the running campaign (DELETE /api/campaigns/{id});
	// cancelled records that it was asked to.
	cancel    context.CancelFunc
	cancelled bool
}

// runFunc runs one campaign: campaign.Run, except in tests of the queue.
type runFunc func(ctx context.Context, o campaign.Options, p campaign.Progress) (*campaign.Outcome, error)

// queue runs launched campaigns one at a time, in order, by calling
// campaign.Run; their progress is what campaign.Run reports.
type queue struct {
	store string
	run   runFunc
	log   *slog.Logger
	// finished hears of every campaign that ran, with how it ended and
	// how long it took (the server's metrics); nil is fine.
	finished func(state string, took time.Duration)

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

func newQueue(store string, run runFunc, log *slog.Logger) *queue {
	ctx, cancel := context.WithCancel(context.Background())
	q := &queue{
		store: store, run: run, log: log, ctx: ctx, cancel: cancel,
		next: make(chan *job, maxQueued), done: make(chan struct{}), jobs: map[string]*job{},
	}
	go q.work()
	return q
}

// submit queues validated options.
func (q *queue) submit(o campaign.Options) (*job, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil, errShuttingDown
	}
	q.seq++
	j := &job{id: fmt.Sprintf("c%d", q.seq), opt: o, state: JobQueued, queuedAt: time.Now()}
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
			q.mu.Lock()
			skip := j.state != JobQueued // cancelled while it waited
			q.mu.Unlock()
			if !skip {
				q.runJob(j)
			}
		}
	}
}

func (q *queue) runJob(j *job) {
	ctx, cancel := context.WithCancel(q.ctx)
	defer cancel()
	q.mu.Lock()
	j.state, j.startedAt, j.cancel = JobRunning, time.Now(), cancel
	o := j.opt
	q.mu.Unlock()
	o.Log = q.log.With("launched", o.CampaignName())
	q.log.Info("campaign starting", "job", j.id, "command", o.ReproduceCommand())
	runDir, err := q.launch(ctx, o, progressFunc(func(s campaign.Snapshot) {
		q.mu.Lock()
		defer q.mu.Unlock()
		j.progress = s
		if s.RunDir != "" {
			j.runDir = s.RunDir
		}
	}))

	q.mu.Lock()
	if runDir != "" {
		j.runDir = runDir
	}
	state := finalState(j.cancelled, q.ctx.Err() != nil, err)
	dir := j.runDir
	q.mu.Unlock()
	if _, ok := runIDOf(q.store, dir); ok && (state == JobInterrupted || state == JobCancelled) {
		// The campaign should have marked its run itself; make sure a run
		// left "running" does not look alive forever. This happens before
		// the job shows its final state, so whoever sees the job ended
		// also sees its run marked.
		why := "checker serve stopped while the campaign ran"
		if state == JobCancelled {
			why = "cancelled from checker serve"
		}
		if err := store.MarkInterrupted(dir, why); err != nil {
			q.log.Warn("marking run interrupted", "run", dir, "err", err)
		}
	}
	q.mu.Lock()
	j.state, j.endedAt = state, time.Now()
	if err != nil && state != JobDone {
		j.err = err.Error()
	}
	took := j.endedAt.Sub(j.startedAt)
	q.mu.Unlock()
	if q.finished != nil {
		q.finished(state, took)
	}
	q.log.Info("campaign finished", "job", j.id, "state", state, "run", dir)
}

// finalState names how a job ended: cancelled by a user, interrupted by the
// server stopping, failed with an error, or done.
func finalState(cancelled, stopping bool, err error) string {
	switch {
	case cancelled:
		return JobCancelled
	case stopping:
		return JobInterrupted
	case err != nil:
		return JobFailed
	default:
		return JobDone
	}
}

// progressFunc adapts a function to campaign.Progress.
type progressFunc func(campaign.Snapshot)

func (f progressFunc) Update(s campaign.Snapshot) { f(s) }

// launch runs the campaign, turning a panic into an error so that one bad
// campaign does not take the server down.
func (q *queue) launch(ctx context.Context, o campaign.Options, p campaign.Progress) (runDir string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("campaign panicked: %v", r)
		}
	}()
	out, err := q.run(ctx, o, p)
	if out != nil {
		runDir = out.RunDir
	}
	return runDir, err
}

// cancelJob cancels a queued campaign (it will not run) or stops a running
// one the way Ctrl-C stops `checker run`: its faults are healed, its cluster
// removed, what was recorded checked, and its run marked interrupted. It
// returns once the request is recorded, not when the campaign has stopped.
func (q *queue) cancelJob(id string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	j, ok := q.jobs[id]
	switch {
	case !ok:
		return errNoJob
	case j.state == JobQueued:
		j.state, j.endedAt, j.cancelled = JobCancelled, time.Now(), true
	case j.state == JobRunning:
		if !j.cancelled {
			j.cancelled = true
			j.cancel()
		}
	default:
		return errJobOver
	}
	return nil
}

// counts returns how many campaigns wait and how many run.
func (q *queue) counts() (queued, running int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, j := range q.order {
		switch j.state {
		case JobQueued:
			queued++
		case JobRunning:
			running++
		}
	}
	return queued, running
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
	ID        string           `json:"id"`
	State     string           `json:"state"`
	Position  int              `json:"position,omitempty"` // 1 = next to run
	Command   string           `json:"command"`
	Options   campaign.Options `json:"options"`
	QueuedAt  time.Time        `json:"queued_at"`
	StartedAt *time.Time       `json:"started_at,omitempty"`
	EndedAt   *time.Time       `json:"ended_at,omitempty"`
	RunID     string           `json:"run_id,omitempty"`
	ReportURL string           `json:"report_url,omitempty"`
	Verdict   string           `json:"verdict,omitempty"`
	Progress  progressView     `json:"progress"`
	Error     string           `json:"error,omitempty"`
	URL       string           `json:"url"`
	// Cancelling: a cancel was asked for and the campaign is healing and
	// checking what it recorded before it stops.
	Cancelling bool `json:"cancelling,omitempty"`
}

type progressView struct {
	Phase   string  `json:"phase,omitempty"`
	Elapsed float64 `json:"elapsed_s"`
	Total   float64 `json:"total_s"`
	Percent float64 `json:"percent"`
	Ok      int     `json:"ok"`
	Fail    int     `json:"fail"`
	Info    int     `json:"info"`
	Fault   string  `json:"fault,omitempty"`
	Leader  string  `json:"leader,omitempty"`
}

// view snapshots a job.
func (q *queue) view(id string) (JobView, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	j, ok := q.jobs[id]
	if !ok {
		return JobView{}, false
	}
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
	v := JobView{ID: j.id, State: j.state, Command: j.opt.ReproduceCommand(), Options: j.opt, QueuedAt: j.queuedAt, Error: j.err,
		URL: "/campaigns/" + j.id, Cancelling: j.cancelled && j.state == JobRunning}
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
		Fault: p.Fault, Leader: p.Leader}
	if pv.Total == 0 {
		pv.Total = j.opt.Duration.Seconds()
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
