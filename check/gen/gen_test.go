package gen

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/faultline/faultline/history"
)

func TestGenerateIsWellFormedAndDeterministic(t *testing.T) {
	for _, workload := range []string{"register", "set", "append"} {
		cfg := Config{Workload: workload, Keys: 3, OpsPerKey: 200, Processes: 4, InfoRate: 0.1, FailRate: 0.05, Seed: 9}
		a, err := Generate(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ops, err := history.Pair(a)
		if err != nil {
			t.Fatalf("%s: ill-formed: %v", workload, err)
		}
		if len(ops) != 600 {
			t.Fatalf("%s: %d ops, want 600", workload, len(ops))
		}
		kinds := map[history.Type]int{}
		processes := map[int]bool{}
		for _, op := range ops {
			kinds[op.Type]++
			processes[op.Process] = true
		}
		if kinds[history.Ok] == 0 || kinds[history.Info] == 0 || kinds[history.Fail] == 0 {
			t.Errorf("%s: outcomes %v, want all three", workload, kinds)
		}
		// Info completions retire processes: more processes than 3 keys x 4.
		if len(processes) <= 12 {
			t.Errorf("%s: %d processes; info completions should add new ones", workload, len(processes))
		}
		b, _ := Generate(cfg)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: the same config gave different histories", workload)
		}
	}
}

func TestGenerateRejectsUnknownWorkload(t *testing.T) {
	if _, err := Generate(Config{Workload: "queue"}); err == nil {
		t.Fatal("no error for an unknown workload")
	}
}

// Shared clients: well-formed, deterministic, every key used, and checked
// valid elsewhere (check's soundness test).
func TestStreamSharesClientsAcrossKeys(t *testing.T) {
	for _, workload := range []string{"register", "set", "append"} {
		cfg := Config{Workload: workload, Keys: 20, OpsPerKey: 50, Clients: 7, InfoRate: 0.1, FailRate: 0.05, Seed: 4}
		a, err := Generate(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ops, err := history.Pair(a)
		if err != nil {
			t.Fatalf("%s: ill-formed: %v", workload, err)
		}
		if len(ops) != 1000 {
			t.Fatalf("%s: %d ops, want 1000", workload, len(ops))
		}
		keysOf := map[int]map[string]bool{}
		for _, op := range ops {
			if keysOf[op.Process] == nil {
				keysOf[op.Process] = map[string]bool{}
			}
			keysOf[op.Process][op.Key] = true
		}
		if len(keysOf[0]) < 2 {
			t.Errorf("%s: client 0 used keys %v; clients should share keys", workload, keysOf[0])
		}
		b, _ := Generate(cfg)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: the same config gave different histories", workload)
		}
	}
}

// The JSONL writer writes what json.Marshal (the recorder's encoder) writes.
func TestWriteJSONLMatchesTheRecorderEncoding(t *testing.T) {
	for _, cfg := range []Config{
		{Workload: "register", Keys: 5, OpsPerKey: 40, Clients: 4, InfoRate: 0.1, FailRate: 0.1, Seed: 1},
		{Workload: "append", Keys: 3, OpsPerKey: 30, Processes: 3, InfoRate: 0.1, FailRate: 0.1, Seed: 2},
		{Workload: "set", Keys: 3, OpsPerKey: 30, Clients: 3, InfoRate: 0.1, Seed: 3},
	} {
		var got bytes.Buffer
		n, err := WriteJSONL(&got, cfg)
		if err != nil {
			t.Fatal(err)
		}
		events, _ := Generate(cfg)
		var want bytes.Buffer
		for _, e := range events {
			b, _ := json.Marshal(e)
			want.Write(append(b, '\n'))
		}
		if n != len(events) || got.String() != want.String() {
			t.Fatalf("%s: %d events; JSONL differs from json.Marshal", cfg.Workload, n)
		}
	}
}
