package server

import (
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkClusterWrites measures acknowledged writes through the HTTP
// handlers of an in-process three-node cluster (real cores and WALs with
// fsync on, messages over the in-memory network): the server's own cost per
// write, without sockets. Run with -cpu 1,2 and compare with `raftd bench`.
func BenchmarkClusterWrites(b *testing.B) {
	for _, clients := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			c := newTestCluster(b, 3, func(cfg *Config) { cfg.UnsafeNoSync, cfg.Tick = false, DefaultTick })
			leader := c.waitLeader()
			var next atomic.Int64
			var wg sync.WaitGroup
			cpu0 := processCPU()
			b.ResetTimer()
			for w := 0; w < clients; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := next.Add(1)
						if i > int64(b.N) {
							return
						}
						code, out, _ := do(b, leader, "PUT", fmt.Sprintf("/kv/k%d", i%1000), map[string]any{"value": i}, nil)
						if code != 200 {
							b.Errorf("PUT: %d %v", code, out)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
			// CPU per write (all three nodes): steadier than throughput on a
			// shared machine.
			b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/write")
			st := leader.stats.body()
			b.ReportMetric(st.EntriesPerSync, "entries/fsync")
			if st.Saves > 0 {
				b.ReportMetric(st.SaveMillis/float64(st.Saves), "ms/save")
			}
		})
	}
}
