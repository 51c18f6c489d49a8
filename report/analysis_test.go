package report

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/check"
	"github.com/faultline/faultline/report/junit"
)

func fixtureRun(t *testing.T, run string) *runData {
	t.Helper()
	dir := filepath.Join("testdata", "store", run)
	return loadRun(os.DirFS(dir), dir)
}

func TestAnalysisOfTheFixture(t *testing.T) {
	r := fixtureRun(t, invalidRun)
	if len(r.Problems) != 0 {
		t.Fatalf("clean fixture has problems: %v", r.Problems)
	}
	h := r.History
	if h.Len() != 16 || h.Lines != 36 || len(h.Faults) != 2 {
		t.Fatalf("read %d ops, %d lines, %d faults; want 16, 36, 2", h.Len(), h.Lines, len(h.Faults))
	}
	a := analyse(h)
	if a.Ok != 12 || a.Fail != 3 || a.Info != 1 || a.Processes != 4 || a.Keys != 2 {
		t.Errorf("counts: %+v", a)
	}
	// Phases: quiet 0–1 s, partition 1–2.5 s, quiet 2.5–3 s, kill 3–3.4 s, quiet to the end.
	var got []string
	for _, p := range a.Phases {
		got = append(got, fmt.Sprintf("%s %s-%s %d/%d", p.Label, secs(p.Start), secs(p.End), p.Ok, p.Ops))
	}
	want := []string{
		"no fault 0.00 s-1.00 s 5/5",
		"partition 1.00 s-2.50 s 3/5",
		"no fault 2.50 s-3.00 s 1/1",
		"kill 3.00 s-3.40 s 1/2",
		"no fault 3.40 s-3.81 s 2/3",
	}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("phases:\n got %s\nwant %s", strings.Join(got, "; "), strings.Join(want, "; "))
	}
	if len(a.ByLabel) != 3 || a.ByLabel[0].Label != noFault || a.ByLabel[0].Ops != 9 || a.ByLabel[0].Ok != 8 {
		t.Errorf("by label: %+v", a.ByLabel)
	}
	if len(a.Recoveries) != 2 ||
		a.Recoveries[0].After != 140*int64(time.Millisecond) || a.Recoveries[1].After != 60*int64(time.Millisecond) {
		t.Errorf("recoveries: %+v", a.Recoveries)
	}
	var okSum, failSum int
	for _, b := range a.Buckets {
		okSum += b.Ok
		failSum += b.Fail
	}
	if okSum != 12 || failSum != 3 || a.BucketWidth != 50*int64(time.Millisecond) {
		t.Errorf("buckets hold %d ok, %d fail at width %d", okSum, failSum, a.BucketWidth)
	}
}

func TestRecoveryNeverReachedIsReported(t *testing.T) {
	h, err := decodeText(`{"time":1,"process":"nemesis","type":"info","f":"pause-start","value":null}
{"time":2,"process":0,"type":"invoke","f":"read","key":"a","value":null}
{"time":3,"process":0,"type":"ok","f":"read","key":"a","value":null}
{"time":5,"process":"nemesis","type":"info","f":"pause-end","value":null}
{"time":6,"process":0,"type":"invoke","f":"read","key":"a","value":null}
{"time":9,"process":0,"type":"fail","f":"read","key":"a","value":null}
`, "h")
	if err != nil {
		t.Fatal(err)
	}
	rc := analyse(h).Recoveries
	if len(rc) != 1 || rc[0].Recovered {
		t.Fatalf("recoveries %+v: want one, not recovered", rc)
	}
	c := availabilityCase(&runData{History: h}, "x")
	if c.Failure == nil || !strings.Contains(c.Failure.Message, "no operation succeeded after 1 heal") {
		t.Errorf("availability case: %+v", c)
	}
}

