package runtime

import (
	"fmt"
	"regexp"
	"sort"
)

// validName is what node ids may contain: they end up in flags
// ("id=addr,..."), container names, DNS aliases (at most 63 bytes) and file
// names.
var validName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$`)

// validCampaign is what campaign names may contain: they end up in
// container names, labels and directory names.
var validCampaign = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,199}$`)

func validateNodeID(id string) error {
	if !validName.MatchString(id) {
		return fmt.Errorf("node id %q: want letters, digits, '.', '_' or '-' (at most 63, starting with a letter or digit)", id)
	}
	return nil
}

func validateSpec(spec Spec) error {
	if !validCampaign.MatchString(spec.Campaign) {
		return fmt.Errorf("spec.Campaign %q: want letters, digits, '.', '_' or '-' (at most 200, starting with a letter or digit)", spec.Campaign)
	}
	if spec.System == nil {
		return fmt.Errorf("spec.System: missing")
	}
	if len(spec.Nodes) == 0 {
		return fmt.Errorf("spec.Nodes: empty")
	}
	seen := map[string]bool{}
	for i, id := range spec.Nodes {
		if err := validateNodeID(id); err != nil {
			return fmt.Errorf("spec.Nodes[%d]: %w", i, err)
		}
		if seen[id] {
			return fmt.Errorf("spec.Nodes[%d]: node id %q listed twice", i, id)
		}
		seen[id] = true
	}
	return nil
}

// validateGrudge checks that every id in g names a live node.
func validateGrudge(g Grudge, live func(string) bool) error {
	for dst, srcs := range g {
		if !live(dst) {
			return fmt.Errorf("grudge: destination %q: %w", dst, ErrUnknownNode)
		}
		for _, src := range srcs {
			if !live(src) {
				return fmt.Errorf("grudge[%s]: source %q: %w", dst, src, ErrUnknownNode)
			}
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func copyGrudge(g Grudge) Grudge {
	out := Grudge{}
	for dst, srcs := range g {
		if len(srcs) > 0 {
			out[dst] = append([]string(nil), srcs...)
		}
	}
	return out
}

func removeString(list []string, s string) []string {
	out := list[:0]
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}
