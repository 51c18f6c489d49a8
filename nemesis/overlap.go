package nemesis

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// MaxConcurrent bounds --concurrent-faults.
const MaxConcurrent = 8

// Overlap says how a kind's faults combine with other active faults when
// several lanes play at once (Options.Concurrent > 1).
type Overlap int

const (
	// OverlapOthers: beside faults of other kinds, but one of its own kind
	// at a time (clock, slow: a second one would overwrite the first's
	// settings on the same node). The default.
	OverlapOthers Overlap = iota
	// OverlapSameKind: beside any other fault, its own kind included
	// (partition: grudges add up; kill and pause: on nodes still up).
	OverlapSameKind
	// OverlapNone: only when no other fault is active, and nothing starts
	// beside it (membership: its repair assumes it is alone).
	OverlapNone
)

// overlapper is implemented by a kind whose faults combine otherwise than
// OverlapOthers.
type overlapper interface {
	overlap() Overlap
}

func overlapOf(k Kind) Overlap {
	if o, ok := kindOf(k).(overlapper); ok {
		return o.overlap()
	}
	return OverlapOthers
}

// compatible reports whether faults of kinds a and b may be active at once.
func compatible(a, b Kind) bool {
	oa, ob := overlapOf(a), overlapOf(b)
	switch {
	case oa == OverlapNone || ob == OverlapNone:
		return false
	case a == b:
		return oa == OverlapSameKind
	}
	return true
}

// compatibleSets reports whether every kind of as may be active with every
// kind of bs.
func compatibleSets(as, bs []Kind) bool {
	for _, a := range as {
		for _, b := range bs {
			if !compatible(a, b) {
				return false
			}
		}
	}
	return true
}

// slot is one planned play of an overlapping schedule: on which lane, when
// (offsets from the start of Run), and which of the choices (the selected
// kinds, then the composites), -1 for none.
type slot struct {
	lane       int
	start, end time.Duration
	choice     int
}

// timeline is the seeded overlapping schedule: lanes lanes, each with its
// own random stream, alternate plays and quiet gaps of 0.5 to 1.5 Interval.
// Lane i starts i/lanes of an Interval late. A play's choice is drawn among
// those compatible with every play of the other lanes it overlaps, so the
// schedule (which plays overlap which) depends on the seed only; what each
// play does to which node is drawn when it starts, from the cluster as it is.
type timeline struct {
	interval time.Duration
	choices  [][]Kind // the kinds of each choice
	rngs     []*rand.Rand
	next     []time.Duration // when each lane's next play starts
	planned  []slot          // plays that may still overlap a later one
}

func newTimeline(opt Options) *timeline {
	t := &timeline{interval: opt.Interval}
	for _, k := range opt.Kinds {
		t.choices = append(t.choices, []Kind{k})
	}
	for _, c := range opt.Composites {
		t.choices = append(t.choices, c.kinds())
	}
	for i := range opt.Concurrent {
		t.rngs = append(t.rngs, rand.New(rand.NewPCG(uint64(opt.Seed), 0x6c616e65+uint64(i))))
		t.next = append(t.next, time.Duration(i)*opt.Interval/time.Duration(opt.Concurrent))
	}
	return t
}

// span draws a hold or a gap: 0.5 to 1.5 Interval.
func (t *timeline) span(rng *rand.Rand) time.Duration {
	return t.interval/2 + time.Duration(rng.Int64N(int64(t.interval)+1))
}

// nextSlot plans the play that starts next (the earliest lane; the lowest
// lane on a tie).
func (t *timeline) nextSlot() slot {
	lane := 0
	for i := range t.next {
		if t.next[i] < t.next[lane] {
			lane = i
		}
	}
	rng := t.rngs[lane]
	s := slot{lane: lane, start: t.next[lane], choice: -1}
	s.end = s.start + t.span(rng)
	t.next[lane] = s.end + t.span(rng)
	t.planned = slices.DeleteFunc(t.planned, func(o slot) bool { return o.end <= s.start })
	var fits []int
	for c, kinds := range t.choices {
		if !slices.ContainsFunc(t.planned, func(o slot) bool { return o.choice >= 0 && !compatibleSets(kinds, t.choices[o.choice]) }) {
			fits = append(fits, c)
		}
	}
	if len(fits) > 0 {
		s.choice = fits[rng.IntN(len(fits))]
	}
	t.planned = append(t.planned, s)
	return s
}

// lanePoll is how often a lane checks whether its play may start yet (a
// fault of another lane that overran its slot may still be active).
const lanePoll = 50 * time.Millisecond

