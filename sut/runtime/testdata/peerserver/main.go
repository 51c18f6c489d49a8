// Command peerserver is a stand-in system under test for the runtime tests.
// Like raftd it serves clients and peers on one address, sends its messages
// to each peer on one long-lived outgoing stream per directed link (bound
// to its listen IP when that is specific), and answers GET /admin/status.
// The status says how long ago each peer was last heard from, so a test can
// see exactly which directed links a partition cut. It keeps a boot counter
// in its data directory to show that data survives a restart.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const heartbeatEvery = 50 * time.Millisecond

type server struct {
	id    string
	boots int
	join  bool

	mu    sync.Mutex
	heard map[string]time.Time
}

func main() {
	id := flag.String("id", "", "node id")
	listen := flag.String("listen", "", "address for clients and peers")
	peers := flag.String("peers", "", "id=addr,...")
	data := flag.String("data", "", "data directory")
	join := flag.Bool("join", false, "start as a joining node")
	flag.String("cluster", "", "cluster name")
	flag.Parse()
	if *id == "" || *listen == "" || *data == "" {
		log.Fatal("--id, --listen and --data are required")
	}
	boots, err := countBoot(*data)
	if err != nil {
		log.Fatal(err)
	}
	s := &server{id: *id, boots: boots, join: *join, heard: map[string]time.Time{}}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	var local net.Addr
	if host, _, _ := net.SplitHostPort(*listen); host != "" {
		if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
			local = &net.TCPAddr{IP: ip}
		}
	}
	for _, part := range strings.Split(*peers, ",") {
		pid, addr, ok := strings.Cut(part, "=")
		if ok && pid != *id {
			go s.sendLoop(pid, addr, local)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /admin/status", s.status)
	mux.HandleFunc("GET /peer", s.receive)
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM)
		<-sig
		log.Printf("%s: SIGTERM, exiting", *id)
		os.Exit(0)
	}()
	log.Printf("%s: boot %d serving on %s", *id, boots, *listen)
	log.Fatal(http.Serve(ln, mux))
}

// countBoot increments and returns the boot counter kept in dir.
func countBoot(dir string) (int, error) {
	path := filepath.Join(dir, "boots")
	n := 0
	if b, err := os.ReadFile(path); err == nil {
		n, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	n++
	return n, os.WriteFile(path, []byte(strconv.Itoa(n)), 0o644)
}

func (s *server) status(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	ages := map[string]int64{}
	for p, t := range s.heard {
		ages[p] = time.Since(t).Milliseconds()
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": s.id, "pid": os.Getpid(), "boots": s.boots, "join": s.join, "heard_ms": ages,
	})
}

// receive takes over a peer's stream and records every heartbeat on it.
func (s *server) receive(w http.ResponseWriter, r *http.Request) {
	from := r.Header.Get("X-Peer-From")
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Time{})
	for {
		if _, err := buf.ReadString('\n'); err != nil {
			return
		}
		s.mu.Lock()
		s.heard[from] = time.Now()
		s.mu.Unlock()
	}
}

// sendLoop keeps one outgoing stream to a peer and sends heartbeats on it,
// redialing whenever it breaks.
func (s *server) sendLoop(peer, addr string, local net.Addr) {
	dialer := net.Dialer{Timeout: time.Second, LocalAddr: local}
	for {
		conn, err := dialer.Dial("tcp", addr)
		if err == nil {
			s.stream(conn, peer)
			conn.Close()
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *server) stream(conn net.Conn, peer string) {
	w := bufio.NewWriter(conn)
	fmt.Fprintf(w, "GET /peer HTTP/1.1\r\nHost: %s\r\nX-Peer-From: %s\r\n\r\n", peer, s.id)
	for {
		_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
		if _, err := w.WriteString("hb\n"); err != nil {
			return
		}
		if err := w.Flush(); err != nil {
			return
		}
		time.Sleep(heartbeatEvery)
	}
}
