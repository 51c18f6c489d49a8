package check

import (
	"strings"
	"testing"

	"github.com/faultline/faultline/history"
)

const (
	fAdd = history.FAdd
	fApp = history.FAppend
)

func TestSetValid(t *testing.T) {
	res := mustCheck(t, histOf(
		ok(1, fR, "s", nil, nil, 0, 5, "n1"), // absent set reads as empty
		ok(1, fAdd, "s", 1, nil, 10, 20, "n1"),
		ok(2, fAdd, "s", 2, nil, 12, 40, "n2"),
		ok(3, fR, "s", nil, []int{1}, 25, 30, "n3"), // 2 not yet visible: concurrent
		ok(3, fR, "s", nil, []int{2, 1}, 50, 60, "n3"),
		info(4, fAdd, "s", 3, 70, 80),
		ok(3, fR, "s", nil, []int{1, 2}, 90, 95, "n1"),
		ok(1, fR, "s", nil, []any{1, 2, 3}, 100, 110, "n1"), // the unknown add took effect
		fail(2, fAdd, "s", 4, 120, 130),
		ok(2, fR, "s", nil, []int{1, 2, 3}, 140, 150, "n2"),
	), Options{})
	expectValid(t, res)
	if res.Workload != WorkloadSet {
		t.Fatalf("inferred workload %q", res.Workload)
	}
}

func TestSetStaleRead(t *testing.T) {
	res := mustCheck(t, histOf(
		ok(1, fAdd, "s", 1, nil, 1000, 1100, "n1"),
		ok(2, fR, "s", nil, []int{}, 1500, 1600, "n3"),
		ok(1, fAdd, "s", 2, nil, 2000, 2100, "n1"),
		ok(2, fR, "s", nil, []int{1, 2}, 3000, 3100, "n2"), // the final read has both
	), Options{})
	expectAnomalies(t, res, StaleRead)
	a := res.Anomalies[0]
	expectExplanation(t, a, "read of s at 1.5 s on n3 missed add of 1, acknowledged at 1.1 s on n1, 0.4 s before the read began")
	if a.StaleBy != 400*ms || a.Node != "n3" {
		t.Errorf("anomaly %+v", a)
	}
}

func TestSetLostCommit(t *testing.T) {
	res := mustCheck(t, histOf(
		ok(1, fAdd, "s", 1, nil, 1000, 1100, "n1"),
		ok(2, fAdd, "s", 2, nil, 2000, 2100, "n2"),
		ok(3, fR, "s", nil, []int{1, 2}, 2500, 2600, "n2"),
		ok(3, fR, "s", nil, []int{1}, 9000, 9100, "n3"),
		ok(4, fR, "s", nil, []int{1}, 9000, 9200, "n1"),
	), Options{})
	expectAnomalies(t, res, LostCommit)
	expectExplanation(t, res.Anomalies[0], "add of 2 to s, acknowledged at 2.1 s on n2, is lost: the final read at 9.0 s on n3")
}

func TestSetPhantomAndDuplicate(t *testing.T) {
	res := mustCheck(t, histOf(
		ok(1, fAdd, "s", 1, nil, 0, 10, "n1"),
		ok(2, fR, "s", nil, []int{1, 7}, 20, 30, "n2"),
		ok(2, fR, "s", nil, []int{1, 1}, 40, 50, "n3"),
	), Options{Workload: WorkloadSet})
	expectAnomalies(t, res, Phantom, Duplicate)
	expectExplanation(t, res.Anomalies[0], "returned 7, which no add had begun to write")
	expectExplanation(t, res.Anomalies[1], "returned 1 2 times, but a set holds each element once")
}

