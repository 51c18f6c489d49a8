package serve

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/faultline/faultline/campaign"
)

// DefaultAddr is where `checker serve` listens unless told otherwise:
// loopback only, so nobody else on the network can launch campaigns.
const DefaultAddr = "127.0.0.1:8080"

// ServerOptions configure `checker serve`.
type ServerOptions struct {
	Store  string // the store of runs (created when missing)
	Addr   string // listen address; DefaultAddr when empty
	Launch bool   // queue campaigns (campaign.Run) from the form and the API
	// ReadOnly hides the launch form and refuses every request that would
	// change something (POST /api/campaigns, DELETE): browsing only.
	ReadOnly bool
	// Token, when set, is required of every request but GET /healthz
	// (Authorization: Bearer, or ?token= once in a browser). A server
	// reachable beyond loopback refuses to start without one.
	Token string
	// run replaces campaign.Run in tests of the queue.
	run runFunc
	Log *slog.Logger // nil: discard
}

// Server is the `checker serve` web service: the runs table, each run's
// report and files, tarballs, the launch form and queue, and the JSON API.
type Server struct {
	opt      ServerOptions
	store    string   // absolute, symlinks resolved
	root     *os.Root // every file access goes through it
	loopback bool     // bound to loopback: only loopback Host headers are served
	queue    *queue
	handler  http.Handler
	pages    *template.Template
	cache    summaryCache
	log      *slog.Logger
	metrics  *metrics
	// building is a one-slot semaphore: reports built on the fly (runs
	// without report.html) are built one at a time, since a long history
	// costs seconds of CPU.
	building chan struct{}

	mu   sync.Mutex
	http *http.Server
}

//go:embed assets/serve
var serveAssets embed.FS

// NewServer opens the store and builds the handler. It does not listen:
// call ListenAndServe, or mount Handler yourself.
func NewServer(opt ServerOptions) (*Server, error) {
	if opt.Store == "" {
		return nil, errors.New("--store: a store directory is required")
	}
	if opt.Addr == "" {
		opt.Addr = DefaultAddr
	}
	loopback, err := checkAddr(opt.Addr)
	if err != nil {
		return nil, err
	}
	if err := checkAccess(opt, loopback); err != nil {
		return nil, err
	}
	if opt.ReadOnly {
		opt.Launch = false
	}
	log := opt.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := os.MkdirAll(opt.Store, 0o755); err != nil {
		return nil, fmt.Errorf("--store: %w", err)
	}
	abs, err := filepath.Abs(opt.Store)
	if err != nil {
		return nil, fmt.Errorf("--store: %w", err)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("--store: %w", err)
	}
	pages, err := parsePages()
	if err != nil {
		root.Close()
		return nil, err
	}
	s := &Server{opt: opt, store: abs, root: root, loopback: loopback, pages: pages, log: log, building: make(chan struct{}, 1)}
	if !loopback {
		log.Warn("serving beyond loopback: requests need the access token", "addr", opt.Addr, "read_only", opt.ReadOnly)
	}
	s.metrics = newMetrics(s)
	if opt.Launch {
		run := opt.run
		if run == nil {
			run = campaign.Run
		}
		s.queue = newQueue(abs, run, log)
		s.queue.finished = s.metrics.observe
	}
	s.handler = s.routes()
	return s, nil
}

// checkAddr validates a listen address and says whether it is loopback only.
func checkAddr(addr string) (bool, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return false, fmt.Errorf("--addr: %q is not host:port: %v", addr, err)
	}
	if port == "" {
		return false, fmt.Errorf("--addr: %q has no port", addr)
	}
	if host == "localhost" {
		return true, nil
	}
	if host == "" {
		return false, nil
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false, fmt.Errorf("--addr: host %q must be an IP address or localhost", host)
	}
	return ip.IsLoopback(), nil
}

// Handler serves every page and API call.
func (s *Server) Handler() http.Handler { return s.handler }

// Store is the absolute path of the store served.
func (s *Server) Store() string { return s.store }

// ListenAndServe listens on the configured address and serves until
// Shutdown, when it returns http.ErrServerClosed.
func (s *Server) ListenAndServe() error {
	l, err := net.Listen("tcp", s.opt.Addr)
	if err != nil {
		return fmt.Errorf("--addr: %w", err)
	}
	s.log.Info("checker serve", "url", "http://"+l.Addr().String()+"/", "store", s.store)
	return s.Serve(l)
}

// Serve serves on l until Shutdown.
func (s *Server) Serve(l net.Listener) error {
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	s.http = srv
	s.mu.Unlock()
	return srv.Serve(l)
}

// Shutdown stops the running campaign (its context is cancelled, so it heals
// its faults and its run is left marked interrupted), drops queued ones,
// stops serving and closes the store.
func (s *Server) Shutdown(ctx context.Context) error {
	var errs []error
	if s.queue != nil {
		errs = append(errs, s.queue.shutdown(ctx))
	}
	s.mu.Lock()
	srv := s.http
	s.mu.Unlock()
	if srv != nil {
		errs = append(errs, srv.Shutdown(ctx))
	}
	errs = append(errs, s.root.Close())
	return errors.Join(errs...)
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handleRunsPage)
	mux.HandleFunc("GET /runs/{name}/{ts}", s.handleRunRedirect)
	mux.HandleFunc("GET /runs/{name}/{ts}/{path...}", s.handleRunPath)
	mux.HandleFunc("GET /files/{name}/{ts}/{path...}", s.handleBrowse)
	mux.HandleFunc("GET /download/{name}/{ts}", s.handleDownload)
	mux.HandleFunc("GET /campaigns", s.handleCampaignsPage)
	mux.HandleFunc("GET /campaigns/{id}", s.handleCampaignPage)
	mux.HandleFunc("GET /api/runs", s.handleAPIRuns)
	mux.HandleFunc("GET /api/runs/{name}/{ts}", s.handleAPIRun)
	mux.HandleFunc("GET /api/campaigns", s.handleAPICampaigns)
	mux.HandleFunc("GET /api/campaigns/{id}", s.handleAPICampaign)
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.Handle("GET /metrics", s.metrics.handler())
	// Read-only: the form is not served and every request that would
	// change something is refused with 403.
	if s.opt.ReadOnly {
		for _, route := range []string{"POST /launch", "POST /api/campaigns", "DELETE /api/campaigns/{id}", "POST /campaigns/{id}/cancel"} {
			mux.HandleFunc(route, s.handleReadOnly)
		}
	} else {
		mux.HandleFunc("GET /launch", s.handleLaunchForm)
		mux.HandleFunc("POST /launch", s.handleLaunchSubmit)
		mux.HandleFunc("POST /api/campaigns", s.handleAPILaunch)
		mux.HandleFunc("DELETE /api/campaigns/{id}", s.handleAPICancel)
		mux.HandleFunc("POST /campaigns/{id}/cancel", s.handleCancelForm)
	}
	mux.HandleFunc("/", s.handleNotFound)
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.httpError(w, r, http.StatusForbidden, "Origin", "cross-origin requests may not change anything here")
	}))
	return s.guardHost(s.requireToken(csrf.Handler(mux)))
}

// guardHost refuses requests whose Host is not loopback when the server is
// bound to loopback: a web page whose name was re-pointed at 127.0.0.1 (DNS
// rebinding) must not reach the API.
func (s *Server) guardHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.loopback && !loopbackHost(r.Host) {
			s.httpError(w, r, http.StatusForbidden, "Host", fmt.Sprintf("host %q is not served: this server answers on loopback names only", r.Host))
			return
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
