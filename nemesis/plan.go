package nemesis

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/faultline/faultline/sut/system"
)

// planner is the seeded schedule: given what it knows of the cluster, it
// picks the next fault among the registered kinds that were asked for. For
// one seed and the same sequence of views it returns the same sequence of
// faults.
type planner struct {
	rng        *rand.Rand
	kinds      []Kind
	selected   map[Kind][]string // kinds limited to some modes (Options.Modes)
	composites []Composite       // Options.Composites
	caps       system.Capabilities
	maxNodes   int
	maxDrift   float64
	nextID     *int // numeric suffix of the next fresh node id (shared by lanes)
	// noDataDirs: the runtime cannot reach a stopped node's data directory
	// (runtime.DataDirs), so corrupt offers no mode.
	noDataDirs bool
}

func newPlanner(opt Options, initial []string) *planner {
	return &planner{
		rng:        rand.New(rand.NewPCG(uint64(opt.Seed), 0x6e656d65736973)),
		kinds:      opt.Kinds,
		selected:   opt.Modes,
		composites: opt.Composites,
		caps:       opt.Capabilities,
		maxNodes:   opt.MaxNodes,
		maxDrift:   opt.MaxClockDrift,
		nextID:     new(nextNodeNumber(initial)),
	}
}

// has reports whether the system offers capability c; a planner without
// declared capabilities (Options.Capabilities nil) assumes every one.
func (p *planner) has(c system.Capability) bool { return p.caps == nil || p.caps.Has(c) }

// nextNodeNumber is one more than the largest n<k> among ids, so fresh
// nodes continue the initial numbering (n1..n5, then n6, n7...).
func nextNodeNumber(ids []string) int {
	next := len(ids) + 1
	for _, id := range ids {
		if k, err := strconv.Atoi(strings.TrimPrefix(id, "n")); err == nil && strings.HasPrefix(id, "n") && k >= next {
			next = k + 1
		}
	}
	return next
}

// freshID returns a node id never used in this campaign.
func (p *planner) freshID(v view) string {
	for {
		id := "n" + strconv.Itoa(*p.nextID)
		*p.nextID++
		if !slices.Contains(v.nodes, id) && !slices.Contains(v.voters, id) {
			return id
		}
	}
}

// next picks the next fault among the kinds applicable to v, or reports
// that none applies (e.g. only membership was asked for and the
// configuration cannot shrink or grow within [3, MaxNodes]).
func (p *planner) next(v view) (fault, bool) {
	kinds := p.applicable(v)
	if len(kinds) == 0 {
		return fault{}, false
	}
	fk := kinds[p.rng.IntN(len(kinds))]
	modes := p.modes(fk.name(), v)
	mode := modes[p.rng.IntN(len(modes))]
	return fk.plan(p, mode, v), true
}

// applicable lists the selected kinds that have a mode for v, in order.
func (p *planner) applicable(v view) []faultKind {
	var kinds []faultKind
	for _, k := range p.kinds {
		if fk := kindOf(k); fk != nil && len(p.modes(k, v)) > 0 {
			kinds = append(kinds, fk)
		}
	}
	return kinds
}

// modes lists the variants of kind k the planner may play on v: those that
// make sense for v, limited to the selected ones when --nemesis named modes.
func (p *planner) modes(k Kind, v view) []string {
	fk := kindOf(k)
	if fk == nil {
		return nil
	}
	all := fk.modes(p, v)
	chosen, limited := p.selected[k]
	if !limited {
		return all
	}
	return slices.DeleteFunc(all, func(m string) bool { return !slices.Contains(chosen, m) })
}

// asked reports whether --nemesis named mode of kind k explicitly, alone or
// in a composite.
func (p *planner) asked(k Kind, mode string) bool {
	if slices.Contains(p.selected[k], mode) {
		return true
	}
	for _, c := range p.composites {
		if slices.Contains(c, Part{Kind: k, Mode: mode}) {
			return true
		}
	}
	return false
}

func (p *planner) pick(ids []string) string { return ids[p.rng.IntN(len(ids))] }

func (p *planner) shuffled(ids []string) []string {
	s := slices.Clone(ids)
	p.rng.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
	return s
}
