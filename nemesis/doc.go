// Package nemesis owns the faults of a campaign: the fault kinds and their
// seeded schedule, the partition topologies (as pure functions returning a
// runtime.Grudge), clock skew within the lease safety bound, membership
// churn, crashes and pauses, the recording of every fault as a start/end
// pair of nemesis events on the history's clock, and guaranteed healing.
//
// It acts only through the runtime.Cluster interface and the system's client
// API (black box: it learns the leader and the configuration from
// /admin/status like any client would). It must not touch the workload's
// clients, the history file beyond recording its own events, or the checker.
//
// # Fault kinds
//
// Each kind is one implementation of faultKind (kind.go) in its own file:
// partition.go, clock.go, membership.go, kill.go, pause.go, slow.go. A kind
// says its name, what it needs (capabilities of the system under test from
// sut/system, operations of the runtime), which modes make sense for the
// cluster as the planner sees it, how it draws a fault from the seeded
// stream, how it starts the fault and how it heals it, and the value and
// description of its events. The planner (plan.go), the run loop
// (nemesis.go) and the healing (heal.go) know kinds only through that
// interface.
//
// To add a kind:
//
//  1. Write <kind>.go with a `const MyKind Kind = "my-kind"`, a type
//     implementing faultKind, and its mode constants. Keep the plan in the
//     fields of fault it can use (Targets, Groups, Grudge, ...) or in
//     fault.Params as a type of your own.
//  2. Append it to registry in kind.go: the one registration line. Always at
//     the end: the seeded schedule picks kinds by index, and appending keeps
//     the schedules of older kinds as they were.
//  3. Declare its needs. A capability missing from sut/system's vocabulary
//     is added there (capability.go), in a small hunk. A mode that needs
//     more than the kind checks p.has in modes.
//  4. start must mark the damage (n.markNode, n.cut) before each action, so
//     that a heal also undoes an action that timed out. heal must undo the
//     damage of its own fault and leave that of overlapping faults alone:
//     n.uncut(ctx, f) lifts f's partition only, n.healable(set, f) lists
//     the nodes f (or no active fault) left in a damage set. Damage of a
//     new sort gets a damageSet and a sweep method (sweeper), which
//     HealAll calls on every exit path; a kind that acts during its hold
//     implements holder.
//  5. Say how it combines with other faults (overlapper): by default one of
//     its kind at a time beside faults of other kinds.
//  6. Test against real raftd (cluster_test.go's startCluster) that it
//     takes effect and is healed, and add its event value to the history
//     contract (docs/).
//
// # Schedules
//
// By default one fault at a time: plan, start, hold for --interval, end,
// stay quiet for --interval (Run, step). With Options.Concurrent > 1
// (--concurrent-faults) the schedule has that many lanes (overlap.go), each
// alternating plays and quiet gaps of its own seeded lengths; a play's kind
// is drawn among those that combine (Overlap) with the plays of other lanes
// it overlaps, and its targets among the nodes still up. An entry of
// --nemesis joined by "+" (composite.go) names faults that start, hold and
// end together. Every fault is recorded as its own start/end pair.
//
// ForSystem refuses, before anything starts, a kind whose needs the system
// lacks, with a *system.MissingError; "all" means every kind the system
// supports. A mode that needs more than its kind (membership's swaps need
// member-replace) says so through modeNeeds: the planner leaves it out on
// a system without it, and ForSystem refuses it when named.
//
// A membership addition follows the system's order: raftd's node starts
// first and is added after; a system whose admin is a system.PreAdder
// (etcd) is told the node's reserved peer address (runtime.Reserver) and
// adds it before the node starts with the member list it returned.
package nemesis
