package nemesis

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/sut/system"
)

// Kind is the name of a class of fault, as written in --nemesis and in the
// "<kind>-start" and "<kind>-end" events.
type Kind string

// faultKind is one class of fault. Each implementation lives in its own file
// and is listed once in registry; nothing else in the package switches on
// the kind.
type faultKind interface {
	// name is the kind's name.
	name() Kind
	// needs is what every mode of the kind needs; a mode that needs more
	// checks p.has itself in modes.
	needs() Needs
	// modes lists the modes that make sense for v, in a fixed order (the
	// seeded schedule picks by index).
	modes(p *planner, v view) []string
	// plan draws a fault of the given mode for v from p's seeded stream.
	plan(p *planner, mode string, v view) fault
	// start puts f in place, marking the damage (n.mark) before each action
	// so that a heal undoes an action that timed out and may have happened.
	start(ctx context.Context, n *Nemesis, f fault) error
	// heal undoes f, and any leftover of an earlier failed heal of the same
	// kind. It must succeed after ctx is cancelled by the run (the caller
	// passes a fresh bounded context then).
	heal(ctx context.Context, n *Nemesis, f fault) error
	// value is the value of f's start and end events (docs/history format).
	value(f fault) map[string]any
	// describe is f for humans: the progress line and logs.
	describe(f fault) string
}

// holder is implemented by a kind that acts during its hold of length d (a
// clock strobe flips offsets); other kinds just wait. hold returns by the
// end of d, or as soon as ctx is done.
type holder interface {
	hold(ctx context.Context, n *Nemesis, a *activeFault, d time.Duration)
}

// sweeper is implemented by a kind that leaves damage of its own, beyond the
// shared effects HealAll already undoes (partitions, pauses, kills, clocks,
// slowness, membership). HealAll calls sweep after partitions are healed and
// nodes resumed and restarted, before clocks and membership are repaired; it
// returns what it did.
type sweeper interface {
	sweep(ctx context.Context, n *Nemesis) ([]string, error)
}

// registry lists every kind, in the order the seeded schedule indexes them:
// a new kind goes at the end, so that the schedules of seeds that name only
// older kinds stay as they were.
var registry = []faultKind{
	partitionKind{},
	clockKind{},
	membershipKind{},
	killKind{},
	pauseKind{},
	slowKind{},
	powerKind{},
	linkKind{},
	corruptKind{},
}

// AllKinds lists, in registry order, the kinds "all" plays: every kind but
// the opt-in ones (Needs.OptIn), which are played only when named.
var AllKinds = withoutOptIn(EveryKind)

// EveryKind lists every kind in registry order, opt-in ones included.
var EveryKind = kindNames(registry)

func kindNames(kinds []faultKind) []Kind {
	names := make([]Kind, len(kinds))
	for i, k := range kinds {
		names[i] = k.name()
	}
	return names
}

// kindOf returns the registered kind named k, or nil.
func kindOf(k Kind) faultKind {
	for _, fk := range registry {
		if fk.name() == k {
			return fk
		}
	}
	return nil
}

// RuntimeOp is an operation of runtime.Cluster that a kind uses. Every
// runtime implements all of runtime.Cluster today, so these are declared for
// the reader and for a future runtime that cannot do one of them.
type RuntimeOp string

const (
	OpPartition RuntimeOp = "partition"  // Partition, Heal
	OpKill      RuntimeOp = "kill"       // Kill, Restart
	OpPause     RuntimeOp = "pause"      // Pause, Resume
	OpNodes     RuntimeOp = "add-remove" // AddNode, RemoveNode
)

// Needs is what a kind needs to be played at all: capabilities of the
// system under test and operations of the runtime.
type Needs struct {
	System  []system.Capability
	Runtime []RuntimeOp
	// OptIn kinds are played only when named: "all" leaves them out,
	// because both change how the cluster starts (power mounts powerfs
	// under each node's data; link routes peer traffic through a
	// forwarder), which a campaign must ask for before its nodes exist.
	OptIn bool
}

// withoutOptIn drops the opt-in kinds from kinds: what "all" plays.
func withoutOptIn(kinds []Kind) []Kind {
	return slices.DeleteFunc(slices.Clone(kinds), func(k Kind) bool { return KindNeeds(k).OptIn })
}

