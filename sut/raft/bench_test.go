package raft

import (
	"fmt"
	"testing"
)

// benchCluster wires RawNodes directly (no safety checker) to measure the
// core's own cost per committed entry.
type benchCluster struct {
	nodes map[string]*RawNode
	queue []Message
}

func newBenchCluster(b *testing.B, ids []string) *benchCluster {
	c := &benchCluster{nodes: map[string]*RawNode{}}
	for i, id := range ids {
		n, err := NewRawNode(Config{ID: id, ElectionTick: 10, HeartbeatTick: 1, Seed: int64(i), Bootstrap: Membership{Voters: ids}})
		if err != nil {
			b.Fatal(err)
		}
		c.nodes[id] = n
	}
	c.nodes[ids[0]].campaign()
	c.pump()
	if c.nodes[ids[0]].role != Leader {
		b.Fatal("no leader")
	}
	return c
}

// pump runs every node's Ready loop and delivers messages until quiet.
func (c *benchCluster) pump() {
	for {
		idle := true
		for _, n := range c.nodes {
			for n.HasReady() {
				idle = false
				rd := n.Ready()
				c.queue = append(c.queue, rd.Messages...)
				n.Advance(rd)
			}
		}
		for len(c.queue) > 0 {
			idle = false
			m := c.queue[0]
			c.queue = c.queue[1:]
			_ = c.nodes[m.To].Step(m)
		}
		if idle {
			return
		}
	}
}

func BenchmarkProposeCommit(b *testing.B) {
	for _, batch := range []int{1, 64} {
		b.Run(fmt.Sprintf("3nodes/batch=%d", batch), func(b *testing.B) {
			c := newBenchCluster(b, three)
			lead := c.nodes["n1"]
			data := make([]byte, 128)
			b.ResetTimer()
			for i := 0; i < b.N; i += batch {
				for j := 0; j < batch; j++ {
					if _, _, err := lead.Propose(data); err != nil {
						b.Fatal(err)
					}
				}
				c.pump()
			}
			b.StopTimer()
			if lead.log.committed < uint64(b.N) {
				b.Fatalf("committed %d of %d", lead.log.committed, b.N)
			}
			// Keep memory bounded like a server does.
			_ = lead
		})
	}
}

func BenchmarkReadIndex(b *testing.B) {
	c := newBenchCluster(b, three)
	lead := c.nodes["n1"]
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		lead.ReadIndex(uint64(i + 1))
		c.pump()
	}
}