// runLanes plays the timeline until ctx is done: a dispatcher hands each
// slot, at its start time, to its lane; each lane plays its slots in order.
// When ctx ends, every lane ends what it started before runLanes returns.
func (n *Nemesis) runLanes(ctx context.Context) error {
	t := newTimeline(n.opt)
	lanes := make([]chan dispatched, n.opt.Concurrent)
	planners := make([]*planner, n.opt.Concurrent)
	for i := range lanes {
		lanes[i] = make(chan dispatched, 64)
		opt := n.opt
		opt.Seed = n.opt.Seed + int64(i+1)*0x9e3779b9
		planners[i] = newPlanner(opt, nil)
		planners[i].nextID = n.plan.nextID // fresh ids stay unique across lanes
		planners[i].noDataDirs = n.plan.noDataDirs
	}
	var (
		wg      sync.WaitGroup
		errMu   sync.Mutex
		laneErr error
	)
	for i := range lanes {
		wg.Go(func() {
			for d := range lanes[i] {
				if err := n.playSlot(ctx, planners[i], t, d); err != nil {
					errMu.Lock()
					laneErr = err
					errMu.Unlock()
					return
				}
			}
		})
	}
	began := time.Now()
	for ctx.Err() == nil {
		s := t.nextSlot()
		if !sleepCtx(ctx, time.Until(began.Add(s.start))) {
			break
		}
		if s.choice >= 0 {
			lanes[s.lane] <- dispatched{slot: s, until: began.Add(s.end)}
		}
	}
	for _, l := range lanes {
		close(l)
	}
	wg.Wait()
	return laneErr
}

// dispatched is a slot handed to its lane, with the wall-clock time its
// play must end by.
type dispatched struct {
	slot
	until time.Time
}

// playSlot plays d when its kinds may join the faults active now (waiting
// for an overrun fault of another lane to end; a play whose end has passed
// meanwhile is dropped), on the nodes no active fault has taken down, until
// d's end.
func (n *Nemesis) playSlot(ctx context.Context, p *planner, t *timeline, d dispatched) error {
	kinds := t.choices[d.choice]
	for !n.admits(kinds) {
		if time.Now().After(d.until) || !sleepCtx(ctx, lanePoll) {
			return nil
		}
	}
	v := currentView(ctx, n.env)
	if ctx.Err() != nil {
		return nil
	}
	n.opMu.Lock()
	v = n.liveViewLocked(v)
	faults, ok := p.planChoice(d.choice, v)
	n.opMu.Unlock()
	if !ok {
		n.log.Info("no mode of this play applies to the cluster as it is; lane stays quiet",
			"lane", d.lane, "kinds", FormatKinds(kinds), "nodes", v.nodes)
		return nil
	}
	return n.play(ctx, faults, time.Until(d.until))
}

// admits reports whether faults of kinds may start beside the active ones.
func (n *Nemesis) admits(kinds []Kind) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, a := range n.active {
		if !compatibleSets(kinds, []Kind{a.f.Kind}) {
			return false
		}
	}
	return true
}

// liveViewLocked removes from v the nodes an active fault has killed or
// paused, so a new fault hits nodes that are still up (and a leader that
// is). Called with opMu held; without active faults v is unchanged.
func (n *Nemesis) liveViewLocked(v view) view {
	n.mu.Lock()
	var down []string
	for _, set := range []damageSet{setKilled, setPaused} {
		for id, owner := range n.damage.nodes[set] {
			if n.activeSeqLocked(owner, 0) {
				down = append(down, id)
			}
		}
	}
	n.mu.Unlock()
	if len(down) == 0 {
		return v
	}
	v.nodes = minus(v.nodes, down)
	if slices.Contains(down, v.leader) {
		v.leader = ""
	}
	return v
}

// planChoice plans the faults of the timeline's choice c on v.
func (p *planner) planChoice(c int, v view) ([]fault, bool) {
	if c < len(p.kinds) {
		f, ok := p.planSelected(p.kinds[c], v)
		return []fault{f}, ok
	}
	return p.planComposite(p.composites[c-len(p.kinds)], v)
}

// planSelected plans a fault of selected kind k among its selected modes.
func (p *planner) planSelected(k Kind, v view) (fault, bool) {
	modes := p.modes(k, v)
	if len(modes) == 0 {
		return fault{}, false
	}
	return kindOf(k).plan(p, modes[p.rng.IntN(len(modes))], v), true
}
