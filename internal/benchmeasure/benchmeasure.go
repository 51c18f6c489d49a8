// Package benchmeasure takes the figures the checker's benchmarks report
// beside wall time: CPU seconds per operation, the peak Go heap, and the
// process's peak RSS. One owner, so that check's and report's benchmarks,
// whose figures the README sets side by side, measure the same way.
// It is imported only by benchmarks.
package benchmeasure

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"syscall"
	"testing"
	"time"
)

// Start collects garbage, starts sampling the heap's objects every 2 ms and
// resets b's timer. The function it returns stops the timer and reports
// cpu-s/op, peak-heap-MB (the largest sample: live and unswept objects) and
// peak-rss-MB (of the whole process so far).
func Start(b *testing.B) (stop func()) {
	runtime.GC()
	debug.FreeOSMemory()
	peak := samplePeakHeap()
	before := CPUSeconds()
	b.ResetTimer()
	return func() {
		b.StopTimer()
		b.ReportMetric((CPUSeconds()-before)/float64(b.N), "cpu-s/op")
		b.ReportMetric(float64(peak())/1e6, "peak-heap-MB")
		var ru syscall.Rusage
		if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
			b.ReportMetric(float64(ru.Maxrss)/1e3, "peak-rss-MB")
		}
	}
}

// CPUSeconds is the user and system CPU time this process has used.
func CPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// samplePeakHeap samples the heap's objects every 2 ms until the returned
// function is called, which gives the largest sample.
func samplePeakHeap() func() uint64 {
	stop := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var top uint64
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			top = max(top, sample[0].Value.Uint64())
			select {
			case <-stop:
				peak <- top
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 { close(stop); return <-peak }
}