func TestHistoryProblemsNameTheLine(t *testing.T) {
	h, err := decodeText(`{"time":1,"process":0,"type":"ok","f":"read","key":"a","value":1}
{"time":2,"process":1,"type":"invoke","f":"write","key":"a","value":"x"}
{"time":3,"process":1,"type":"invoke","f":"write","key":"a","value":"y"}
{"time":4,"process":-2,"type":"invoke","f":"write","key":"a","value":1}
{"time":5,"process":2,"type":"finish","f":"write","key":"a","value":1}
not json
{"time":6,"process":"nemesis","type":"info","f":"kill-end","value":null}
{"time":7,"process":1,"type":"ok","f":"write","key":"a","value":"x","node":"n1"}
{"time":8,"process":3,"type":"invoke","f":"read","key":"a","val`, "history.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		// Worded by history.Reader, the one reader of histories.
		"history.jsonl:1: ok completion of read by process 0 without a pending invoke",
		"history.jsonl:3: process 1 invokes write while its write invoked at event 0 has not completed",
		"history.jsonl:4: process must be a non-negative integer",
		`history.jsonl:5: unknown type "finish"`,
		"history.jsonl:6: malformed JSON",
		"history.jsonl:7: kill-end without a matching kill-start",
		"history.jsonl:9: half-written last line ignored",
	}
	if len(h.Problems) != len(want) {
		t.Fatalf("problems:\n%s", strings.Join(h.Problems, "\n"))
	}
	for i, w := range want {
		if !strings.HasPrefix(h.Problems[i], w) {
			t.Errorf("problem %d = %q, want prefix %q", i, h.Problems[i], w)
		}
	}
	if h.Len() != 1 || h.Op(0).Outcome != OutcomeOk || h.Op(0).Value != "x" || h.Op(0).Node != "n1" {
		t.Errorf("the one good op: %+v", h.Op(0))
	}
}

func TestPendingOpsAndOpenFaultsRunToTheEnd(t *testing.T) {
	h, err := decodeText(`{"time":10,"process":"nemesis","type":"info","f":"partition-start","value":{"groups":[["n1"],["n2","n3"]]}}
{"time":20,"process":4,"type":"invoke","f":"append","key":"k","value":7}
{"time":90,"process":5,"type":"invoke","f":"read","key":"k","value":null}
{"time":95,"process":5,"type":"ok","f":"read","key":"k","value":[1,2,7]}
`, "h")
	if err != nil {
		t.Fatal(err)
	}
	if op := h.Op(0); op.Outcome != OutcomePending || op.End != 95 || op.CompleteLine != -1 {
		t.Errorf("pending op: %+v", op)
	}
	if h.Op(1).Value != "[1,2,7]" {
		t.Errorf("list value shown as %q", h.Op(1).Value)
	}
	if f := h.Faults[0]; f.Healed || f.End != 95 || f.Detail != `{"groups":[["n1"],["n2","n3"]]}` {
		t.Errorf("open fault: %+v", f)
	}
}

func TestNodeFactsFromStatusPolls(t *testing.T) {
	r := fixtureRun(t, invalidRun)
	byID := map[string]NodeFacts{}
	for _, n := range r.Nodes.Nodes {
		byID[n.ID] = n
	}
	n2 := byID["n2"]
	var roles []string
	for _, c := range n2.Changes {
		roles = append(roles, fmt.Sprintf("%s/%d@%s", c.Role, c.Term, secs(c.Time)))
	}
	want := "follower/1@0.25 s candidate/2@1.25 s leader/2@1.75 s unreachable/2@3.25 s follower/3@3.75 s"
	if strings.Join(roles, " ") != want {
		t.Errorf("n2 changes:\n got %s\nwant %s", strings.Join(roles, " "), want)
	}
	if n2.Elected != 1 || n2.MaxTerm != 3 || n2.LogFile != "nodes/n2.log" || n2.Commit != 16 {
		t.Errorf("n2 facts: %+v", n2)
	}
	var leaders []string
	for _, l := range r.Nodes.Leaders {
		leaders = append(leaders, fmt.Sprintf("%s/%d", l.Leader, l.Term))
	}
	if strings.Join(leaders, " ") != "n1/1 n2/2 n3/3" {
		t.Errorf("leaders: %v", leaders)
	}
}

