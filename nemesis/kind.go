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
)

// AllKinds lists every kind in a fixed order (the order matters: the seeded
// schedule picks by index).
var AllKinds = []Kind{Partition, Clock, Membership, Kill, Pause}

// ParseKinds reads --nemesis: "all" (also the empty string), "none", or a
// comma-separated list of kinds. The result is in AllKinds order without
// duplicates, so "kill,partition" and "partition,kill" schedule alike.
func ParseKinds(s string) ([]Kind, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "", "all":
		return slices.Clone(AllKinds), nil
	case "none":
		return nil, nil
	}
	want := map[Kind]bool{}
	for i, part := range strings.Split(s, ",") {
		k := Kind(strings.TrimSpace(part))
		switch {
		case k == "":
			return nil, fmt.Errorf("--nemesis %q: entry %d is empty", s, i+1)
		case k == "all" || k == "none":
			return nil, fmt.Errorf("--nemesis %q: %q cannot be combined with other kinds", s, k)
		case !slices.Contains(AllKinds, k):
			return nil, fmt.Errorf("--nemesis %q: unknown kind %q (want all, none, or a comma list of %s)", s, k, kindList())
		}
		want[k] = true
	}
	var kinds []Kind
	for _, k := range AllKinds {
		if want[k] {
			kinds = append(kinds, k)
		}
	}
	return kinds, nil
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
