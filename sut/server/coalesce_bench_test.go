package server

import (
	"testing"

	"github.com/faultline/faultline/sut/raft"
)

// BenchmarkCoalesceAppends merges a round of 64 one-entry appends to each
// of 4 followers, as the leader sends them under 64 concurrent clients.
func BenchmarkCoalesceAppends(b *testing.B) {
	peers := []string{"n2", "n3", "n4", "n5"}
	var round []raft.Message
	for i := uint64(1); i <= 64; i++ {
		for _, p := range peers {
			m := app(p, 100+i-1, 2, 100, 100+i)
			m.Entries[0].Data = make([]byte, 80)
			round = append(round, m)
		}
	}
	msgs := make([]raft.Message, len(round))
	b.ReportAllocs()
	for b.Loop() {
		copy(msgs, round)
		if out := coalesceAppends(msgs); len(out) != len(peers) {
			b.Fatalf("%d messages", len(out))
		}
	}
}
