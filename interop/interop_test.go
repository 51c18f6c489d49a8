package interop

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/anishathalye/porcupine"

	"github.com/faultline/faultline/check"
	"github.com/faultline/faultline/check/gen"
	"github.com/faultline/faultline/history"
)

func mustCheck(t *testing.T, events []history.Event) *check.Result {
	t.Helper()
	res, err := check.Check(events, check.Options{})
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	return res
}

func TestJepsenRegisterFixture(t *testing.T) {
	events, err := ReadFile(Jepsen, "testdata/jepsen-register.edn")
	if err != nil {
		t.Fatal(err)
	}
	// 16 client operations map one to one; the nemesis pairs become a
	// start (at the invocation, with the completion's value) and an end.
	if len(events) != 16 {
		t.Fatalf("got %d events, want 16", len(events))
	}
	start, end := events[4], events[11]
	if start.F != "partition-start" || start.Time != 20000000 || !start.Process.Nemesis {
		t.Errorf("start event = %+v", start)
	}
	if v, ok := history.List(start.Value); !ok || len(v) != 2 || v[0] != "isolated" {
		t.Errorf("start carries the completion's value, got %s", history.ValueKey(start.Value))
	}
	if end.F != "partition-end" || end.Time != 1051000000 || end.Value != "network-healed" {
		t.Errorf("end event = %+v", end)
	}
	timedOut := events[10]
	if timedOut.Type != history.Info || timedOut.Key != "1" || timedOut.Error != `["timeout","context deadline exceeded"]` {
		t.Errorf("info completion = %+v", timedOut)
	}
	if events[7].Type != history.Fail || events[7].Error != "precondition-failed" {
		t.Errorf("failed cas = %+v", events[7])
	}
	res := mustCheck(t, events)
	if res.Valid != check.Valid || res.Workload != check.WorkloadRegister || res.Stats.Keys != 2 {
		t.Fatalf("verdict %s, workload %s, %d keys; want valid register over 2 keys: %+v", res.Valid, res.Workload, res.Stats.Keys, res.Anomalies)
	}
}

func TestJepsenSingleRegisterStaleRead(t *testing.T) {
	events, err := ReadFile(Jepsen, "testdata/jepsen-register-stale.edn")
	if err != nil {
		t.Fatal(err)
	}
	res := mustCheck(t, events)
	if res.Valid != check.Invalid || res.Counts[check.StaleRead] != 1 {
		t.Fatalf("verdict %s, counts %v; want one stale read", res.Valid, res.Counts)
	}
	if events[0].Key != SingleKey {
		t.Errorf("key %q, want %q", events[0].Key, SingleKey)
	}
}

func TestJepsenListAppendFixture(t *testing.T) {
	events, err := ReadFile(Jepsen, "testdata/jepsen-append.edn")
	if err != nil {
		t.Fatal(err)
	}
	// The three-micro-op transaction of process 0 runs as processes 0, 1
	// and 2 (width 3); process 1's single appends as process 3.
	var procs []int
	for _, e := range events {
		if !e.Process.Nemesis && e.Type == history.Invoke && e.Time == 4000000 {
			procs = append(procs, e.Process.ID)
		}
	}
	if !slices.Equal(procs, []int{0, 1, 2}) {
		t.Errorf("micro-ops of the transaction ran as processes %v, want [0 1 2]", procs)
	}
	res := mustCheck(t, events)
	if res.Workload != check.WorkloadAppend || res.Valid != check.Invalid || res.Counts[check.StaleRead] == 0 {
		t.Fatalf("workload %s, verdict %s, counts %v; want a stale read of key 2", res.Workload, res.Valid, res.Counts)
	}
}

