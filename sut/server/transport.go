package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/faultline/faultline/sut/raft"
)

// Transport moves Raft messages to peers. Send must never block the drive
// loop: messages for a peer that is down or slow are dropped (Raft retries).
type Transport interface {
	Send(msgs []raft.Message)
	Close() error
}

const (
	streamPath = "/raft/stream"

	linkQueueSize   = 4096            // messages waiting for one peer; beyond this they are dropped
	linkBatchBytes  = 1 << 20         // one chunk write carries at most about this much
	linkDialTimeout = time.Second     //
	linkWriteLimit  = 2 * time.Second // a write stuck this long means the link is dead
	linkIdle        = time.Second     // keepalive period on a quiet link
	streamReadLimit = 5 * time.Second // receiver gives up on a link silent this long
	linkBackoffMin  = 50 * time.Millisecond
	linkBackoffMax  = time.Second
)

// httpTransport keeps one long-lived streaming HTTP request per directed link:
// this node dials each peer once and writes a chunked request body of framed
// messages to POST /raft/stream; the peer's answers travel the same way on
// the link it dials back. Many queued messages go out in one chunk.
type httpTransport struct {
	self    string
	localIP net.IP // bound as the source address of every dial, when set
	resolve func(id string) (string, bool)
	// advertise is the address peers can use for this node, sent with each
	// stream so a --join node can answer a leader it has no address for yet.
	advertise func() string
	log       *slog.Logger

	mu     sync.Mutex
	links  map[string]*peerLink
	closed bool
	stop   chan struct{}
	wg     sync.WaitGroup
}

func newHTTPTransport(self string, localIP net.IP, resolve func(string) (string, bool), advertise func() string, log *slog.Logger) *httpTransport {
	return &httpTransport{self: self, localIP: localIP, resolve: resolve, advertise: advertise, log: log,
		links: map[string]*peerLink{}, stop: make(chan struct{})}
}

// Send queues each message on its peer's link, dropping it when the queue is
// full.
func (t *httpTransport) Send(msgs []raft.Message) {
	for i := range msgs {
		l := t.link(msgs[i].To)
		if l == nil {
			return
		}
		select {
		case l.queue <- msgs[i]:
		default:
			l.dropped.Add(1)
		}
	}
}

func (t *httpTransport) link(id string) *peerLink {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	l, ok := t.links[id]
	if !ok {
		l = &peerLink{t: t, peer: id, queue: make(chan raft.Message, linkQueueSize)}
		t.links[id] = l
		t.wg.Add(1)
		go l.run()
	}
	return l
}

// Dropped counts messages dropped because a link was down or full.
func (t *httpTransport) Dropped() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	var n uint64
	for _, l := range t.links {
		n += l.dropped.Load()
	}
	return n
}

// Close stops every link.
func (t *httpTransport) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	close(t.stop)
	t.mu.Unlock()
	t.wg.Wait()
	return nil
}

// peerLink is the sending half of one directed link.
type peerLink struct {
	t       *httpTransport
	peer    string
	queue   chan raft.Message
	dropped atomic.Uint64
}

func (l *peerLink) run() {
	defer l.t.wg.Done()
	backoff := linkBackoffMin
	reported := false // an unreachable peer is logged once per outage
	for {
		select {
		case <-l.t.stop:
			return
		default:
		}
		started := time.Now()
		addr, err := l.connectAndStream()
		if errors.Is(err, errTransportClosed) {
			return
		}
		switch {
		case errors.Is(err, errLinkUp):
			l.t.log.Warn("peer link broken", "peer", l.peer, "addr", addr, "err", err)
			reported = false
		case !reported:
			l.t.log.Warn("peer unreachable", "peer", l.peer, "addr", addr, "err", err)
			reported = true
		}
		// A stream that failed at once (peer down, or a proxy in front of
		// a dead peer accepting and closing) is retried with a growing
		// pause; one that lived a while is redialled right away.
		if time.Since(started) < linkBackoffMax {
			l.drainFor(backoff)
			backoff = min(2*backoff, linkBackoffMax)
		} else {
			backoff = linkBackoffMin
		}
	}
}

var (
	errLinkUp        = errors.New("link was up")
	errStreamRefused = errors.New("peer refused the stream")
)

// connectAndStream dials the peer, opens the stream and writes messages
// until the link breaks. It logs the link coming up; the error says why it
// ended (wrapping errLinkUp if it had come up).
func (l *peerLink) connectAndStream() (string, error) {
	addr, ok := l.t.resolve(l.peer)
	if !ok {
		return "", fmt.Errorf("no address known for peer %s", l.peer)
	}
	conn, err := l.dial(addr)
	if err != nil {
		return addr, err
	}
	defer conn.Close()
	br, err := l.open(conn, addr)
	if err != nil {
		return addr, err
	}
	l.t.log.Info("peer link up", "peer", l.peer, "addr", addr)
	err = l.stream(conn, br)
	if errors.Is(err, errTransportClosed) {
		return addr, err
	}
	return addr, fmt.Errorf("%w, then: %v", errLinkUp, err)
}