// KindNeeds returns what kind k needs (zero for an unknown kind).
func KindNeeds(k Kind) Needs {
	if fk := kindOf(k); fk != nil {
		return fk.needs()
	}
	return Needs{}
}

// missing returns the first capability of needs that caps lacks.
func (nd Needs) missing(caps system.Capabilities) (system.Capability, bool) {
	for _, c := range nd.System {
		if !caps.Has(c) {
			return c, true
		}
	}
	return "", false
}

// SupportedKinds lists, in registry order, the kinds whose needs caps meets.
func SupportedKinds(caps system.Capabilities) []Kind {
	var out []Kind
	for _, fk := range registry {
		if _, lacks := fk.needs().missing(caps); !lacks {
			out = append(out, fk.name())
		}
	}
	return out
}

// ForSystem checks sel against what the system under test offers, before
// anything starts. "all" (sel.All) becomes every kind the system supports;
// a kind named explicitly whose needs the system lacks is refused with a
// *system.MissingError naming the system, the capability and the kinds the
// system does support.
func (sel Selection) ForSystem(name string, caps system.Capabilities) (Selection, error) {
	supported := SupportedKinds(caps)
	if sel.All {
		out := Selection{All: true, Kinds: withoutOptIn(supported)}
		return out, nil
	}
	for _, k := range sel.allKinds() {
		fk := kindOf(k)
		if fk == nil {
			continue // ParseSelection refuses unknown kinds
		}
		if c, lacks := fk.needs().missing(caps); lacks {
			return Selection{}, &system.MissingError{System: name, Capability: c, Wanted: "nemesis kind " + string(k), Available: availableFaults(supported, caps)}
		}
	}
	for _, part := range sel.namedModes() {
		if c, lacks := modeMissing(part.Kind, part.Mode, caps); lacks {
			return Selection{}, &system.MissingError{System: name, Capability: c, Wanted: "nemesis mode " + string(part.Kind) + ":" + part.Mode, Available: availableFaults(supported, caps)}
		}
	}
	return sel, nil
}

// modeNeeder is implemented by a kind some of whose modes need a capability
// beyond the kind's needs (membership's swaps need member-replace): its
// modes leave them out on a system without it (planner.has), and ForSystem
// refuses them when --nemesis names them.
type modeNeeder interface {
	modeNeeds(mode string) []system.Capability
}

// modeMissing returns the first capability mode of kind k needs beyond the
// kind's own needs that caps lacks.
func modeMissing(k Kind, mode string, caps system.Capabilities) (system.Capability, bool) {
	mn, ok := kindOf(k).(modeNeeder)
	if !ok {
		return "", false
	}
	return Needs{System: mn.modeNeeds(mode)}.missing(caps)
}