func TestJepsenErrorsNameTheLine(t *testing.T) {
	cases := []struct{ name, text, want string }{
		{"malformed", "{:type :invoke, :f :read, :process 0, :time 1, :value nil}\n{:type :ok :f)\n", "h.edn:2: malformed EDN"},
		{"truncated", "{:type :invoke, :f :read, :process 0, :time 1, :value nil}\n{:type :ok,\n :f :read", "h.edn:2: truncated EDN value"},
		{"orphan completion", "\n\n{:type :ok, :f :read, :process 3, :time 1, :value 4}\n", "h.edn:3: :ok completion of :read by process 3 without a pending invocation"},
		{"bad process", "{:type :invoke, :f :read, :process \"x\", :time 1}\n", "h.edn:1: :process must be"},
		{"unknown f", "{:type :invoke, :f :inc, :process 0, :time 1, :value 1}\n", "h.edn:1: unknown :f :inc"},
		{"time backwards", "{:type :invoke, :f :read, :process 0, :time 5}\n{:type :ok, :f :read, :process 0, :time 4}\n", "h.edn:2: :time 4 goes backwards"},
		{"not a map", "42\n", "h.edn:1: want an operation map"},
		{"bad micro-op", "{:type :invoke, :f :txn, :process 0, :time 1, :value [[:inc 1 1]]}\n", "h.edn:1: micro-operation 0: unknown function"},
	}
	for _, c := range cases {
		_, err := ReadJepsen(strings.NewReader(c.text), "h.edn")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
}

func TestJepsenMultiLineValues(t *testing.T) {
	text := "{:type :invoke,\n :f :write,\n :value [\"a\" 1],\n :process 0, :time 1}\n; a comment\n{:type :ok, :f :write, :value [\"a\" 1], :process 0, :time 2}"
	events, err := ReadJepsen(strings.NewReader(text), "h.edn")
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 || events[0].Key != "a" || events[1].Type != history.Ok {
		t.Fatalf("events = %+v", events)
	}
}

// canonical renders events as JSON lines, sorted by time then text when
// ties may be reordered, so histories from different decoders compare.
func canonical(t *testing.T, events []history.Event, sortTies bool) []string {
	t.Helper()
	out := make([]string, len(events))
	for i, e := range events {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		// Reparse with numbers kept so ints and json.Numbers agree.
		var back history.Event
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(&back); err != nil {
			t.Fatal(err)
		}
		b, _ = json.Marshal(back)
		out[i] = string(b)
	}
	if sortTies {
		slices.SortStableFunc(out, func(a, b string) int {
			var x, y struct{ Time int64 }
			json.Unmarshal([]byte(a), &x)
			json.Unmarshal([]byte(b), &y)
			if x.Time != y.Time {
				return int(x.Time - y.Time)
			}
			return strings.Compare(a, b)
		})
	}
	return out
}

func withFaults(events []history.Event) []history.Event {
	if len(events) < 4 {
		return events
	}
	mid, late := events[len(events)/3].Time, events[2*len(events)/3].Time
	out := make([]history.Event, 0, len(events)+2)
	for _, e := range events {
		if e.Time > mid && (len(out) == 0 || out[len(out)-1].Time <= mid) {
			out = append(out, history.Event{Time: mid, Process: history.NemesisProcess, Type: history.Info, F: "partition-start",
				Value: map[string]any{"groups": []any{[]any{"n1"}, []any{"n2", "n3"}}}})
		}
		if e.Time > late && (out[len(out)-1].Time <= late) {
			out = append(out, history.Event{Time: late, Process: history.NemesisProcess, Type: history.Info, F: "partition-end"})
		}
		out = append(out, e)
	}
	return out
}

func TestRoundTrips(t *testing.T) {
	for _, workload := range []string{"register", "set", "append"} {
		for seed := uint64(1); seed <= 3; seed++ {
			events, err := gen.Generate(gen.Config{Workload: workload, Keys: 3, OpsPerKey: 40, Processes: 3,
				InfoRate: 0.1, FailRate: 0.1, ValueRange: 5, Seed: seed})
			if err != nil {
				t.Fatal(err)
			}
			events = withFaults(events)
			want := mustCheck(t, events)
			for _, format := range Formats {
				var buf bytes.Buffer
				if err := Write(format, &buf, events); err != nil {
					t.Fatalf("%s %s: write: %v", workload, format, err)
				}
				var back []history.Event
				if format == Jepsen {
					back, err = ReadJepsen(&buf, "x")
				} else {
					back, err = ReadPorcupine(&buf, "x")
				}
				if err != nil {
					t.Fatalf("%s seed %d %s: read back: %v", workload, seed, format, err)
				}
				sortTies := format == Porcupine
				if !slices.Equal(canonical(t, events, sortTies), canonical(t, back, sortTies)) {
					a, b := canonical(t, events, sortTies), canonical(t, back, sortTies)
					for i := range min(len(a), len(b)) {
						if a[i] != b[i] {
							t.Errorf("%s seed %d: %s round trip changed event %d:\n%s\n%s", workload, seed, format, i, a[i], b[i])
							break
						}
					}
				}
				got := mustCheck(t, back)
				if got.Valid != want.Valid || got.Stats.Ops != want.Stats.Ops {
					t.Errorf("%s seed %d %s: verdict %s over %d ops, want %s over %d", workload, seed, format, got.Valid, got.Stats.Ops, want.Valid, want.Stats.Ops)
				}
			}
		}
	}
}

func TestJepsenExportIsStable(t *testing.T) {
	events, err := history.ReadFile("../cmd/checker/testdata/stale.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	if err := WriteJepsen(&a, withFaults(events)); err != nil {
		t.Fatal(err)
	}
	if err := WriteJepsen(&b, withFaults(events)); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Fatal("two exports of one history differ")
	}
	first := strings.SplitN(a.String(), "\n", 2)[0]
	want := `{:index 0, :time 1000000000, :type :invoke, :process 0, :f :write, :value ["k7" 41]}`
	if first != want {
		t.Errorf("first line\n got %s\nwant %s", first, want)
	}
	if !strings.Contains(a.String(), `:process :nemesis, :f :start-partition, :value {:groups [["n1"] ["n2" "n3"]]}`) {
		t.Errorf("no nemesis start in\n%s", a.String())
	}
}

