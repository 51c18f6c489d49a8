package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/sut/system"
)

// TestRunRaftd benches a real three-node raftd cluster with short phases and
// checks that every figure is there and consistent; it asserts nothing about
// speed.
func TestRunRaftd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg := Config{Clients: []int{1, 4}, Duration: time.Second, Rounds: 2, Nodes: 3, Keys: 50, WorkDir: t.TempDir()}
	rs, err := Run(ctx, []system.System{system.Raftd(system.RaftdOptions{WithoutFaultInjection: true})}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 {
		t.Fatalf("%d results for one system", len(rs))
	}
	r := rs[0]
	if r.System != "raftd" || r.Nodes != 3 || !strings.Contains(r.Routing, "leader") {
		t.Errorf("result header %+v: want raftd, 3 nodes, clients on the leader", r)
	}
	want := []struct {
		op      Op
		clients int
	}{{Write, 1}, {Write, 4}, {Read, 1}, {Read, 4}}
	if len(r.Phases) != len(want) {
		t.Fatalf("%d phases, want %d: %+v", len(r.Phases), len(want), r.Phases)
	}
	for i, p := range r.Phases {
		if p.Op != want[i].op || p.Clients != want[i].clients {
			t.Errorf("phase %d is %s with %d clients, want %s with %d", i, p.Op, p.Clients, want[i].op, want[i].clients)
		}
		if p.Ops <= 0 || p.Latencies != p.Ops {
			t.Errorf("phase %d: %d operations counted, %d latencies recorded", i, p.Ops, p.Latencies)
		}
		if p.Seconds < cfg.Duration.Seconds() {
			t.Errorf("phase %d lasted %.2f s, shorter than its %v", i, p.Seconds, cfg.Duration)
		}
		if got := float64(p.Ops) / p.Seconds; p.PerSecond != got {
			t.Errorf("phase %d: %.1f ops/s, but %d ops in %.2f s", i, p.PerSecond, p.Ops, p.Seconds)
		}
		if p.P50 <= 0 || p.P99 < p.P50 {
			t.Errorf("phase %d: p50 %v, p99 %v", i, time.Duration(p.P50), time.Duration(p.P99))
		}
		if p.ServerCPU <= 0 || p.ServerCPUPerOp != Millis(time.Duration(p.ServerCPU)/time.Duration(p.Ops)) {
			t.Errorf("phase %d: server CPU %v, %v per op over %d ops", i, time.Duration(p.ServerCPU), time.Duration(p.ServerCPUPerOp), p.Ops)
		}
	}
	var out bytes.Buffer
	if err := WriteTable(&out, []Result{r, r}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1+len(want) || !strings.Contains(lines[0], "raftd/raftd") || !strings.Contains(lines[1], "1.00×") {
		t.Errorf("table of a result beside itself:\n%s", out.String())
	}
}

func TestConfigErrorsNameTheFlag(t *testing.T) {
	ok := Config{Clients: []int{1}, Duration: time.Second, Nodes: 3, Keys: 10}
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Clients = nil }, "--clients"},
		{func(c *Config) { c.Clients = []int{4, 0} }, "--clients: 0"},
		{func(c *Config) { c.Duration = 0 }, "--duration"},
		{func(c *Config) { c.Nodes = 0 }, "--nodes"},
		{func(c *Config) { c.Keys = -1 }, "--keys"},
		{func(c *Config) { c.Rounds = -1 }, "--rounds"},
		{func(c *Config) { c.Rounds = 200 }, "--rounds: 200 rounds"},
	} {
		c := ok
		tc.edit(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one naming %s", c, err, tc.want)
		}
	}
	if err := ok.Validate(); err != nil {
		t.Errorf("valid config refused: %v", err)
	}
}

func TestParseStatCPU(t *testing.T) {
	// A command name with spaces and a parenthesis must not shift fields:
	// utime 250 and stime 50 ticks are 3 s.
	stat := "4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0 1234 0 0"
	got, err := parseStatCPU([]byte(stat))
	if err != nil || got != 3*time.Second {
		t.Errorf("parseStatCPU = %v, %v; want 3s", got, err)
	}
	if _, err := parseStatCPU([]byte("4242 (cut) S 1 2")); err == nil {
		t.Error("a truncated stat line was accepted")
	}
}
