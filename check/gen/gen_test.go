package gen

import (
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
