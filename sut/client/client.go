package client

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Client. Zero values take the defaults.
type Options struct {
	Timeout     time.Duration // per request attempt; default 1s
	ClientID    string        // X-Client-Id for writes; default random
	MaxAttempts int           // definite failures retried on other nodes; default = number of nodes, at least 3
	// AdminTimeout bounds one attempt of a membership change, which answers
	// only once the new configuration commits; default 10s.
	AdminTimeout time.Duration
	// RetryIndefinite is how many more times a key-value operation whose
	// attempt ended indefinitely (a timeout, a broken connection, a 504) is
	// sent again with the same X-Seq before the client gives up. The default
	// 0 never re-sends: the caller records the operation as info. With n > 0
	// the operation still takes effect at most once on a server that honours
	// sessions, and an operation that then fails is reported indefinite,
	// because an earlier attempt may yet apply. Re-sending is what exposes
	// servers that apply a retried write twice (the no-dedup bug).
	RetryIndefinite int
}

const (
	defaultTimeout      = time.Second
	defaultAdminTimeout = 10 * time.Second
	minAttempts         = 3
	// maxBodyBytes bounds an answer read into memory.
	maxBodyBytes = 64 << 20
)

// Client talks to one raftd cluster. It is safe for concurrent use; all
// operations share one client id, and each gets its own seq.
type Client struct {
	opt  Options
	http *http.Client
	rr   atomic.Uint64 // rotates the first node tried when no leader is known

	// seqMu guards the session counters: seqs are handed out and
	// registered as unanswered in one step, so that no X-Seq-Ack ever
	// passes a seq that is about to be sent.
	seqMu      sync.Mutex
	lastSeq    uint64
	unanswered map[uint64]struct{}

	mu     sync.Mutex
	addrs  map[string]string
	ids    []string // sorted keys of addrs
	leader string
	prefer string
}

// New returns a client for the nodes in addrs (node id -> host:port on
// 127.0.0.1).
func New(addrs map[string]string, opt Options) *Client {
	if opt.Timeout <= 0 {
		opt.Timeout = defaultTimeout
	}
	if opt.AdminTimeout <= 0 {
		opt.AdminTimeout = defaultAdminTimeout
	}
	if opt.ClientID == "" {
		opt.ClientID = randomID()
	}
	c := &Client{opt: opt, addrs: make(map[string]string), http: sharedHTTP, unanswered: make(map[uint64]struct{})}
	for id, a := range addrs {
		c.addrs[id] = a
	}
	c.sortIDs()
	return c
}

func randomID() string {
	var b [8]byte
	rand.Read(b[:])
	return "c-" + hex.EncodeToString(b[:])
}

// sharedHTTP is the one keep-alive transport of every Client in the
// process: workloads make a new Client per history process, and sharing
// keeps their connections pooled instead of piling up idle ones.
var sharedHTTP = newHTTPClient()

// newHTTPClient builds a keep-alive transport sized for many concurrent
// requests to a handful of nodes. It never follows redirects itself (the
// client resolves leaders by id), and dials loopback only.
func newHTTPClient() *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if err := CheckLoopback(addr); err != nil {
				return nil, err
			}
			return dialer.DialContext(ctx, network, addr)
		},
		MaxIdleConns:        512,
		MaxIdleConnsPerHost: 128,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// CheckLoopback refuses any address outside 127.0.0.0/8 and ::1: the
// checker reaches nodes only through ports published on the loopback.
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %v", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("address %q is not a loopback address; the client dials only 127.0.0.0/8", addr)
}

// ClientID is the X-Client-Id this client sends with writes.
func (c *Client) ClientID() string { return c.opt.ClientID }

// SetAddr adds node id or changes its address.
func (c *Client) SetAddr(id, addr string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.addrs[id] = addr
	c.sortIDs()
}

// RemoveAddr forgets node id; it is no longer tried.
func (c *Client) RemoveAddr(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.addrs, id)
	c.sortIDs()
	if c.leader == id {
		c.leader = ""
	}
	if c.prefer == id {
		c.prefer = ""
	}
}

// Nodes lists the node ids the client knows, sorted.
func (c *Client) Nodes() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.ids)
}

// Addr returns the address of node id.
func (c *Client) Addr(id string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.addrs[id]
	return a, ok
}

// Prefer makes node id the first one tried by every operation ("" returns to
// the default: the last known leader).
func (c *Client) Prefer(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.prefer = id
}

// Leader is the last node known to have answered as leader ("" if none).
func (c *Client) Leader() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.leader
}

// Close releases the idle connections of the transport all clients share
// (they reconnect when next used); a Client needs no other clean-up.
func (c *Client) Close() { c.http.CloseIdleConnections() }

func (c *Client) sortIDs() {
	c.ids = c.ids[:0]
	for id := range c.addrs {
		c.ids = append(c.ids, id)
	}
	slices.Sort(c.ids)
}

func (c *Client) setLeader(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.addrs[id]; ok {
		c.leader = id
	}
}

// forgetLeader drops id as the known leader after it said it is not one.
func (c *Client) forgetLeader(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.leader == id {
		c.leader = ""
	}
}

func (c *Client) maxAttempts() int {
	if c.opt.MaxAttempts > 0 {
		return c.opt.MaxAttempts
	}
	c.mu.Lock()
	n := len(c.addrs)
	c.mu.Unlock()
	return max(n, minAttempts)
}

// target is where one attempt goes.
type target struct{ id, addr string }

// pick chooses the next node to try: the preferred node, then the known
// leader, then the others in rotation, skipping those tried already during
// this operation (unless every node was).
func (c *Client) pick(tried map[string]bool) target {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range []string{c.prefer, c.leader} {
		if a, ok := c.addrs[id]; ok && !tried[id] {
			return target{id, a}
		}
	}
	if len(c.ids) == 0 {
		return target{}
	}
	start := int(c.rr.Add(1))
	for i := range c.ids {
		id := c.ids[(start+i)%len(c.ids)]
		if !tried[id] {
			return target{id, c.addrs[id]}
		}
	}
	id := c.ids[start%len(c.ids)]
	return target{id, c.addrs[id]}
}

// beginWrite hands out the next seq and records it as unanswered.
func (c *Client) beginWrite() uint64 {
	c.seqMu.Lock()
	defer c.seqMu.Unlock()
	c.lastSeq++
	c.unanswered[c.lastSeq] = struct{}{}
	return c.lastSeq
}

// endWrite records that the caller has seq's outcome: it is never sent again.
func (c *Client) endWrite(seq uint64) {
	c.seqMu.Lock()
	defer c.seqMu.Unlock()
	delete(c.unanswered, seq)
}

// ackSeq is the lowest unanswered seq: every lower one was answered.
func (c *Client) ackSeq() uint64 {
	c.seqMu.Lock()
	defer c.seqMu.Unlock()
	low := c.lastSeq + 1
	for q := range c.unanswered {
		low = min(low, q)
	}
	return low
}
