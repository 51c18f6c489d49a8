package workload

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/sut/system"
)

// safetyNet stops a test that would otherwise hang; it is not an assertion
// about speed.
const safetyNet = 60 * time.Second

func newRecorder(t *testing.T) (*history.Recorder, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "history.jsonl")
	rec, err := history.NewRecorder(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rec.Close() })
	return rec, path
}

// runUntil runs the workload until enough(rec) holds, then stops it and
// returns the recorded history, validated by the history package.
func runUntil(t *testing.T, cfg Config, addrs func() map[string]string, enough func(*history.Recorder) bool) []history.Event {
	t.Helper()
	rec, path := newRecorder(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, addrs, rec) }()
	deadline := time.Now().Add(safetyNet)
	for !enough(rec) {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("workload did not produce enough history within %s (%d events)", safetyNet, rec.Len())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	events, err := history.ReadFile(path)
	if err != nil {
		t.Fatalf("recorded history is not well-formed: %v", err)
	}
	return events
}

func atLeast(n int) func(*history.Recorder) bool {
	return func(r *history.Recorder) bool { return r.Len() >= n }
}

func oneNode(addr string) func() map[string]string {
	return func() map[string]string { return map[string]string{"n1": addr} }
}

// raftd is the system the emulator speaks for.
var raftd = system.Raftd(system.RaftdOptions{})

func baseConfig(workload string) Config {
	return Config{System: raftd, Workload: workload, Keys: 3, Concurrency: 4, Timeout: 2 * time.Second, Seed: 7}
}

func pairs(t *testing.T, events []history.Event) []history.Op {
	t.Helper()
	ops, err := history.Pair(events)
	if err != nil {
		t.Fatal(err)
	}
	return ops
}

