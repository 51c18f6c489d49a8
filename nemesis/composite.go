package nemesis

import (
	"fmt"
	"slices"
	"strings"
)

// Composite is a schedule named explicitly in --nemesis: several faults
// started together (in the order written), held together and ended together
// (in reverse order), e.g. "partition:isolate-leader+slow:disk". Each part
// is recorded as a fault of its own kind, so the history shows them
// overlapping.
type Composite []Part

// Part is one fault of a composite: a kind, and the mode it plays ("" for
// any mode that applies).
type Part struct {
	Kind Kind
	Mode string
}

func (c Composite) String() string {
	parts := make([]string, len(c))
	for i, p := range c {
		parts[i] = string(p.Kind)
		if p.Mode != "" {
			parts[i] += ":" + p.Mode
		}
	}
	return strings.Join(parts, "+")
}

// kinds lists the kinds of c's parts.
func (c Composite) kinds() []Kind {
	out := make([]Kind, len(c))
	for i, p := range c {
		out[i] = p.Kind
	}
	return out
}

// parseComposite reads entry (the n-th of spec) "kind[:mode]+kind[:mode]...".
func parseComposite(spec string, n int, entry string) (Composite, error) {
	var c Composite
	for _, text := range strings.Split(entry, "+") {
		kindText, mode, hasMode := strings.Cut(strings.TrimSpace(text), ":")
		k := Kind(strings.TrimSpace(kindText))
		mode = strings.TrimSpace(mode)
		switch {
		case k == "":
			return nil, fmt.Errorf("--nemesis %q: entry %d: a part of the composite %q is empty", spec, n, strings.TrimSpace(entry))
		case !slices.Contains(EveryKind, k):
			return nil, fmt.Errorf("--nemesis %q: entry %d: unknown kind %q (kinds: %s)", spec, n, k, kindList())
		case hasMode && !slices.Contains(KindModes(k), mode):
			return nil, fmt.Errorf("--nemesis %q: entry %d: %q is not a mode of %s (modes: %s)", spec, n, mode, k, strings.Join(KindModes(k), ", "))
		}
		c = append(c, Part{Kind: k, Mode: mode})
	}
	return c, nil
}

// allKinds lists the kinds sel plays, alone or in a composite, once each.
func (sel Selection) allKinds() []Kind {
	out := slices.Clone(sel.Kinds)
	for _, c := range sel.Composites {
		for _, k := range c.kinds() {
			if !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	return out
}

// planComposite plans every part of c on v, or reports that a part has no
// mode that applies.
func (p *planner) planComposite(c Composite, v view) ([]fault, bool) {
	faults := make([]fault, 0, len(c))
	for _, part := range c {
		f, ok := p.planKind(part.Kind, part.Mode, v)
		if !ok {
			return nil, false
		}
		faults = append(faults, f)
	}
	return faults, true
}

// nextPlay picks the next play: one fault of a selected kind, or the faults
// of a composite. Without composites it is next, so the seeded schedules of
// plain selections stay as they were; composites are picked after the
// kinds, by the same draw.
func (p *planner) nextPlay(v view) ([]fault, bool) {
	if len(p.composites) == 0 {
		f, ok := p.next(v)
		return []fault{f}, ok
	}
	kinds := p.applicable(v)
	var comps []Composite
	for _, c := range p.composites {
		if p.compositeApplies(c, v) {
			comps = append(comps, c)
		}
	}
	if len(kinds)+len(comps) == 0 {
		return nil, false
	}
	i := p.rng.IntN(len(kinds) + len(comps))
	if i < len(kinds) {
		modes := p.modes(kinds[i].name(), v)
		return []fault{kinds[i].plan(p, modes[p.rng.IntN(len(modes))], v)}, true
	}
	return p.planComposite(comps[i-len(kinds)], v)
}

// compositeApplies reports whether every part of c has a mode for v.
func (p *planner) compositeApplies(c Composite, v view) bool {
	for _, part := range c {
		fk := kindOf(part.Kind)
		if fk == nil {
			return false
		}
		modes := fk.modes(p, v)
		if len(modes) == 0 || part.Mode != "" && !slices.Contains(modes, part.Mode) {
			return false
		}
	}
	return true
}

// planKind plans a fault of kind k on v, of the given mode or, when mode is
// "", of a mode drawn among those that apply.
func (p *planner) planKind(k Kind, mode string, v view) (fault, bool) {
	fk := kindOf(k)
	if fk == nil {
		return fault{}, false
	}
	modes := fk.modes(p, v)
	if mode != "" {
		modes = slices.DeleteFunc(modes, func(m string) bool { return m != mode })
	}
	if len(modes) == 0 {
		return fault{}, false
	}
	return fk.plan(p, modes[p.rng.IntN(len(modes))], v), true
}
