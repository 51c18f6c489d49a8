package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/faultline/faultline/sut/kv"
	"github.com/faultline/faultline/sut/raft"
	"github.com/faultline/faultline/sut/wal"
)

// Server is one raftd node. New opens its storage and builds the core; Start
// launches the drive loop, the applier, the ticker and the transport; the
// HTTP API is Handler, served by the caller on Config.Listen.
type Server struct {
	cfg       Config
	log       *slog.Logger
	clock     *Clock
	ticker    *ticker
	wal       *wal.WAL
	kv        *kv.Store
	rn        *raft.RawNode // owned by the drive loop goroutine
	transport Transport
	reg       *registry
	reader    reader
	app       applier // owned by the applier goroutine
	// applyHold is held by the applier while it applies a batch; tests
	// hold it to model a node whose state machine lags behind its log.
	applyHold sync.Mutex
	slow      slowFaults // POST /fault/slow: disk, apply and network delays

	inbound   chan raft.Message
	ops       chan func()        // closures run by the drive loop (proposals, reads, admin)
	applyQ    chan applyTask     // drive loop -> applier, in log order
	snapshots chan raft.Snapshot // applier -> drive loop: images to persist and compact

	stats     stats
	status    atomic.Pointer[nodeStatus]
	members   atomic.Pointer[raft.Membership] // latest configuration in the log
	learned   sync.Map                        // id -> address announced by inbound streams
	nextRead  atomic.Uint64
	startOnce sync.Once
	stopOnce  sync.Once
	stop      chan struct{}
	wg        sync.WaitGroup
	failed    chan error // the first fatal error (e.g. the disk failed)
}

// Option adjusts a Server beyond its Config.
type Option func(*Server)

// WithTransport replaces the HTTP peer transport (in-process test clusters).
func WithTransport(t Transport) Option { return func(s *Server) { s.transport = t } }

// WithClock makes the server read c instead of a fresh real-time clock.
func WithClock(c *Clock) Option { return func(s *Server) { s.clock = c } }

// New opens the node's data directory and recovers its state. Nothing runs
// until Start.
func New(cfg Config, opts ...Option) (*Server, error) {
	cfg.applyDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:       cfg,
		log:       cfg.Logger.With("node", cfg.ID),
		inbound:   make(chan raft.Message, 4096),
		ops:       make(chan func(), 4096),
		applyQ:    make(chan applyTask, 256),
		snapshots: make(chan raft.Snapshot, 1),
		stop:      make(chan struct{}),
		failed:    make(chan error, 1),
	}
	for _, o := range opts {
		o(s)
	}
	if s.clock == nil {
		s.clock = NewClock()
	}
	s.ticker = newTicker(s.clock, cfg.Tick, 2*cfg.ElectionTicks)

	w, st, err := wal.Open(cfg.DataDir, wal.Options{NodeID: cfg.ID, Cluster: cfg.Cluster, NoSync: cfg.UnsafeNoSync, Logger: s.log})
	if err != nil {
		return nil, fmt.Errorf("--data %s: %w", cfg.DataDir, err)
	}
	s.wal = w
	s.kv = kv.New(cfg.Bugs)
	var applied uint64
	conf := cfg.bootstrapMembership()
	if st.Snapshot != nil {
		if err := s.kv.Restore(st.Snapshot.Data); err != nil {
			w.Close()
			return nil, fmt.Errorf("--data %s: snapshot at index %d: %w", cfg.DataDir, st.Snapshot.Meta.Index, err)
		}
		applied = st.Snapshot.Meta.Index
		conf = st.Snapshot.Meta.Membership
	}
	s.log.Info("recovered from disk", "term", st.HardState.Term, "vote", st.HardState.Vote,
		"commit", st.HardState.Commit, "snapshot_index", applied, "entries", len(st.Entries),
		"last_index", lastIndex(st))
	s.rn, err = raft.NewRawNode(raft.Config{
		ID:            cfg.ID,
		ElectionTick:  cfg.ElectionTicks,
		HeartbeatTick: cfg.HeartbeatTicks,
		Seed:          cfg.Seed,
		ReadMode:      cfg.ReadMode,
		MaxClockDrift: cfg.MaxClockDrift,
		Bugs:          cfg.Bugs,
		HardState:     st.HardState,
		Snapshot:      st.Snapshot,
		Entries:       st.Entries,
		Bootstrap:     cfg.bootstrapMembership(),
	})
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("start raft core: %w", err)
	}
	s.reg = newRegistry(applied)
	s.reader = newReader(s, cfg.ReadMode)
	s.newApplier(applied, conf, st)
	if s.transport == nil {
		s.transport = newHTTPTransport(cfg.ID, cfg.listenIP(), s.peerAddr, s.advertisedAddr, s.log)
	}
	m := s.rn.Membership()
	s.members.Store(&m)
	s.publishStatus()
	return s, nil
}

func lastIndex(st wal.State) uint64 {
	if n := len(st.Entries); n > 0 {
		return st.Entries[n-1].Index
	}
	if st.Snapshot != nil {
		return st.Snapshot.Meta.Index
	}
	return 0
}

// Start launches the node's goroutines.
func (s *Server) Start() {
	s.startOnce.Do(func() {
		s.wg.Add(3)
		go func() { defer s.wg.Done(); s.ticker.run(s.stop) }()
		go func() { defer s.wg.Done(); s.driveLoop() }()
		go func() { defer s.wg.Done(); s.applyLoop() }()
	})
}

// Failed delivers the first fatal error (a failed disk write); the node has
// stopped making progress and the process should exit.
func (s *Server) Failed() <-chan error { return s.failed }

func (s *Server) fail(err error) {
	s.log.Error("fatal", "err", err)
	select {
	case s.failed <- err:
	default:
	}
}

// Stop shuts the node down: pending requests are answered, goroutines end,
// the transport and the WAL are closed. The caller stops its HTTP server
// first so no new request arrives.
func (s *Server) Stop() error {
	var err error
	s.stopOnce.Do(func() {
		close(s.stop)
		s.wg.Wait()
		s.reg.stop()
		err = errors.Join(s.transport.Close(), s.wal.Close())
		s.log.Info("stopped")
	})
	return err
}

// Receive hands a message from a peer to the drive loop. It blocks while the
// loop is busy (back-pressure on the peer's stream) and returns false once
// the server stops.
func (s *Server) Receive(m raft.Message) bool {
	select {
	case s.inbound <- m:
		return true
	case <-s.stop:
		return false
	}
}

// Handler serves the client, admin, fault and peer endpoints.
func (s *Server) Handler() http.Handler { return s.routes() }

// Clock is the node's skewable clock.
func (s *Server) Clock() *Clock { return s.clock }

// peerAddr is where this node dials id: the latest configuration's address,
// else --peers, else what id announced when it dialed us.
func (s *Server) peerAddr(id string) (string, bool) {
	if m := s.members.Load(); m != nil {
		if a, ok := m.Addrs[id]; ok && a != "" {
			return a, true
		}
	}
	if a, ok := s.cfg.Peers[id]; ok {
		return a, true
	}
	if a, ok := s.learned.Load(id); ok {
		return a.(string), true
	}
	return "", false
}

// advertisedAddr is the address peers know this node by.
func (s *Server) advertisedAddr() string {
	if a, ok := s.peerAddr(s.cfg.ID); ok {
		return a
	}
	return s.cfg.Listen
}
