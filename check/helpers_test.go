package check

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/faultline/faultline/history"
)

// tOp is a hand-written operation: times in ms, ret < 0 for never completed.
type tOp struct {
	p         int
	f         string
	key       string
	in, out   any
	call, ret int64
	typ       history.Type
	node      string
}

const ms = 1_000_000

// ok, info and fail build tOps tersely.
func ok(p int, f, key string, in, out any, call, ret int64, node string) tOp {
	return tOp{p, f, key, in, out, call, ret, history.Ok, node}
}
func info(p int, f, key string, in any, call, ret int64) tOp {
	return tOp{p, f, key, in, nil, call, ret, history.Info, ""}
}
func fail(p int, f, key string, in any, call, ret int64) tOp {
	return tOp{p, f, key, in, nil, call, ret, history.Fail, ""}
}

// histOf lays hand-written operations out as a time-ordered history.
func histOf(ops ...tOp) []history.Event {
	var events []history.Event
	for _, o := range ops {
		proc := history.Client(o.p)
		events = append(events, history.Event{Time: o.call * ms, Process: proc, Type: history.Invoke, F: o.f, Key: o.key, Value: o.in})
		if o.ret < 0 {
			continue
		}
		v := o.in
		if o.f == history.FRead {
			v = o.out
		}
		events = append(events, history.Event{Time: o.ret * ms, Process: proc, Type: o.typ, F: o.f, Key: o.key, Value: v, Node: o.node})
	}
	slices.SortStableFunc(events, func(a, b history.Event) int { return cmpInt64(a.Time, b.Time) })
	return events
}

func mustCheck(t *testing.T, events []history.Event, opt Options) *Result {
	t.Helper()
	opt.CrossCheck = true // CI runs the full classifier cross-check on every fixture
	res, err := Check(events, opt)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stats.ClassifierDisagreements != 0 {
		t.Fatalf("classifiers disagree with Porcupine %d times", res.Stats.ClassifierDisagreements)
	}
	return res
}

func expectValid(t *testing.T, res *Result) {
	t.Helper()
	if res.Valid != Valid || len(res.Anomalies) != 0 {
		t.Fatalf("verdict %s with anomalies %+v, want valid and none (reason %q)", res.Valid, res.Anomalies, res.Reason)
	}
}

// expectAnomalies asserts an invalid verdict and the kinds of the anomalies, in order.
func expectAnomalies(t *testing.T, res *Result, kinds ...string) {
	t.Helper()
	if res.Valid != Invalid {
		t.Fatalf("verdict %s, want invalid; anomalies %+v", res.Valid, res.Anomalies)
	}
	var got []string
	for _, a := range res.Anomalies {
		got = append(got, a.Kind)
	}
	if !slices.Equal(got, kinds) {
		t.Fatalf("anomaly kinds %v, want %v: %+v", got, kinds, res.Anomalies)
	}
}

func expectExplanation(t *testing.T, a Anomaly, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(a.Explanation, p) {
			t.Errorf("explanation %q lacks %q", a.Explanation, p)
		}
	}
}

func jsonNumber(s string) any { return json.Number(s) }
