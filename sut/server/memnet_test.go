package server

import (
	"sync"

	"github.com/faultline/faultline/sut/raft"
)

// memNet is an in-process network for test clusters: it delivers each
// node's messages in order through a per-node queue and can cut directed
// links or drop messages by a predicate, like a partition would.
type memNet struct {
	mu    sync.Mutex
	nodes map[string]*Server
	cut   map[[2]string]bool // {from, to}
}

func newMemNet() *memNet {
	return &memNet{nodes: map[string]*Server{}, cut: map[[2]string]bool{}}
}

func (n *memNet) attach(id string, s *Server) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.nodes[id] = s
}

// isolate cuts every link to and from id.
func (n *memNet) isolate(id string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for other := range n.nodes {
		if other != id {
			n.cut[[2]string{id, other}] = true
			n.cut[[2]string{other, id}] = true
		}
	}
}

// heal restores every link.
func (n *memNet) heal() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cut = map[[2]string]bool{}
}

func (n *memNet) target(m raft.Message) *Server {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cut[[2]string{m.From, m.To}] {
		return nil
	}
	return n.nodes[m.To]
}

// memTransport is one node's sending side of the memNet.
type memTransport struct {
	net   *memNet
	queue chan raft.Message
	stop  chan struct{}
	done  chan struct{}
}

func (n *memNet) transport() *memTransport {
	t := &memTransport{net: n, queue: make(chan raft.Message, 4096), stop: make(chan struct{}), done: make(chan struct{})}
	go t.run()
	return t
}

func (t *memTransport) Send(msgs []raft.Message) {
	for _, m := range msgs {
		select {
		case t.queue <- m:
		default: // full: dropped, as a congested link would
		}
	}
}

func (t *memTransport) run() {
	defer close(t.done)
	for {
		select {
		case <-t.stop:
			return
		case m := <-t.queue:
			// Partitions are decided at delivery time, so a message
			// queued before a cut is lost with it.
			if s := t.net.target(m); s != nil {
				s.Receive(m)
			}
		}
	}
}

func (t *memTransport) Close() error {
	close(t.stop)
	<-t.done
	return nil
}
