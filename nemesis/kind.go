package nemesis

import (
	"fmt"
	"slices"
	"strings"
)

// Kind is a class of fault.
type Kind string

const (
	Partition  Kind = "partition"
	Clock      Kind = "clock"
	Membership Kind = "membership"
	Kill       Kind = "kill"
	Pause      Kind = "pause"
	Slow       Kind = "slow" // a slow disk, state machine or network (slow.go)
)

// AllKinds lists every kind in a fixed order (the order matters: the seeded
// schedule picks by index). Slow came last so that the schedules of seeds
// that name only the older kinds stay as they were.
var AllKinds = []Kind{Partition, Clock, Membership, Kill, Pause, Slow}

// Selection is a parsed --nemesis: the kinds to play and, for a kind named
// with modes ("partition:isolate-leader"), the only modes it plays.
type Selection struct {
	Kinds []Kind
	Modes map[Kind][]string // a kind absent here plays every mode
}

// ParseSelection reads --nemesis: "all" (also the empty string), "none", or a
// comma-separated list of entries, each a kind ("partition") or a kind and
// one of its modes ("partition:isolate-leader"); entries of one kind add up.
// A kind named bare as well as with modes plays every mode. Kinds come out in
// AllKinds order and modes in the kind's own order, without duplicates, so
// the seeded schedule does not depend on how the list was written.
func ParseSelection(s string) (Selection, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "", "all":
		return Selection{Kinds: slices.Clone(AllKinds)}, nil
	case "none":
		return Selection{}, nil
	}
	want := map[Kind]bool{}
	bare := map[Kind]bool{}
	modes := map[Kind]map[string]bool{}
	for i, part := range strings.Split(s, ",") {
		kindText, mode, hasMode := strings.Cut(strings.TrimSpace(part), ":")
		k := Kind(strings.TrimSpace(kindText))
		mode = strings.TrimSpace(mode)
		switch {
		case k == "":
			return Selection{}, fmt.Errorf("--nemesis %q: entry %d is empty", s, i+1)
		case k == "all" || k == "none":
			return Selection{}, fmt.Errorf("--nemesis %q: %q cannot be combined with other kinds", s, k)
		case !slices.Contains(AllKinds, k):
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
	sel := Selection{}
	for _, k := range AllKinds {
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
	if len(sel.Kinds) == 0 {
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
	return strings.Join(parts, ",")
}

// KindModes lists every mode of kind k, in the planner's order: the modes the
// planner can offer for a five-node cluster with a leader and room to grow
// and shrink its configuration.
func KindModes(k Kind) []string {
	nodes := []string{"n1", "n2", "n3", "n4", "n5"}
	p := &planner{kinds: AllKinds, maxNodes: len(nodes), maxDrift: 0.5}
	return p.allModes(k, view{nodes: nodes, voters: nodes[:4], leader: "n1"})
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

func kindList() string { return FormatKinds(AllKinds) }