func TestRunRegisterAgainstHealthyLeader(t *testing.T) {
	srv := newEmulator(t, nil)
	cfg := baseConfig(Register)
	events := runUntil(t, cfg, oneNode(srv.addr()), atLeast(400))
	ops := pairs(t, events)

	written := map[string]bool{}
	counts := map[string]int{}
	for _, op := range ops {
		if !op.Completed() {
			t.Fatalf("op %+v never completed: Run must let in-flight operations finish", op)
		}
		if op.Process < 0 || op.Process >= cfg.Concurrency {
			t.Errorf("process %d outside [0, %d) although nothing was indeterminate", op.Process, cfg.Concurrency)
		}
		if op.Type == history.Info {
			t.Errorf("info completion against a healthy server: %+v", op)
		}
		if op.Node != "n1" && op.Type != history.Info {
			t.Errorf("completion of %s names node %q, want n1", op.F, op.Node)
		}
		counts[op.F]++
		switch op.F {
		case history.FWrite:
			k := history.ValueKey(op.Input)
			if written[k] {
				t.Errorf("value %s written twice", k)
			}
			written[k] = true
		case history.FCas:
			pair, _ := op.Input.([]any)
			k := history.ValueKey(pair[1])
			if written[k] {
				t.Errorf("cas new value %s not unique", k)
			}
			written[k] = true
			if op.Type == history.Fail {
				if e := events[op.Complete].Error; e != errPrecondition {
					t.Errorf("failed cas error %q, want %q", e, errPrecondition)
				}
			}
		}
	}
	for _, op := range ops {
		if op.F == history.FRead && op.Type == history.Ok && op.Output != nil && !written[history.ValueKey(op.Output)] {
			t.Errorf("read returned %v, which no operation wrote", op.Output)
		}
		if op.F == history.FRead && events[op.Invoke].Value != nil {
			t.Errorf("read invoked with value %v, want null", events[op.Invoke].Value)
		}
	}
	for _, f := range []string{history.FRead, history.FWrite, history.FCas} {
		if counts[f] == 0 {
			t.Errorf("no %s operations in %d ops: %v", f, len(ops), counts)
		}
	}
	if srv.localSeen.Load() != 0 {
		t.Errorf("%d local reads without StaleReads", srv.localSeen.Load())
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	delete(srv.clientIDs, "") // reads carry no session
	if len(srv.clientIDs) != cfg.Concurrency {
		t.Errorf("server saw client ids %v, want one per process (%d)", srv.clientIDs, cfg.Concurrency)
	}
}

func TestRunNoLeaderRecordsDefiniteFailures(t *testing.T) {
	srv := newEmulator(t, func(*http.Request) answer { return unavailable })
	cfg := baseConfig(Register)
	ops := pairs(t, runUntil(t, cfg, oneNode(srv.addr()), atLeast(60)))
	for _, op := range ops {
		if op.Type != history.Fail {
			t.Fatalf("503 recorded as %s, want fail: %+v", op.Type, op)
		}
		if op.Process >= cfg.Concurrency {
			t.Fatalf("process %d: a definite failure must not retire the process", op.Process)
		}
	}
}

func TestRunTimeoutRecordsInfoAndMovesToNewProcess(t *testing.T) {
	srv := newEmulator(t, func(*http.Request) answer { return hang })
	cfg := baseConfig(Append)
	cfg.Concurrency = 2
	// The timeout must outlast connecting: a request whose connection was
	// never made is definitely not applied (fail), and on a loaded machine
	// connecting alone can take tens of milliseconds.
	cfg.Timeout = 250 * time.Millisecond
	events := runUntil(t, cfg, oneNode(srv.addr()), atLeast(24))
	ops := pairs(t, events)
	seen := map[int]int{}
	writers := 0 // processes that sent a write, which carries the session id
	for _, op := range ops {
		if op.F != history.FRead {
			writers++
		}
		if op.Type != history.Info {
			t.Fatalf("hung request recorded as %s, want info: %+v", op.Type, op)
		}
		if e := events[op.Complete].Error; e == "" {
			t.Errorf("info completion without an error: %+v", events[op.Complete])
		}
		seen[op.Process]++
	}
	for p, n := range seen {
		if n != 1 {
			t.Errorf("process %d invoked %d times; after info a worker must move on", p, n)
		}
	}
	// Worker w runs processes w, w+2, w+4, ... with no gaps.
	for w := 0; w < cfg.Concurrency; w++ {
		for p := w; seen[p+cfg.Concurrency] > 0; p += cfg.Concurrency {
			if seen[p] == 0 {
				t.Errorf("worker %d skipped process %d", w, p)
			}
		}
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	delete(srv.clientIDs, "") // reads carry no session
	for write, n := range srv.sends {
		if n != 1+clientResends {
			t.Errorf("write %s sent %d times, want %d (re-sent with the same seq before giving up)", write, n, 1+clientResends)
		}
	}
	if writers == 0 || len(srv.clientIDs) != writers {
		t.Errorf("%d processes sent a write but the server saw %d client ids: each process needs its own session", writers, len(srv.clientIDs))
	}
}

func TestRunCasMismatchIsPreconditionFailure(t *testing.T) {
	srv := newEmulator(t, func(r *http.Request) answer {
		if strings.HasSuffix(r.URL.Path, "/cas") {
			return casMismatch
		}
		return serve
	})
	cfg := baseConfig(Register)
	cfg.Keys = 1
	events := runUntil(t, cfg, oneNode(srv.addr()), func(r *history.Recorder) bool {
		return r.Len() >= 200
	})
	cas := 0
	for _, op := range pairs(t, events) {
		if op.F != history.FCas {
			continue
		}
		cas++
		c := events[op.Complete]
		if c.Type != history.Fail || c.Error != errPrecondition || c.Node == "" {
			t.Errorf("cas answered ok:false recorded as %+v, want fail %q with the node", c, errPrecondition)
		}
		if history.ValueKey(c.Value) != history.ValueKey(events[op.Invoke].Value) {
			t.Errorf("cas completion value %v differs from its invocation %v", c.Value, events[op.Invoke].Value)
		}
	}
	if cas == 0 {
		t.Fatal("no cas in 200 events")
	}
}

func TestRunSetReadsAreSortedSets(t *testing.T) {
	srv := newEmulator(t, nil)
	// Duplicates and disorder, as a buggy server might return them.
	srv.store["k0"] = []any{int64(9), int64(3), int64(9)}
	cfg := baseConfig(Set)
	cfg.Keys = 1
	ops := pairs(t, runUntil(t, cfg, oneNode(srv.addr()), atLeast(200)))
	reads, adds := 0, 0
	for _, op := range ops {
		switch op.F {
		case history.FAdd:
			adds++
			if op.Input == nil {
				t.Errorf("add without an element: %+v", op)
			}
		case history.FRead:
			if op.Type != history.Ok {
				continue
			}
			reads++
			list, ok := history.List(op.Output)
			if !ok {
				t.Fatalf("set read recorded %T, want a list", op.Output)
			}
			for i := 1; i < len(list); i++ {
				if compareElements(normalizeValue(list[i-1]), normalizeValue(list[i])) >= 0 {
					t.Fatalf("set read %v is not strictly ascending", list)
				}
			}
		}
	}
	if reads == 0 || adds == 0 {
		t.Fatalf("reads=%d adds=%d, want both", reads, adds)
	}
}

func TestRunAppendReadsKeepOrderAndAbsentIsEmpty(t *testing.T) {
	srv := newEmulator(t, nil)
	cfg := baseConfig(Append)
	cfg.Keys = 2
	events := runUntil(t, cfg, oneNode(srv.addr()), atLeast(200))
	srv.mu.Lock()
	final := map[string][]string{}
	for key, v := range srv.store {
		for _, e := range v.([]any) {
			final[key] = append(final[key], history.ValueKey(normalizeValue(e)))
		}
	}
	srv.mu.Unlock()
	reads := 0
	for _, op := range pairs(t, events) {
		if op.F != history.FRead || op.Type != history.Ok {
			continue
		}
		reads++
		list, ok := history.List(op.Output)
		if !ok {
			t.Fatalf("append read recorded %v (%T), want a list (the empty list when absent)", op.Output, op.Output)
		}
		// The emulator is one serial store: every read is a prefix of
		// the key's final list, in the server's order.
		for i, e := range list {
			if i >= len(final[op.Key]) || history.ValueKey(e) != final[op.Key][i] {
				t.Fatalf("read of %s = %v is not a prefix of the final list %v", op.Key, list, final[op.Key])
			}
		}
	}
	if reads == 0 {
		t.Fatal("no successful reads")
	}
}

func TestRunReadLocalAsksForLocalReads(t *testing.T) {
	srv := newEmulator(t, nil)
	cfg := baseConfig(Register)
	cfg.StaleReads = true
	runUntil(t, cfg, oneNode(srv.addr()), atLeast(100))
	if srv.localSeen.Load() == 0 {
		t.Fatal("StaleReads set but no GET carried ?read=local")
	}
}

func TestRunFollowsAddressBookChanges(t *testing.T) {
	first := newEmulator(t, nil)
	second := newEmulator(t, nil)
	var mu sync.Mutex
	book := map[string]string{"n1": first.addr()}
	addrs := func() map[string]string {
		mu.Lock()
		defer mu.Unlock()
		if first.requests.Load() >= 50 {
			// n1 left the cluster, n2 joined.
			book = map[string]string{"n2": second.addr()}
		}
		return book
	}
	cfg := baseConfig(Register)
	events := runUntil(t, cfg, addrs, func(*history.Recorder) bool { return second.requests.Load() >= 50 })
	ops := pairs(t, events)
	// The book had switched before the first operation n2 answered was
	// sent; every worker syncs before each invocation, so whatever was
	// invoked after that answer went to n2.
	switched := int64(-1)
	for _, op := range ops {
		if op.Node == "n2" && (switched < 0 || op.Return < switched) {
			switched = op.Return
		}
	}
	if switched < 0 {
		t.Fatal("no operation was answered by n2")
	}
	after := 0
	for _, op := range ops {
		if op.Call > switched {
			after++
			if op.Node != "n2" {
				t.Errorf("process %d invoked %s after the move to n2 and was answered by %q", op.Process, op.F, op.Node)
			}
		}
	}
	if after == 0 {
		t.Fatal("no operation invoked after the move")
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	rec, _ := newRecorder(t)
	err := Run(context.Background(), Config{Workload: "queue"}, oneNode("127.0.0.1:1"), rec)
	if err == nil || !strings.Contains(err.Error(), "--workload") {
		t.Fatalf("Run with a bad config: %v, want an error naming --workload", err)
	}
	if rec.Len() != 0 {
		t.Fatalf("a rejected config recorded %d events", rec.Len())
	}
}