// open writes the stream's request head and waits for the peer's 200: a
// connection accepted by something other than the peer (a proxy whose
// target is down) does not count as a link.
func (l *peerLink) open(conn net.Conn, addr string) (*bufio.Reader, error) {
	head := "POST " + streamPath + " HTTP/1.1\r\nHost: " + addr +
		"\r\nContent-Type: application/x-raft-stream\r\nTransfer-Encoding: chunked" +
		"\r\nX-Raft-From: " + l.t.self + "\r\nX-Raft-To: " + l.peer +
		"\r\nX-Raft-Addr: " + l.t.advertise() + "\r\n\r\n"
	deadline := time.Now().Add(linkWriteLimit)
	conn.SetDeadline(deadline)
	if _, err := io.WriteString(conn, head); err != nil {
		return nil, err
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return nil, fmt.Errorf("no answer to the stream request: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("%w: %s %s", errStreamRefused, resp.Status, strings.TrimSpace(string(body)))
	}
	conn.SetDeadline(time.Time{})
	return br, nil
}

var errTransportClosed = errors.New("transport closed")

func (l *peerLink) dial(addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: linkDialTimeout, KeepAlive: 5 * time.Second}
	if l.t.localIP != nil {
		// The process runtime tells nodes apart by source address.
		d.LocalAddr = &net.TCPAddr{IP: l.t.localIP}
	}
	ctx, cancel := context.WithTimeout(context.Background(), linkDialTimeout)
	defer cancel()
	return d.DialContext(ctx, "tcp", addr)
}

// drainFor discards queued messages for d (the link is down: Raft will
// resend what matters), returning early on Close.
func (l *peerLink) drainFor(d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case <-l.t.stop:
			return
		case <-timer.C:
			return
		case <-l.queue:
			l.dropped.Add(1)
		}
	}
}

// stream writes batches of messages as chunks until an error or Close.
func (l *peerLink) stream(conn net.Conn, br *bufio.Reader) error {
	// The peer sends nothing more until the stream ends; reading tells us
	// when it ended.
	peerGone := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, br)
		close(peerGone)
	}()
	w := bufio.NewWriterSize(conn, 64<<10)
	idle := time.NewTimer(linkIdle)
	defer idle.Stop()
	var frames []byte
	for {
		frames = frames[:0]
		select {
		case <-l.t.stop:
			_ = conn.SetWriteDeadline(time.Now().Add(linkWriteLimit))
			_, _ = w.WriteString("0\r\n\r\n")
			_ = w.Flush()
			return errTransportClosed
		case <-peerGone:
			return errors.New("peer closed the stream")
		case <-idle.C:
			frames = append(frames, keepaliveFrame...)
		case m := <-l.queue:
			frames = l.appendBatch(frames, m)
		}
		if err := conn.SetWriteDeadline(time.Now().Add(linkWriteLimit)); err != nil {
			return err
		}
		w.WriteString(strconv.FormatInt(int64(len(frames)), 16))
		w.WriteString("\r\n")
		w.Write(frames)
		w.WriteString("\r\n")
		if err := w.Flush(); err != nil {
			return err
		}
		idle.Reset(linkIdle)
	}
}

// appendBatch encodes first and every message already queued behind it, up
// to linkBatchBytes.
func (l *peerLink) appendBatch(frames []byte, first raft.Message) []byte {
	m := first
	for {
		var err error
		if frames, err = appendMessage(frames, &m); err != nil {
			l.t.log.Error("dropping unencodable message", "peer", l.peer, "err", err)
		}
		if len(frames) >= linkBatchBytes {
			return frames
		}
		select {
		case m = <-l.queue:
		default:
			return frames
		}
	}
}

// serveStream is the receiving half of a link: it decodes frames from the
// request body and hands each message to deliver until the stream ends, the
// sender goes silent, or deliver refuses (server stopping).
func serveStream(w http.ResponseWriter, r *http.Request, deliver func(raft.Message) bool, log *slog.Logger) {
	from := r.Header.Get("X-Raft-From")
	rc := http.NewResponseController(w)
	// Answer 200 at once (the sender waits for it to count the link as up)
	// and keep reading the body: without full duplex the HTTP/1 server
	// would try to drain the endless body before writing.
	if err := rc.EnableFullDuplex(); err != nil {
		writeError(w, http.StatusInternalServerError, "cannot stream: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/x-raft-stream")
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return
	}
	br := bufio.NewReaderSize(r.Body, 64<<10)
	for {
		_ = rc.SetReadDeadline(time.Now().Add(streamReadLimit))
		m, err := readMessage(br)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				log.Debug("inbound peer stream ended", "from", from, "err", err)
			}
			break
		}
		if !deliver(m) {
			break
		}
	}
}
