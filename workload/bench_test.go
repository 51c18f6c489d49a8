package workload

import (
	"context"
	"testing"
	"time"

	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/sut/system"
)

// BenchmarkGeneratorNext measures the generator alone, contended by every
// worker at once as in a run.
func BenchmarkGeneratorNext(b *testing.B) {
	g, err := NewGenerator(Register, 10, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			op := g.Next()
			g.Observe(op, history.Ok, op.Value)
		}
	})
}

// BenchmarkRecordedOperation measures one closed-loop step against the
// emulated server over loopback HTTP: invoke recorded, request, completion
// recorded (flushed to disk). It bounds the ops/s one worker can offer.
func BenchmarkRecordedOperation(b *testing.B) {
	srv := newEmulator(b, nil)
	rec, err := history.NewRecorder(b.TempDir() + "/history.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	defer rec.Close()
	cfg := Config{System: raftd, Workload: Register, Keys: 3, Concurrency: 1, Timeout: time.Second}
	g, _ := NewGenerator(Register, cfg.Keys, 1)
	c := raftd.NewClient(map[string]string{"n1": srv.addr()}, system.ClientOptions{Timeout: time.Second, ClientID: "bench"})
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		op := g.Next()
		out, err := invokeAndComplete(ctx, rec, history.Client(0), cfg, c, op, false)
		if err != nil {
			b.Fatal(err)
		}
		g.Observe(op, out.Type, out.Value)
	}
}
