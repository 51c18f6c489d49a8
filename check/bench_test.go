package check

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/faultline/faultline/check/gen"
	"github.com/faultline/faultline/internal/benchmeasure"
)

// The side-by-side benchmarks: `checker check` against plain Porcupine on
// the same history file, in the same run:
//
//	go test ./check -run X -bench 'Million|Hard' -benchtime 1x
//
// Each reports wall seconds (ns/op), CPU seconds and the peak Go heap
// (live and unswept objects, sampled every 2 ms, after a GC before the
// start). The histories are those of `checker gen-history --preset
// million` and `--preset hard`, written once to the temporary directory.
var (
	millionConfig = gen.Config{Workload: WorkloadRegister, Keys: 1000, OpsPerKey: 1000, Clients: 50,
		InfoRate: 0.05, FailRate: 0.02, Seed: 42}
	hardConfig = gen.Config{Workload: WorkloadRegister, Keys: 10, OpsPerKey: 10_000, Clients: 50,
		InfoRate: 0.10, FailRate: 0.02, Seed: 42}
)

func BenchmarkCheckMillion(b *testing.B) { benchmarkCheck(b, millionConfig) }

// BenchmarkCheckFile checks the history file FAULTLINE_HISTORY names, e.g.
// the ten-million-operation one:
//
//	checker gen-history --preset ten-million --out /tmp/ten.jsonl
//	FAULTLINE_HISTORY=/tmp/ten.jsonl go test ./check -run X -bench CheckFile -benchtime 1x
//
// Run on its own, its peak-rss-MB is the process's peak resident memory.
func BenchmarkCheckFile(b *testing.B) {
	path := os.Getenv("FAULTLINE_HISTORY")
	if path == "" {
		b.Skip("FAULTLINE_HISTORY names no history file")
	}
	defer measure(b)()
	for b.Loop() {
		res, err := CheckFile(path, Options{Timeout: time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(res.Stats.Ops), "ops")
		if res.Valid != Valid {
			b.Fatalf("verdict %s: %s", res.Valid, res.Reason)
		}
	}
}

// BenchmarkPorcupineFile is plain Porcupine (benchmarkPorcupine) on the
// history file FAULTLINE_HISTORY names: the reference process to run beside
// `checker check` under /usr/bin/time -v, for peak RSS side by side:
//
//	go test -c -o check.test ./check
//	FAULTLINE_HISTORY=/tmp/million.jsonl /usr/bin/time -v ./check.test -test.run X -test.bench PorcupineFile -test.benchtime 1x
//	/usr/bin/time -v checker check /tmp/million.jsonl
func BenchmarkPorcupineFile(b *testing.B) {
	path := os.Getenv("FAULTLINE_HISTORY")
	if path == "" {
		b.Skip("FAULTLINE_HISTORY names no history file")
	}
	porcupineOn(b, path)
}

func BenchmarkPorcupineMillion(b *testing.B) { benchmarkPorcupine(b, millionConfig) }
func BenchmarkCheckHard(b *testing.B)        { benchmarkCheck(b, hardConfig) }
func BenchmarkPorcupineHard(b *testing.B)    { benchmarkPorcupine(b, hardConfig) }

var historyFiles sync.Map // gen.Config -> path

// historyFile writes the history of cfg once per process.
func historyFile(b *testing.B, cfg gen.Config) string {
	if p, ok := historyFiles.Load(cfg); ok {
		return p.(string)
	}
	path := filepath.Join(os.TempDir(), fmt.Sprintf("faultline-bench-%d-%d-%d-%d.jsonl", os.Getpid(), cfg.Keys, cfg.OpsPerKey, cfg.Clients))
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := gen.WriteJSONL(f, cfg); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	historyFiles.Store(cfg, path)
	return path
}

func TestMain(m *testing.M) {
	code := m.Run()
	historyFiles.Range(func(_, p any) bool { os.Remove(p.(string)); return true })
	os.Exit(code)
}

func benchmarkCheck(b *testing.B, cfg gen.Config) {
	path := historyFile(b, cfg)
	defer measure(b)()
	for b.Loop() {
		res, err := CheckFile(path, Options{Workload: WorkloadRegister, Timeout: 10 * time.Minute})
		if err != nil {
			b.Fatal(err)
		}
		if res.Valid != Valid || res.Stats.Ops != cfg.Keys*cfg.OpsPerKey {
			b.Fatalf("verdict %s over %d ops: %s", res.Valid, res.Stats.Ops, res.Reason)
		}
	}
}

// benchmarkPorcupine is what a user of plain Porcupine would write: decode
// the JSONL with encoding/json, pair invocations with completions, and
// check with a register model partitioned by key.
func benchmarkPorcupine(b *testing.B, cfg gen.Config) { porcupineOn(b, historyFile(b, cfg)) }

func porcupineOn(b *testing.B, path string) {
	defer measure(b)()
	for b.Loop() {
		ops, err := plainOperations(path)
		if err != nil {
			b.Fatal(err)
		}
		if result := porcupine.CheckOperationsTimeout(plainRegister, ops, 10*time.Minute); result != porcupine.Ok {
			b.Fatalf("porcupine: %s", result)
		}
	}
}

type plainEvent struct {
	Time    int64  `json:"time"`
	Process any    `json:"process"`
	Type    string `json:"type"`
	F       string `json:"f"`
	Key     string `json:"key"`
	Value   any    `json:"value"`
}

type plainInput struct {
	key, f  string
	value   any
	unknown bool
}

func plainOperations(path string) ([]porcupine.Operation, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReader(f))
	var events []plainEvent
	for dec.More() {
		var e plainEvent
		if err := dec.Decode(&e); err != nil {
			return nil, err
		}
		events = append(events, e)
	}
	var ops []porcupine.Operation
	open := map[float64]int{}
	for _, e := range events {
		p, ok := e.Process.(float64)
		if !ok {
			continue // nemesis
		}
		if e.Type == "invoke" {
			open[p] = len(ops)
			ops = append(ops, porcupine.Operation{ClientId: int(p), Input: plainInput{key: e.Key, f: e.F, value: e.Value},
				Call: e.Time, Return: math.MaxInt64})
			continue
		}
		op := &ops[open[p]]
		delete(open, p)
		in := op.Input.(plainInput)
		switch e.Type {
		case "ok":
			op.Return, op.Output = e.Time, e.Value
		case "info":
			in.unknown = true
			op.Input = in
		default:
			in.f = "" // failed: left out below
			op.Input = in
		}
	}
	kept := ops[:0]
	for _, op := range ops {
		if in := op.Input.(plainInput); in.f != "" && !(in.unknown && in.f == "read") {
			kept = append(kept, op)
		}
	}
	return kept, nil
}

var plainRegister = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		for _, op := range history {
			k := op.Input.(plainInput).key
			byKey[k] = append(byKey[k], op)
		}
		parts := make([][]porcupine.Operation, 0, len(byKey))
		for _, p := range byKey {
			parts = append(parts, p)
		}
		return parts
	},
	Init: func() any { return nil },
	Step: func(state, input, output any) (bool, any) {
		in := input.(plainInput)
		switch in.f {
		case "read":
			return output == state, state
		case "write":
			return true, in.value
		}
		pair := in.value.([]any)
		if state == pair[0] {
			return true, pair[1]
		}
		return in.unknown, state
	},
}

// measure reports CPU seconds and the peak heap of the benchmark.
func measure(b *testing.B) func() { return benchmeasure.Start(b) }