func TestSamplingKeepsFlaggedOps(t *testing.T) {
	ops := make([]Op, 1000)
	for i := range ops {
		ops[i] = Op{ID: i, Outcome: OutcomeOk}
		if i%10 == 0 {
			ops[i].Outcome = OutcomeFail
		}
	}
	flagged := map[int]bool{3: true, 777: true}
	succeeded := func(i int) bool { return ops[i].Succeeded() }
	keep := sampleOps(len(ops), succeeded, flagged, 100)
	if len(keep) > 100 {
		t.Errorf("kept %d of budget 100", len(keep))
	}
	has := map[int]bool{}
	fails := 0
	for _, i := range keep {
		has[i] = true
		if ops[i].Outcome == OutcomeFail {
			fails++
		}
	}
	if !has[3] || !has[777] {
		t.Error("a flagged op was sampled away")
	}
	if fails != 49 {
		t.Errorf("kept %d failed ops; they get half the room left by the flagged ones (49)", fails)
	}
	if got := sampleOps(50, succeeded, nil, 100); len(got) != 50 {
		t.Errorf("a small history is not sampled: kept %d of 50", len(got))
	}
}

func TestNiceStep(t *testing.T) {
	for in, want := range map[float64]int64{0.3: 1, 1: 1, 3: 5, 7: 10, 12: 20, 4.5e7: 5e7, 1.01e9: 2e9} {
		if got := niceStep(in); got != want {
			t.Errorf("niceStep(%v) = %d, want %d", in, got, want)
		}
	}
}

func TestJUnitOfTheInvalidFixture(t *testing.T) {
	b, err := junitXML(fixtureRun(t, invalidRun))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "junit.xml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	s := readJUnit(t, path)
	if s.Tests != 8 || s.Failures != 2 || s.Errors != 0 || len(s.Suites) != 1 {
		t.Fatalf("junit totals: tests %d failures %d errors %d", s.Tests, s.Failures, s.Errors)
	}
	cases := map[string]junit.Case{}
	for _, c := range s.Suites[0].Cases {
		cases[c.Name] = c
	}
	k1 := cases["linearizable: register key k1"]
	if k1.Failure == nil || !strings.Contains(k1.Failure.Message, "1 stale read") ||
		!strings.Contains(k1.Failure.Body, "[stale-read] read of k1 at 2.15 s on n1 returned 1") {
		t.Errorf("k1 case: %+v", k1.Failure)
	}
	if c := cases["linearizable: register key k2"]; c.Failure != nil || c.Error != nil {
		t.Errorf("k2 should pass: %+v", c)
	}
	if c := cases[classifiedKinds[1].name]; c.Failure == nil || c.Failure.Type != check.StaleRead {
		t.Errorf("stale-read property: %+v", c)
	}
	if c := cases[classifiedKinds[0].name]; c.Failure != nil {
		t.Errorf("no lost commits should pass: %+v", c)
	}
	avail := cases["available: the cluster served again after every heal"]
	if avail.Failure != nil || !strings.Contains(avail.SystemOut, "partition healed at 2.50 s: recovered after 140 ms") {
		t.Errorf("availability: %+v", avail)
	}
	props := map[string]string{}
	for _, p := range s.Suites[0].Properties {
		if _, dup := props[p.Name]; dup {
			t.Errorf("property %s twice", p.Name)
		}
		props[p.Name] = p.Value
	}
	if props["seed"] != "42" || !strings.HasPrefix(props["reproduce"], "checker run ") || s.Suites[0].Timestamp != "2026-11-27T03:00:00" {
		t.Errorf("suite properties %v, timestamp %q", props, s.Suites[0].Timestamp)
	}
}

