package linkpump

import (
	"fmt"
	"net"
	"sync"
	"time"
)

// Links is what a Forwarder applies: the links between its node (the
// destination) and each source node, and how to tell the sources apart.
type Links struct {
	// Sources names the node that dials from each IP.
	Sources map[string]string `json:"sources,omitempty"`
	// In[src] is the link src->node; Out[src] the link node->src (the
	// replies on src's streams).
	In  map[string]Fault `json:"in,omitempty"`
	Out map[string]Fault `json:"out,omitempty"`
}

// Validate names the first bad fault.
func (l Links) Validate() error {
	for dir, m := range map[string]map[string]Fault{"in": l.In, "out": l.Out} {
		for src, f := range m {
			if err := f.Validate(); err != nil {
				return fmt.Errorf("links.%s[%s]: %w", dir, src, err)
			}
		}
	}
	return nil
}

// Forwarder stands in front of one node for its peer traffic: peers dial
// it, it dials the node and pumps each stream through the fault of its
// link, read live, so a change applies to open streams too. A stream from
// an IP that Links does not name is forwarded untouched.
type Forwarder struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	links Links
	wg    sync.WaitGroup
	quit  chan struct{}
}

// Forward listens on listen and forwards every accepted stream to target.
func Forward(listen, target string) (*Forwarder, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("link forwarder: %w", err)
	}
	f := &Forwarder{ln: ln, target: target, quit: make(chan struct{})}
	f.wg.Add(1)
	go f.acceptLoop()
	return f, nil
}

// Addr is where peers dial.
func (f *Forwarder) Addr() string { return f.ln.Addr().String() }

// SetLinks replaces the links' faults.
func (f *Forwarder) SetLinks(l Links) {
	f.mu.Lock()
	f.links = l
	f.mu.Unlock()
}

// Links returns the faults in place.
func (f *Forwarder) Links() Links {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.links
}

func (f *Forwarder) fault(inbound bool, ip string) Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	src := f.links.Sources[ip]
	if src == "" {
		return Fault{}
	}
	if inbound {
		return f.links.In[src]
	}
	return f.links.Out[src]
}

func (f *Forwarder) acceptLoop() {
	defer f.wg.Done()
	for {
		conn, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			f.serve(conn)
		}()
	}
}

func (f *Forwarder) serve(client net.Conn) {
	defer client.Close()
	ip := ""
	if addr, ok := client.RemoteAddr().(*net.TCPAddr); ok {
		ip = addr.IP.String()
	}
	server, err := net.DialTimeout("tcp", f.target, 2*time.Second)
	if err != nil {
		// The node is down: the peer sees its stream end, as a refused
		// dial would end it.
		return
	}
	defer server.Close()
	done := make(chan struct{}, 2)
	quit := make(chan struct{})
	defer close(quit)
	go func() {
		Pump(server, client, func() Fault { return f.fault(true, ip) }, quit)
		done <- struct{}{}
	}()
	go func() {
		Pump(client, server, func() Fault { return f.fault(false, ip) }, quit)
		done <- struct{}{}
	}()
	select { // either side ending (or a reset) ends the stream
	case <-done:
	case <-f.quit:
	}
}

// Close stops accepting and ends every stream.
func (f *Forwarder) Close() error {
	err := f.ln.Close()
	close(f.quit)
	f.wg.Wait()
	return err
}
