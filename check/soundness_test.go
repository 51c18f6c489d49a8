package check

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/faultline/faultline/check/gen"
	"github.com/faultline/faultline/history"
)

// Generated histories of real objects are linearizable: the checker must say
// valid, and no classifier may report anything.
func TestGeneratedHistoriesAreValid(t *testing.T) {
	for _, workload := range []string{WorkloadRegister, WorkloadSet, WorkloadAppend} {
		for seed := range uint64(12) {
			cfg := gen.Config{Workload: workload, Keys: 4, OpsPerKey: 80, Processes: 1 + int(seed%4),
				InfoRate: 0.08, FailRate: 0.05, Seed: seed}
			if seed%2 == 1 && workload != WorkloadAppend {
				// Repeated values: the hard case for the classifiers. (Lists
				// with repeated elements are covered by the corruption test
				// below; at this size they make Porcupine's search slow.)
				cfg.ValueRange = 4
			}
			t.Run(fmt.Sprintf("%s/%d", workload, seed), func(t *testing.T) {
				events, err := gen.Generate(cfg)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := history.Pair(events); err != nil {
					t.Fatalf("generator made an ill-formed history: %v", err)
				}
				res := mustCheck(t, events, Options{Workload: workload})
				expectValid(t, res)
				if res.Stats.Ops != cfg.Keys*cfg.OpsPerKey {
					t.Fatalf("ops %d", res.Stats.Ops)
				}
			})
		}
	}
}

// Corrupted histories: whatever the classifiers report must be on keys
// Porcupine also rejects (mustCheck fails on any disagreement), and the
// classifiers must find something on most corrupted histories.
func TestClassifiersAgreeWithPorcupineOnCorruptHistories(t *testing.T) {
	for _, workload := range []string{WorkloadRegister, WorkloadSet, WorkloadAppend} {
		invalid, explained := 0, 0
		for seed := range uint64(40) {
			cfg := gen.Config{Workload: workload, Keys: 2, OpsPerKey: 40, Processes: 3,
				InfoRate: 0.05, FailRate: 0.05, Seed: 1000 + seed}
			if seed%2 == 1 {
				cfg.ValueRange = 3
			}
			events, err := gen.Generate(cfg)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(seed, 7))
			corrupt(events, workload, rng)
			res := mustCheck(t, events, Options{Workload: workload})
			if res.Valid == Invalid {
				invalid++
				for _, a := range res.Anomalies {
					if a.Kind != NonLinearizable {
						explained++
						break
					}
				}
			}
			for _, a := range res.Anomalies {
				if a.Explanation == "" || len(a.Events) == 0 {
					t.Fatalf("anomaly without explanation or events: %+v", a)
				}
			}
		}
		t.Logf("%s: %d of 40 corrupted histories invalid, %d explained by a finer classifier", workload, invalid, explained)
		if invalid < 10 || explained < invalid/3 {
			t.Errorf("%s: only %d invalid, %d explained: the corruption or the classifiers are too weak", workload, invalid, explained)
		}
	}
}

// corrupt changes what a few ok reads returned.
func corrupt(events []history.Event, workload string, rng *rand.Rand) {
	var reads []int
	var written []any
	for i, e := range events {
		if e.F == history.FRead && e.Type == history.Ok {
			reads = append(reads, i)
		}
		if e.Type == history.Invoke && e.F != history.FRead {
			if pair, ok := history.List(e.Value); ok && e.F == history.FCas {
				written = append(written, pair[1])
			} else {
				written = append(written, e.Value)
			}
		}
	}
	if len(reads) == 0 {
		return
	}
	for range 1 + rng.IntN(2) {
		i := reads[rng.IntN(len(reads))]
		e := &events[i]
		if workload == WorkloadRegister {
			switch {
			case rng.IntN(4) == 0 || len(written) == 0:
				e.Value = 1_000_000 + rng.IntN(10) // never written
			default:
				e.Value = written[rng.IntN(len(written))]
			}
			continue
		}
		list, _ := history.List(e.Value)
		list = slices.Clone(list)
		switch rng.IntN(4) {
		case 0: // drop an element
			if len(list) > 0 {
				j := rng.IntN(len(list))
				list = slices.Delete(list, j, j+1)
			}
		case 1: // duplicate one
			if len(list) > 0 {
				list = append(list, list[rng.IntN(len(list))])
			}
		case 2: // invent one
			list = append(list, 1_000_000)
		default: // swap two
			if len(list) > 1 {
				j := rng.IntN(len(list) - 1)
				list[j], list[j+1] = list[j+1], list[j]
			}
		}
		e.Value = list
	}
}

// Histories in which clients share the keys (the benchmarks' kind) are
// valid too.
func TestSharedClientHistoriesAreValid(t *testing.T) {
	for _, workload := range []string{WorkloadRegister, WorkloadSet, WorkloadAppend} {
		for seed := range uint64(4) {
			cfg := gen.Config{Workload: workload, Keys: 3, OpsPerKey: 80, Clients: 4 + int(seed), InfoRate: 0.08, FailRate: 0.05, Seed: seed}
			events, err := gen.Generate(cfg)
			if err != nil {
				t.Fatal(err)
			}
			expectValid(t, mustCheck(t, events, Options{Workload: workload}))
		}
	}
}
