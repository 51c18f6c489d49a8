package runtime

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/faultline/faultline/sut/system"
)

// benchmarkStart measures Start of a 5-node raftd cluster until every node
// serves, then closes it (Close is not timed). The binaries and the image
// are built before the timer starts.
func benchmarkStart(b *testing.B, rt Runtime) {
	ctx := context.Background()
	sys := system.Raftd(system.RaftdOptions{})
	if d, ok := rt.(*dockerRuntime); ok {
		if _, err := d.prepareImage(ctx, sys); err != nil {
			b.Fatal(err)
		}
	}
	var total time.Duration
	for i := 0; i < b.N; i++ {
		began := time.Now()
		c, err := rt.Start(ctx, Spec{Campaign: uniqueCampaign(fmt.Sprintf("bench%d", i)), Nodes: []string{"n1", "n2", "n3", "n4", "n5"}, System: sys})
		if err != nil {
			b.Fatal(err)
		}
		total += time.Since(began)
		b.StopTimer()
		if err := c.Close(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s/start")
}

func BenchmarkStartRaftd5Process(b *testing.B) {
	benchmarkStart(b, NewProcess(Options{Log: testLoggerB()}))
}

func BenchmarkStartRaftd5Docker(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := DockerAvailable(ctx); err != nil {
		b.Skipf("no docker engine: %v", err)
	}
	benchmarkStart(b, NewDocker(Options{Log: testLoggerB()}))
}
