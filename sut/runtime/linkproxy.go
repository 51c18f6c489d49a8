package runtime

import (
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/faultline/faultline/sut/runtime/linkpump"
)

// linkProxy stands in front of one node (the destination) for peer
// traffic: every peer dials the proxy, never the node. Peers dial from
// their own loopback IP, so the remote IP of an accepted connection names
// the source node, and the proxy can cut exactly the directed links
// src->dst that the grudge asks for. Each node sends its messages on its
// own outgoing stream, so cutting src's stream to dst leaves dst's stream to
// src (and thus the reverse direction) alone.
type linkProxy struct {
	dst    string
	ln     net.Listener
	source func(remoteIP string) string // node id for an IP, "" if unknown
	log    *slog.Logger

	mu      sync.Mutex
	target  string               // the node's own listen address
	blocked map[string]bool      // sources whose traffic to dst is dropped
	in      map[string]LinkFault // by source: the link source->dst
	out     map[string]LinkFault // by source: the link dst->source (replies on its streams)
	conns   map[*proxiedConn]struct{}
	closed  bool
	wg      sync.WaitGroup
}

// proxiedConn is one accepted peer stream: either forwarded to the node or
// black-holed (read and discarded, as a cut link loses packets).
type proxiedConn struct {
	src        string
	client     net.Conn
	blackholed bool // guarded by the proxy's mu

	mu     sync.Mutex
	server net.Conn // nil until dialed, and always nil when black-holed
	closed bool
}

// attach records the stream to the node; false if the stream was cut in
// the meantime (the caller then closes server).
func (c *proxiedConn) attach(server net.Conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.server = server
	return true
}

func (c *proxiedConn) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.closed = true
	c.client.Close()
	if c.server != nil {
		c.server.Close()
	}
}

func newLinkProxy(dst, target string, source func(string) string, log *slog.Logger) (*linkProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &linkProxy{
		dst: dst, target: target, ln: ln, source: source, log: log,
		blocked: map[string]bool{}, conns: map[*proxiedConn]struct{}{},
	}
	p.wg.Add(1)
	go p.acceptLoop()
	return p, nil
}

// Addr is what peers dial for dst.
func (p *linkProxy) Addr() string { return p.ln.Addr().String() }

func (p *linkProxy) acceptLoop() {
	defer p.wg.Done()
	for {
		conn, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.serve(conn)
		}()
	}
}

func (p *linkProxy) serve(client net.Conn) {
	src := ""
	if addr, ok := client.RemoteAddr().(*net.TCPAddr); ok {
		src = p.source(addr.IP.String())
	}
	pc := &proxiedConn{src: src, client: client}

	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		client.Close()
		return
	}
	pc.blackholed = src != "" && p.blocked[src]
	p.conns[pc] = struct{}{}
	defer func() {
		p.mu.Lock()
		delete(p.conns, pc)
		p.mu.Unlock()
		pc.close()
	}()

	target, blackholed := p.target, pc.blackholed
	p.mu.Unlock()
	if blackholed {
		_, _ = io.Copy(io.Discard, client)
		return
	}
	server, err := net.DialTimeout("tcp", target, 2*time.Second)
	if err != nil {
		// The node is down: the peer sees its dial fail, as it would
		// without a proxy.
		return
	}
	// A grudge change while dialing has already closed pc (it is
	// registered in p.conns), so attach fails and the stream is dropped.
	if !pc.attach(server) {
		server.Close()
		return
	}
	done := make(chan struct{}, 2)
	quit := make(chan struct{})
	defer close(quit)
	go func() {
		linkpump.Pump(server, client, func() LinkFault { return p.linkFault(true, src) }, quit)
		done <- struct{}{}
	}()
	go func() {
		linkpump.Pump(client, server, func() LinkFault { return p.linkFault(false, src) }, quit)
		done <- struct{}{}
	}()
	<-done // either side ending (or a reset) ends the stream
}

// linkFault is the current fault of the link src->dst (inbound) or
// dst->src.
func (p *linkProxy) linkFault(inbound bool, src string) LinkFault {
	p.mu.Lock()
	defer p.mu.Unlock()
	if inbound {
		return p.in[src]
	}
	return p.out[src]
}

// setLinkFaults replaces the faults of the links between dst and each
// source: in[src] for src->dst, out[src] for dst->src. Open streams follow
// at once.
func (p *linkProxy) setLinkFaults(in, out map[string]LinkFault) {
	p.mu.Lock()
	p.in, p.out = in, out
	p.mu.Unlock()
}

// setTarget changes where streams are forwarded. Streams to the old
// address are closed: whatever answers there now is not the node.
func (p *linkProxy) setTarget(addr string) {
	p.mu.Lock()
	p.target = addr
	var stale []*proxiedConn
	for pc := range p.conns {
		if !pc.blackholed {
			stale = append(stale, pc)
		}
	}
	p.mu.Unlock()
	for _, pc := range stale {
		pc.close()
	}
}

// setBlocked replaces the set of sources whose traffic dst drops. Forwarded
// streams from a newly blocked source are closed (the source redials and is
// black-holed); black-holed streams from a source no longer blocked are
// closed so that its next dial is forwarded.
func (p *linkProxy) setBlocked(srcs []string) {
	next := make(map[string]bool, len(srcs))
	for _, s := range srcs {
		next[s] = true
	}
	p.mu.Lock()
	p.blocked = next
	var stale []*proxiedConn
	for pc := range p.conns {
		if pc.src == "" {
			continue
		}
		if next[pc.src] != pc.blackholed {
			stale = append(stale, pc)
		}
	}
	p.mu.Unlock()
	for _, pc := range stale {
		pc.close()
	}
	if len(stale) > 0 {
		p.log.Debug("link proxy cut streams", "dst", p.dst, "streams", len(stale), "blocked", srcs)
	}
}

// close stops accepting and closes every stream.
func (p *linkProxy) close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	conns := make([]*proxiedConn, 0, len(p.conns))
	for pc := range p.conns {
		conns = append(conns, pc)
	}
	p.mu.Unlock()
	p.ln.Close()
	for _, pc := range conns {
		pc.close()
	}
	p.wg.Wait()
}