// namedModes lists the kind:mode entries sel names, alone or in a
// composite.
func (sel Selection) namedModes() []Part {
	var out []Part
	for _, k := range sel.Kinds {
		for _, m := range sel.Modes[k] {
			out = append(out, Part{Kind: k, Mode: m})
		}
	}
	for _, c := range sel.Composites {
		for _, p := range c {
			if p.Mode != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// availableFaults names what a system with caps can still play: each
// supported kind, or, for a kind some of whose modes it cannot play, each
// mode it can ("membership:add").
func availableFaults(supported []Kind, caps system.Capabilities) []string {
	var out []string
	for _, k := range supported {
		modes := KindModes(k)
		playable := slices.DeleteFunc(slices.Clone(modes), func(m string) bool {
			_, lacks := modeMissing(k, m, caps)
			return lacks
		})
		if len(playable) == len(modes) {
			out = append(out, string(k))
			continue
		}
		for _, m := range playable {
			out = append(out, string(k)+":"+m)
		}
	}
	return out
}

// Selection is a parsed --nemesis: the kinds to play and, for a kind named
// with modes ("partition:isolate-leader"), the only modes it plays.
type Selection struct {
	Kinds []Kind
	Modes map[Kind][]string // a kind absent here plays every mode
	// Composites are the entries joined by "+": faults started together,
	// held together and ended together (composite.go).
	Composites []Composite
	// All is set when --nemesis was "all" (or empty): ForSystem then keeps
	// the kinds the system supports instead of refusing the others.
	All bool
}

// ParseSelection reads --nemesis: "all" (also the empty string), "none", or a
// comma-separated list of entries, each a kind ("partition"), a kind and
// one of its modes ("partition:isolate-leader"), or a composite of such
// parts joined by "+" ("partition:isolate-leader+kill:one"); entries of one
// kind add up, and composites come after the kinds, in the order written.
// A kind named bare as well as with modes plays every mode. Kinds come out in
// AllKinds order and modes in the kind's own order, without duplicates, so
// the seeded schedule does not depend on how the list was written.
func ParseSelection(s string) (Selection, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "", "all":
		return Selection{Kinds: slices.Clone(AllKinds), All: true}, nil
	case "none":
		return Selection{}, nil
	}
	want := map[Kind]bool{}
	bare := map[Kind]bool{}
	modes := map[Kind]map[string]bool{}
	var composites []Composite
	for i, part := range strings.Split(s, ",") {
		if strings.Contains(part, "+") {
			c, err := parseComposite(s, i+1, part)
			if err != nil {
				return Selection{}, err
			}
			composites = append(composites, c)
			continue
		}
		kindText, mode, hasMode := strings.Cut(strings.TrimSpace(part), ":")
		k := Kind(strings.TrimSpace(kindText))
		mode = strings.TrimSpace(mode)
		switch {
		case k == "":
			return Selection{}, fmt.Errorf("--nemesis %q: entry %d is empty", s, i+1)
		case k == "all" || k == "none":
			return Selection{}, fmt.Errorf("--nemesis %q: %q cannot be combined with other kinds", s, k)
		case !slices.Contains(EveryKind, k):
			return Selection{}, fmt.Errorf("--nemesis %q: unknown kind %q (want all, none, or a comma list of %s, each optionally kind:mode)", s, k, kindList())
		case hasMode && !slices.Contains(KindModes(k), mode):
			return Selection{}, fmt.Errorf("--nemesis %q: entry %d: %q is not a mode of %s (modes: %s)", s, i+1, mode, k, strings.Join(KindModes(k), ", "))
		}
		want[k] = true
		if !hasMode {
			bare[k] = true
			continue
		}
		if modes[k] == nil {
			modes[k] = map[string]bool{}
		}
		modes[k][mode] = true
	}
	sel := Selection{Composites: composites}
	for _, k := range EveryKind {
		if !want[k] {
			continue
		}
		sel.Kinds = append(sel.Kinds, k)
		if bare[k] || len(modes[k]) == 0 {
			continue
		}
		if sel.Modes == nil {
			sel.Modes = map[Kind][]string{}
		}
		for _, m := range KindModes(k) {
			if modes[k][m] {
				sel.Modes[k] = append(sel.Modes[k], m)
			}
		}
	}
	return sel, nil
}

// ParseKinds is ParseSelection's kinds only.
func ParseKinds(s string) ([]Kind, error) {
	sel, err := ParseSelection(s)
	return sel.Kinds, err
}

// String is the inverse of ParseSelection: "none", or a comma list.
func (sel Selection) String() string {
	if len(sel.Kinds) == 0 && len(sel.Composites) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range sel.Kinds {
		if ms, ok := sel.Modes[k]; ok {
			for _, m := range ms {
				parts = append(parts, string(k)+":"+m)
			}
			continue
		}
		parts = append(parts, string(k))
	}
	for _, c := range sel.Composites {
		parts = append(parts, c.String())
	}
	return strings.Join(parts, ",")
}

// KindModes lists every mode of kind k, in the planner's order: the modes the
// planner can offer for a five-node cluster with a leader and room to grow
// and shrink its configuration, on a system with every capability.
func KindModes(k Kind) []string {
	fk := kindOf(k)
	if fk == nil {
		return nil
	}
	nodes := []string{"n1", "n2", "n3", "n4", "n5"}
	p := &planner{kinds: AllKinds, maxNodes: len(nodes), maxDrift: 0.5}
	return fk.modes(p, view{nodes: nodes, voters: nodes[:4], leader: "n1"})
}

// FormatKinds is the inverse of ParseKinds: "none", or a comma list.
func FormatKinds(kinds []Kind) string {
	if len(kinds) == 0 {
		return "none"
	}
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = string(k)
	}
	return strings.Join(parts, ",")
}

func kindList() string { return FormatKinds(EveryKind) }
