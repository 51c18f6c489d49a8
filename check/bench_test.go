package check

import (
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/faultline/faultline/check/gen"
	"github.com/faultline/faultline/history"
)

// The million-operation benchmark: a register history over 1,000 keys, 1,000
// operations each, 4 concurrent processes per key, 5% of operations of
// unknown outcome. Run it on its own with
//
//	go test ./check -run XXX -bench BenchmarkCheckMillion -benchtime 1x
//
// and compare with BenchmarkPorcupineMillion, one plain
// porcupine.CheckOperationsVerbose over the same history partitioned by key.
var millionConfig = gen.Config{Workload: WorkloadRegister, Keys: 1000, OpsPerKey: 1000, Processes: 4,
	InfoRate: 0.05, FailRate: 0.02, Seed: 42}

var (
	millionOnce   sync.Once
	millionEvents []history.Event
	millionErr    error
)

func millionHistory(b *testing.B) []history.Event {
	millionOnce.Do(func() { millionEvents, millionErr = gen.Generate(millionConfig) })
	if millionErr != nil {
		b.Fatal(millionErr)
	}
	return millionEvents
}

func BenchmarkCheckMillion(b *testing.B) {
	events := millionHistory(b)
	b.ResetTimer()
	defer reportCPU(b)()
	for b.Loop() {
		res, err := Check(events, Options{Workload: WorkloadRegister, Timeout: 10 * time.Minute})
		if err != nil {
			b.Fatal(err)
		}
		if res.Valid != Valid || res.Stats.Ops != 1_000_000 {
			b.Fatalf("verdict %s over %d ops: %s", res.Valid, res.Stats.Ops, res.Reason)
		}
		b.ReportMetric(float64(res.Stats.CheckNs)/1e9, "check-s")
	}
}

// keyedOp lets one porcupine model partition a whole history by key.
type keyedOp struct {
	key  string
	meta *opMeta
}

func BenchmarkPorcupineMillion(b *testing.B) {
	events := millionHistory(b)
	ops, err := history.Pair(events)
	if err != nil {
		b.Fatal(err)
	}
	keys, err := splitByKey(ops, WorkloadRegister)
	if err != nil {
		b.Fatal(err)
	}
	var all []porcupine.Operation
	for _, kh := range keys {
		for _, op := range kh.model {
			op.Metadata = keyedOp{key: kh.key, meta: op.Metadata.(*opMeta)}
			all = append(all, op)
		}
	}
	model := registerModel
	model.Partition = func(h []porcupine.Operation) [][]porcupine.Operation {
		index := map[string]int{}
		var parts [][]porcupine.Operation
		for _, op := range h {
			k := op.Metadata.(keyedOp).key
			i, ok := index[k]
			if !ok {
				i = len(parts)
				index[k] = i
				parts = append(parts, nil)
			}
			parts[i] = append(parts[i], op)
		}
		return parts
	}
	model.DescribeOperationMetadata = nil
	b.ResetTimer()
	defer reportCPU(b)()
	for b.Loop() {
		result, _ := porcupine.CheckOperationsVerbose(model, all, 10*time.Minute)
		if result != porcupine.Ok {
			b.Fatalf("porcupine: %s", result)
		}
	}
}

// reportCPU reports the process's user+system CPU seconds per operation, a
// measure that other load on a shared machine does not inflate the way it
// inflates wall time.
func reportCPU(b *testing.B) func() {
	before := cpuSeconds()
	return func() { b.ReportMetric((cpuSeconds()-before)/float64(b.N), "cpu-s/op") }
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
