package workload

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/faultline/faultline/history"
)

// drive takes n operations from g, feeding back a plausible outcome for each
// (every write succeeds, reads see the last value written), and returns them.
func drive(t *testing.T, g Generator, n int) []Op {
	t.Helper()
	last := map[string]any{}
	ops := make([]Op, n)
	for i := range ops {
		op := g.Next()
		ops[i] = op
		switch op.F {
		case history.FRead:
			g.Observe(op, history.Ok, last[op.Key])
		case history.FWrite:
			last[op.Key] = op.Value
			g.Observe(op, history.Ok, op.Value)
		case history.FCas:
			g.Observe(op, history.Fail, op.Value)
		default:
			g.Observe(op, history.Ok, op.Value)
		}
	}
	return ops
}

func mustGenerator(t *testing.T, workload string, keys int, seed int64) Generator {
	t.Helper()
	g, err := NewGenerator(workload, keys, seed)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestGeneratorsAreDeterministicPerSeed(t *testing.T) {
	for _, w := range []string{Register, Set, Append} {
		a := drive(t, mustGenerator(t, w, 5, 42), 500)
		b := drive(t, mustGenerator(t, w, 5, 42), 500)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: same seed gave different sequences", w)
		}
		c := drive(t, mustGenerator(t, w, 5, 43), 500)
		if reflect.DeepEqual(a, c) {
			t.Errorf("%s: seeds 42 and 43 gave the same sequence", w)
		}
	}
}

func TestGeneratedValuesAreUnique(t *testing.T) {
	for _, w := range []string{Register, Set, Append} {
		seen := map[string]bool{}
		for _, op := range drive(t, mustGenerator(t, w, 4, 1), 5000) {
			var v any
			switch op.F {
			case history.FRead:
				if op.Value != nil {
					t.Fatalf("%s: read with value %v", w, op.Value)
				}
				continue
			case history.FCas:
				v = op.Value.([]any)[1]
			default:
				v = op.Value
			}
			k := history.ValueKey(v)
			if seen[k] {
				t.Fatalf("%s: value %s handed out twice", w, k)
			}
			seen[k] = true
		}
	}
}

func TestGeneratorMixAndKeys(t *testing.T) {
	cases := map[string][]string{
		Register: {history.FRead, history.FWrite, history.FCas},
		Set:      {history.FRead, history.FAdd},
		Append:   {history.FRead, history.FAppend},
	}
	for w, want := range cases {
		const n, keys = 4000, 5
		counts := map[string]int{}
		perKey := map[string]int{}
		for _, op := range drive(t, mustGenerator(t, w, keys, 9), n) {
			counts[op.F]++
			perKey[op.Key]++
		}
		if len(counts) != len(want) {
			t.Errorf("%s: functions %v, want exactly %v", w, counts, want)
		}
		for _, f := range want {
			if counts[f] == 0 {
				t.Errorf("%s: no %s in %d ops", w, f, n)
			}
		}
		// Reads are half of the mix; allow sampling noise.
		if r := counts[history.FRead]; r < n*40/100 || r > n*60/100 {
			t.Errorf("%s: %d reads of %d, want about half", w, r, n)
		}
		for i := range keys {
			k := fmt.Sprintf("k%d", i)
			if perKey[k] < n/keys/2 {
				t.Errorf("%s: key %s got %d of %d ops: keys must share the load", w, k, perKey[k], n)
			}
		}
		if len(perKey) != keys {
			t.Errorf("%s: keys used %v, want k0..k%d", w, perKey, keys-1)
		}
	}
}

func TestCasExpectsRecentlySeenValues(t *testing.T) {
	g := mustGenerator(t, Register, 2, 3)
	seen := map[string]map[string]bool{} // key -> values written or read there
	mark := func(key string, v any) {
		if seen[key] == nil {
			seen[key] = map[string]bool{}
		}
		seen[key][history.ValueKey(normalizeValue(v))] = true
	}
	casCount := 0
	for range 3000 {
		op := g.Next()
		switch op.F {
		case history.FWrite:
			mark(op.Key, op.Value)
			g.Observe(op, history.Info, nil) // indeterminate writes count as seen
		case history.FRead:
			// A read of a value written elsewhere, delivered as a decoder would.
			v := float64(1_000_000 + casCount)
			mark(op.Key, v)
			g.Observe(op, history.Ok, v)
		case history.FCas:
			casCount++
			expect := op.Value.([]any)[0]
			if !seen[op.Key][history.ValueKey(expect)] {
				t.Fatalf("cas on %s expects %v, never seen on that key", op.Key, expect)
			}
			if _, isFloat := expect.(float64); isFloat {
				t.Fatalf("cas expect %v kept as float64", expect)
			}
			g.Observe(op, history.Ok, nil)
			mark(op.Key, op.Value.([]any)[1])
		}
	}
	if casCount == 0 {
		t.Fatal("no cas generated")
	}
}

func TestCasNeedsAKnownValue(t *testing.T) {
	g := mustGenerator(t, Register, 1, 5)
	for range 200 {
		op := g.Next()
		if op.F == history.FCas {
			t.Fatalf("cas %v before any value was seen on the key", op.Value)
		}
		// Feed nothing back: no value is ever known.
	}
}

func TestNewGeneratorRejectsBadInput(t *testing.T) {
	if _, err := NewGenerator("queue", 1, 0); err == nil {
		t.Error("unknown workload accepted")
	}
	if _, err := NewGenerator(Register, 0, 0); err == nil {
		t.Error("zero keys accepted")
	}
}
