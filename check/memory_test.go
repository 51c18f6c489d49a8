package check

import (
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/history"
)

// pathological is one key, a dozen clients and thousands of writes of
// unknown outcome (of three values, which reads observe), then a read of a
// value nobody wrote: Porcupine's search has to try exponentially many
// subsets of the unknown writes before it can say no, and its cache grows
// with every one.
func pathological(writes int) []history.Event {
	const clients = 12
	var ops []tOp
	next := clients // process numbers: a client goes on under a new one after info
	proc := make([]int, clients)
	for c := range proc {
		proc[c] = c
	}
	for i := range writes {
		c := i % clients
		t := int64(2 * i)
		ops = append(ops, info(proc[c], fW, "k", i%3, t, t+1))
		proc[c] = next
		next++
		if i%clients == clients-1 {
			ops = append(ops, ok(next, fR, "k", nil, (i/clients)%3, t+1, t+2, "n1"))
			next++
		}
	}
	last := int64(2*writes + 10)
	ops = append(ops, ok(next, fR, "k", nil, 99, last, last+1, "n1"))
	return histOf(ops...)
}

func TestMemoryBudgetStopsAPathologicalSearch(t *testing.T) {
	events := pathological(3000)
	const budget = 64 << 20
	peak, stop := heapGrowth()
	res, err := Check(events, Options{Workload: WorkloadRegister, MemoryBudget: budget, Timeout: 10 * time.Minute})
	grown := stop()
	if err != nil {
		t.Fatal(err)
	}
	if res.Valid != Unknown || !strings.Contains(res.Reason, "memory budget") {
		t.Fatalf("verdict %s (%s), want unknown for the memory budget", res.Valid, res.Reason)
	}
	if res.Keys[0].Valid != Unknown || res.Stats.KeysUnk != 1 {
		t.Fatalf("key result %+v", res.Keys[0])
	}
	t.Logf("reason: %s; heap grew by at most %.1f MiB (budget %d MiB), sampled peak %.1f MiB", res.Reason, float64(grown)/(1<<20), budget>>20, float64(peak())/(1<<20))
	if grown > budget {
		t.Fatalf("the heap grew by %d bytes, more than the budget of %d", grown, budget)
	}
}

// The same history under a budget it fits in is judged, not stopped.
func TestMemoryBudgetLetsASmallSearchFinish(t *testing.T) {
	res, err := Check(pathological(12), Options{Workload: WorkloadRegister, MemoryBudget: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if res.Valid != Invalid {
		t.Fatalf("verdict %s (%s), want invalid", res.Valid, res.Reason)
	}
}

// heapGrowth samples the heap until stop is called, which returns the
// largest growth over the heap at the start.
func heapGrowth() (peak func() uint64, stop func() uint64) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	done := make(chan struct{})
	result := make(chan uint64, 1)
	go func() {
		var top uint64
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for {
			metrics.Read(s)
			top = max(top, s[0].Value.Uint64())
			select {
			case <-done:
				result <- top
				return
			case <-tick.C:
			}
		}
	}()
	var top uint64
	stop = func() uint64 {
		close(done)
		top = <-result
		if top < base {
			return 0
		}
		return top - base
	}
	return func() uint64 { return top }, stop
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"1024": 1024, "512MiB": 512 << 20, "2GiB": 2 << 30, "1.5G": 3 << 29, "3 MB": 3_000_000, "64K": 64 << 10} {
		if got, err := ParseBytes(in); err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "12X", "-5M", "0", "G"} {
		if _, err := ParseBytes(in); err == nil {
			t.Errorf("ParseBytes(%q) accepted", in)
		}
	}
	if got := FormatBytes(3 << 29); got != "1.5 GiB" {
		t.Errorf("FormatBytes = %q", got)
	}
	if DefaultMemoryBudget() <= 0 {
		t.Error("no default budget")
	}
}
