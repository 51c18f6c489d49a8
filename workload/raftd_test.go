package workload

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/sut/runtime"
)

// TestWorkloadsAgainstRaftd runs every workload against a real three-node
// raftd cluster (process runtime) and checks that what the server answers
// is recorded in the history's terms: a well-formed history, reads whose
// values some operation wrote, and a final read of every key.
func TestWorkloadsAgainstRaftd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts raftd clusters")
	}
	for _, w := range []string{Register, Set, Append} {
		t.Run(w, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			c, err := runtime.NewProcess(runtime.Options{Log: slog.New(slog.DiscardHandler), WorkDir: t.TempDir()}).Start(ctx, runtime.Spec{
				Campaign: fmt.Sprintf("workload-%s-%d", w, os.Getpid()),
				Nodes:    []string{"n1", "n2", "n3"},
				System:   raftd,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close(context.Background())
			addrs := func() map[string]string {
				m := map[string]string{}
				for _, id := range c.Nodes() {
					m[id] = c.ClientAddr(id)
				}
				return m
			}
			cfg := Config{System: raftd, Workload: w, Keys: 3, Concurrency: 4, Timeout: 2 * time.Second, Seed: 1}
			events := runUntil(t, cfg, addrs, atLeast(400))
			rec, path := newRecorder(t)
			if err := FinalReads(ctx, cfg, addrs, rec); err != nil {
				t.Fatalf("final reads on a healthy cluster: %v", err)
			}
			rec.Close()
			final, err := history.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			ops := pairs(t, events)
			written := map[string]bool{"null": true}
			ok := 0
			for _, op := range ops {
				if op.Type == history.Ok {
					ok++
				}
				switch op.F {
				case history.FWrite, history.FAdd, history.FAppend:
					written[history.ValueKey(op.Input)] = true
				case history.FCas:
					written[history.ValueKey(op.Input.([]any)[1])] = true
				}
			}
			outcomes := map[string]int{}
			errors := map[string]int{}
			for _, op := range ops {
				outcomes[op.F+" "+string(op.Type)]++
				if op.Type != history.Ok {
					errors[events[op.Complete].Error]++
				}
			}
			t.Logf("%s: %d ops: %v; errors: %v", w, len(ops), outcomes, errors)
			if ok < len(ops)/2 {
				t.Errorf("only %d of %d operations ok on a healthy cluster", ok, len(ops))
			}
			check := func(op history.Op) {
				if op.F != history.FRead || op.Type != history.Ok {
					return
				}
				if w == Register {
					if !written[history.ValueKey(op.Output)] {
						t.Errorf("read %s = %v, never written", op.Key, op.Output)
					}
					return
				}
				list, isList := history.List(op.Output)
				if !isList {
					t.Fatalf("%s read %s = %#v, want a list", w, op.Key, op.Output)
				}
				for _, e := range list {
					if !written[history.ValueKey(e)] {
						t.Errorf("read %s holds %v, never added", op.Key, e)
					}
				}
			}
			for _, op := range ops {
				check(op)
			}
			finalOps := pairs(t, final)
			if len(finalOps) != cfg.Keys {
				t.Errorf("%d final reads, want %d", len(finalOps), cfg.Keys)
			}
			for _, op := range finalOps {
				if op.Type != history.Ok {
					t.Errorf("final read %+v not ok", op)
				}
				check(op)
			}
		})
	}
}
