package sweep

import (
	"fmt"
	"strconv"
	"strings"
)

// Shard selects a deterministic slice of a sweep, so N machines (CI jobs)
// can each run one and `checker merge` can put the whole sweep back
// together. The zero Shard is the whole sweep.
type Shard struct {
	Index int `json:"index"` // 1-based
	Count int `json:"count"`
}

// MaxShards bounds --shard to something a CI matrix holds.
const MaxShards = 256

// ParseShard reads "i/N" (1 <= i <= N). Errors name the flag.
func ParseShard(s string) (Shard, error) {
	i, n, ok := strings.Cut(s, "/")
	index, err1 := strconv.Atoi(strings.TrimSpace(i))
	count, err2 := strconv.Atoi(strings.TrimSpace(n))
	if !ok || err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("--shard must be i/N (say 2/4), got %q", s)
	}
	sh := Shard{Index: index, Count: count}
	return sh, sh.validate()
}

func (s Shard) validate() error {
	if s.IsZero() {
		return nil
	}
	if s.Count < 1 || s.Count > MaxShards || s.Index < 1 || s.Index > s.Count {
		return fmt.Errorf("--shard must be i/N with 1 <= i <= N <= %d, got %d/%d", MaxShards, s.Index, s.Count)
	}
	return nil
}

// IsZero reports whether s selects the whole sweep.
func (s Shard) IsZero() bool { return s == Shard{} }

func (s Shard) String() string {
	if s.IsZero() {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// groups cuts a plan into the units a shard takes whole: a liveness bug's
// run together with its baseline (judging one needs the other), every other
// campaign on its own. Groups keep plan order.
func groups(plan []PlannedRun) [][]PlannedRun {
	var out [][]PlannedRun
	for i := 0; i < len(plan); i++ {
		g := []PlannedRun{plan[i]}
		if plan[i].Role == RoleBug && i+1 < len(plan) && plan[i+1].Role == RoleBaseline &&
			plan[i+1].Bug == plan[i].Bug && plan[i+1].Index == plan[i].Index {
			g = append(g, plan[i+1])
			i++
		}
		out = append(out, g)
	}
	return out
}

// Select returns the shard's slice of plan: the groups whose position is
// Index-1 modulo Count, in plan order. Dealing groups round-robin keeps the
// shards within one campaign of each other in length and spreads every
// bug's seeds over the shards. The zero Shard returns plan itself.
func (s Shard) Select(plan []PlannedRun) []PlannedRun {
	if s.IsZero() {
		return plan
	}
	var out []PlannedRun
	for k, g := range groups(plan) {
		if k%s.Count == s.Index-1 {
			out = append(out, g...)
		}
	}
	return out
}