// TestPorcupineReadsPorcupineOperations encodes real porcupine.Operation
// values, as a harness would with encoding/json, and reads them.
func TestPorcupineReadsPorcupineOperations(t *testing.T) {
	ops := []porcupine.Operation{
		{ClientId: 0, Input: PorcupineInput{Op: "write", Key: "x", Value: 1}, Call: 0, Output: PorcupineOutput{}, Return: 10},
		// Client 0 times out and goes on: its next operation needs a new process.
		{ClientId: 0, Input: PorcupineInput{Op: "write", Key: "x", Value: 2}, Call: 20, Output: PorcupineOutput{Unknown: true}, Return: math.MaxInt64},
		{ClientId: 0, Input: PorcupineInput{Op: "read", Key: "x"}, Call: 40, Output: PorcupineOutput{Value: 2}, Return: 50},
		// Overlapping operations of one client id (ids are optional in Porcupine).
		{ClientId: 1, Input: PorcupineInput{Op: "read", Key: "x"}, Call: 5, Output: PorcupineOutput{Value: nil}, Return: 8},
		{ClientId: 1, Input: PorcupineInput{Op: "cas", Key: "x", Value: []int{5, 6}}, Call: 6, Output: PorcupineOutput{Failed: true}, Return: 9},
	}
	b, err := json.Marshal(ops)
	if err != nil {
		t.Fatal(err)
	}
	events, err := ReadPorcupine(bytes.NewReader(b), "ops.json")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, e := range events {
		if e.Type == history.Invoke {
			if seen[e.Process.ID] && e.Key == "x" && e.F == "read" && e.Time == 40 {
				t.Errorf("the read after an unknown write reuses process %d", e.Process.ID)
			}
			seen[e.Process.ID] = true
		}
	}
	if len(seen) != 4 {
		t.Errorf("got %d processes, want 4 (0, a fresh one after the timeout, 1, a fresh one for the overlap)", len(seen))
	}
	if res := mustCheck(t, events); res.Valid != check.Valid {
		t.Errorf("verdict %s, want valid: %+v", res.Valid, res.Anomalies)
	}
}

func TestPorcupineErrorsNameTheOperation(t *testing.T) {
	cases := []struct{ text, want string }{
		{`[{"ClientId":0,"Input":{"op":"inc","key":"x"},"Call":0,"Output":{},"Return":1}]`, "ops.json: operation 0: its Input.op must be"},
		{`[{"ClientId":0,"Input":{"op":"read","key":"x"},"Call":0,"Output":{},"Return":1},{"ClientId":0,"Input":{"op":"read"},"Call":2,"Output":{},"Return":3}]`, "ops.json: operation 1: its Input.key is missing"},
		{`{"operations": 3}`, "ops.json: not Porcupine operations as JSON"},
		{`[{"ClientId":0,"Input":{"op":"read","key":"x"},"Call":5,"Output":{},"Return":1}]`, "operation 0: returns at 1, before its call at 5"},
	}
	for _, c := range cases {
		_, err := ReadPorcupine(strings.NewReader(c.text), "ops.json")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want an error containing %q", err, c.want)
		}
	}
}

func TestReadFileUnknownFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile("knossos", path); err == nil || !strings.Contains(err.Error(), `unknown format "knossos"`) {
		t.Fatalf("got %v", err)
	}
}
