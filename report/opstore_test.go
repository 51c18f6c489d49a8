package report

import "testing"

// Operations read back the same across chunk boundaries, latencies beyond
// 32 bits included.
func TestOpColumnsChunks(t *testing.T) {
	var c opColumns
	n := 3*opChunk + 5
	for i := range n {
		if got := c.add(int64(i)*10, uint32(i%7), uint8(i%5)); got != i {
			t.Fatalf("add gave index %d, want %d", got, i)
		}
		if i%3 != 0 {
			c.complete(i, int64(i)*10+int64(i%4)<<31, uint8(i%3))
		}
	}
	for i := range n {
		wantEnd, wantOutcome := int64(i)*10+int64(i%4)<<31, uint8(i%3)
		if i%3 == 0 {
			wantEnd, wantOutcome = max(int64(i)*10, 99), outcomePendingCode
		}
		if c.start(i) != int64(i)*10 || c.key(i) != uint32(i%7) || c.f(i) != uint8(i%5) || c.outcome(i) != wantOutcome || c.end(i, 99) != wantEnd {
			t.Fatalf("op %d: start %d key %d f %d outcome %d end %d", i, c.start(i), c.key(i), c.f(i), c.outcome(i), c.end(i, 99))
		}
	}
	if len(c.farEnds) == 0 {
		t.Fatal("no latency beyond 32 bits was tested")
	}
}