func TestAppendValid(t *testing.T) {
	res := mustCheck(t, histOf(
		ok(1, fApp, "l", "a", nil, 0, 10, "n1"),
		ok(2, fApp, "l", "b", nil, 5, 30, "n2"),
		ok(3, fApp, "l", "c", nil, 6, 30, "n3"),
		ok(4, fR, "l", nil, []string{"a", "c"}, 15, 20, "n1"),
		ok(4, fR, "l", nil, []string{"a", "c", "b"}, 40, 50, "n2"),
		info(5, fApp, "l", "d", 60, -1),
		ok(4, fR, "l", nil, []string{"a", "c", "b"}, 70, 80, "n2"),
		ok(6, fApp, "l", "a", nil, 81, 85, "n1"), // the same element twice is fine
		ok(4, fR, "l", nil, []string{"a", "c", "b", "d", "a"}, 90, 100, "n2"),
	), Options{})
	expectValid(t, res)
	if res.Workload != WorkloadAppend {
		t.Fatalf("inferred workload %q", res.Workload)
	}
}

func TestAppendDuplicate(t *testing.T) {
	res := mustCheck(t, histOf(
		ok(1, fApp, "l", 1, nil, 0, 10, "n1"),
		ok(2, fR, "l", nil, []int{1, 1}, 20, 30, "n2"),
	), Options{})
	expectAnomalies(t, res, Duplicate)
	expectExplanation(t, res.Anomalies[0], "read of l at 0.0 s on n2 returned 1 2 times, but it was appended once")
}

func TestAppendOrderViolationIsNonLinearizable(t *testing.T) {
	res := mustCheck(t, histOf(
		ok(1, fApp, "l", 1, nil, 0, 10, "n1"),
		ok(1, fApp, "l", 2, nil, 20, 30, "n1"),
		ok(2, fR, "l", nil, []int{2, 1}, 40, 50, "n2"),
	), Options{})
	expectAnomalies(t, res, NonLinearizable)
	expectExplanation(t, res.Anomalies[0], "read() → [2 1]", "the state is [1 2]")
}

func TestAppendLostAndStale(t *testing.T) {
	res := mustCheck(t, histOf(
		ok(1, fApp, "l", 1, nil, 0, 100, "n1"),
		ok(1, fApp, "l", 2, nil, 200, 300, "n1"),
		ok(2, fR, "l", nil, []int{1}, 400, 500, "n2"), // stale: misses 2
		ok(1, fApp, "l", 3, nil, 600, 700, "n1"),
		ok(2, fR, "l", nil, []int{1, 2}, 800, 900, "n2"), // final: lost 3
	), Options{})
	expectAnomalies(t, res, StaleRead, LostCommit)
	expectExplanation(t, res.Anomalies[0], "missed append of 2")
	expectExplanation(t, res.Anomalies[1], "append of 3 to l, acknowledged at 0.7 s on n1, is lost")
}

func TestWorkloadErrors(t *testing.T) {
	mixed := histOf(
		ok(1, fW, "k", 1, nil, 0, 10, "n1"),
		ok(1, fApp, "l", 1, nil, 20, 30, "n1"),
	)
	if _, err := Check(mixed, Options{}); err == nil || !strings.Contains(err.Error(), "history event 2 (line 3)") {
		t.Errorf("mixed workloads: %v", err)
	}
	if _, err := Check(mixed, Options{Workload: "queue"}); err == nil || !strings.Contains(err.Error(), `unknown workload "queue"`) {
		t.Errorf("bad workload: %v", err)
	}
	if _, err := Check(mixed[:2], Options{Workload: WorkloadSet}); err == nil || !strings.Contains(err.Error(), `f "write" does not belong to the set workload`) {
		t.Errorf("wrong f: %v", err)
	}
	notList := histOf(ok(1, fAdd, "s", 1, nil, 0, 10, "n1"), ok(1, fR, "s", nil, 5, 20, 30, "n1"))
	if _, err := Check(notList, Options{}); err == nil || !strings.Contains(err.Error(), "history event 3 (line 4): a s read must return a list, got 5") {
		t.Errorf("set read of a scalar: %v", err)
	}
	bad := histOf(ok(1, fR, "k", nil, 1, 20, 30, "n1"))
	bad = append(bad, bad[1])
	if _, err := Check(bad, Options{}); err == nil || !strings.Contains(err.Error(), "history event 2") {
		t.Errorf("ill-formed history: %v", err)
	}
}