func TestJUnitGroupsManyKeysAndReportsUnknown(t *testing.T) {
	res := &check.Result{Valid: check.Unknown, Workload: "append", Reason: "check timed out after 1m0s"}
	for i := 0; i < 100; i++ {
		v := check.Valid
		if i == 57 {
			v = check.Unknown
		}
		res.Keys = append(res.Keys, check.KeyResult{Key: fmt.Sprintf("k%03d", i), Valid: v})
	}
	b, err := junitXML(&runData{Dir: "store/x/y", Result: res, History: &History{}})
	if err != nil {
		t.Fatal(err)
	}
	out := string(b)
	if n := strings.Count(out, `classname="faultline.x.linearizability"`); n != 25 {
		t.Errorf("%d linearizability cases for 100 keys, want 25 groups of 4", n)
	}
	if !strings.Contains(out, `name="linearizable: append keys k056 … k059 (4 keys)"`) ||
		!strings.Contains(out, `check timed out after 1m0s (undecided keys: k057)`) {
		t.Errorf("group of the undecided key is not an error naming it:\n%s", out)
	}
	if !strings.Contains(out, `<error message="campaign.json is missing or unreadable"`) {
		t.Error("missing campaign.json is not an error")
	}
}

func TestLinesLongerThanTheReadBufferAreRead(t *testing.T) {
	elems := make([]string, 30000)
	for i := range elems {
		elems[i] = fmt.Sprint(i)
	}
	list := "[" + strings.Join(elems, ",") + "]" // ~170 KB on one line
	h, err := decodeText(`{"time":1,"process":0,"type":"invoke","f":"read","key":"s","value":null}
{"time":2,"process":0,"type":"ok","f":"read","key":"s","value":`+list+`}
{"time":3,"process":0,"type":"invoke","f":"add","key":"s","value":30000}
`, "h")
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Problems) != 0 || h.Len() != 2 || h.Op(0).Outcome != OutcomeOk || !strings.HasPrefix(h.Op(0).Value, "[0,1,2,3") ||
		len([]rune(h.Op(0).Value)) != maxValueText {
		t.Errorf("long line: problems %v, ops %+v, %+v", h.Problems, h.Op(0), h.Op(1))
	}
}

// The compact store gives back each operation's texts as they were read:
// values shortened, strings unquoted (escapes too), lists compacted, and
// the error whole.
func TestHistoryKeepsTexts(t *testing.T) {
	long := strings.Repeat("é", 2*maxValueText)
	h, err := decodeText(`{"time":1,"process":0,"type":"invoke","f":"write","key":"k","value":"`+long+`"}
{"time":2,"process":1,"type":"invoke","f":"append","key":"l","value":[1, 2]}
{"time":3,"process":0,"type":"info","f":"write","key":"k","value":null,"error":"Post \"http://n1/kv/k\": context deadline exceeded","node":"n2"}
{"time":4,"process":1,"type":"ok","f":"append","key":"l","value":[1, 2],"node":"n3"}
{"time":5,"process":2,"type":"invoke","f":"write","key":"k","value":"a\"b\u00e9"}
`, "history.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	want := []Op{
		{ID: 0, Process: 0, F: "write", Key: "k", Start: 1, End: 3, Outcome: OutcomeInfo, Value: shorten(long, maxValueText), Node: "n2",
			Error: `Post "http://n1/kv/k": context deadline exceeded`, InvokeLine: 0, CompleteLine: 2},
		{ID: 1, Process: 1, F: "append", Key: "l", Start: 2, End: 4, Outcome: OutcomeOk, Value: "[1,2]", Node: "n3", InvokeLine: 1, CompleteLine: 3},
		{ID: 2, Process: 2, F: "write", Key: "k", Start: 5, End: 5, Outcome: OutcomePending, Value: `a"bé`, InvokeLine: 4, CompleteLine: -1},
	}
	if h.Len() != len(want) {
		t.Fatalf("%d ops, want %d", h.Len(), len(want))
	}
	for i, w := range want {
		if got := h.Op(i); got != w {
			t.Errorf("op %d:\n got %+v\nwant %+v", i, got, w)
		}
	}
	if got := []rune(h.Op(0).Value); len(got) != maxValueText || got[len(got)-1] != '…' {
		t.Errorf("long value kept as %q", h.Op(0).Value)
	}
}
