package nemesis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// recoveryPoll is how often WaitRecovery asks the nodes.
const recoveryPoll = 200 * time.Millisecond

// WaitRecovery waits until the cluster has recovered from the faults: every
// running node answers, all of them name the same leader, that leader says
// it leads, and every node has applied at least the commit index the leader
// reported when that agreement was first seen (a fixed target, so a workload
// still writing cannot keep it moving). When bound passes first, the error
// names every node that did not recover and why.
func WaitRecovery(ctx context.Context, env Env, bound time.Duration) error {
	if env.Cluster == nil || env.Admin == nil {
		return errors.New("nemesis: WaitRecovery needs a cluster and an admin client")
	}
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	var (
		target       uint64 // leader's commit when agreement was first seen
		targetLeader string
		problems     []string
	)
	for {
		nodes := syncAdmin(env)
		sts := statuses(ctx, env, nodes)
		if ctx.Err() != nil && problems != nil {
			// The bound passed during this round: its answers say only
			// that; the previous round says what was wrong.
			return fmt.Errorf("nemesis: cluster did not recover within %s: %s", bound, strings.Join(problems, "; "))
		}
		problems = []string{}
		leaders := map[string][]string{} // leader named -> nodes naming it
		for _, id := range nodes {
			s := sts[id]
			if s.err != nil {
				problems = append(problems, fmt.Sprintf("%s does not answer (%v)", id, s.err))
				continue
			}
			leaders[s.st.Leader] = append(leaders[s.st.Leader], id)
		}
		leader := ""
		switch {
		case len(problems) > 0:
		case len(leaders) != 1:
			problems = append(problems, "nodes disagree on the leader: "+describeLeaders(leaders))
		default:
			for l := range leaders {
				leader = l
			}
			switch {
			case leader == "":
				problems = append(problems, "no node knows a leader")
			case sts[leader].err != nil || sts[leader].st.Role != "leader":
				problems = append(problems, fmt.Sprintf("every node names %s as leader, but %s is not a running leader", leader, leader))
				leader = ""
			}
		}
		if leader != "" {
			if leader != targetLeader {
				targetLeader, target = leader, sts[leader].st.Commit
			}
			for _, id := range nodes {
				if applied := sts[id].st.Applied; applied < target {
					problems = append(problems, fmt.Sprintf("%s applied %d < leader %s commit %d", id, applied, leader, target))
				}
			}
			if len(problems) == 0 {
				return nil
			}
		}
		if !sleepCtx(ctx, recoveryPoll) {
			if len(problems) == 0 {
				problems = append(problems, "no status round completed")
			}
			return fmt.Errorf("nemesis: cluster did not recover within %s: %s", bound, strings.Join(problems, "; "))
		}
	}
}

func describeLeaders(leaders map[string][]string) string {
	parts := make([]string, 0, len(leaders))
	for _, l := range sortedKeys(leaders) {
		name := l
		if name == "" {
			name = "none"
		}
		parts = append(parts, fmt.Sprintf("%s say %s", strings.Join(leaders[l], ","), name))
	}
	return strings.Join(parts, ", ")
}
