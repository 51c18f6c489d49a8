// Command raftd is the reference Raft key-value server that Faultline tests:
// `raftd --id n1 --listen 127.0.0.1:7001 --peers n1=...,n2=...,n3=... --data DIR`.
// `raftd bugs` lists the planted bugs; `raftd soak` kills nodes again and
// again and checks that acknowledged writes survive. Throughput beside etcd
// is `checker bench`'s (package bench).
//
// This package owns the command line (flags, subcommands, signals, exit
// codes) and the soak; the soak and the integration tests run their
// clusters on sut/runtime's process runtime. Everything a node does lives in sut/server; this package
// must not reach into it beyond its exported API.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/faultline/faultline/sut/server"
)

// Exit codes.
const (
	exitOK    = 0
	exitFatal = 1 // the node could not start or failed while running
	exitUsage = 2 // bad flags
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "bugs":
			printBugs(stdout)
			return exitOK
		case "soak":
			return runSoak(args[1:], stdout, stderr)
		}
	}
	opts, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, errHelp) {
			return exitOK
		}
		fmt.Fprintf(stderr, "raftd: %v\n", err)
		return exitUsage
	}
	return serve(opts, stderr)
}

// serve runs one node until a signal or a fatal error.
func serve(opts options, stderr io.Writer) int {
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: opts.logLevel}))
	cfg := opts.config
	cfg.Logger = logger
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		logger.Error("cannot listen", "flag", "--listen", "addr", cfg.Listen, "err", err)
		return exitFatal
	}
	srv, err := server.New(cfg)
	if err != nil {
		ln.Close()
		logger.Error("cannot start", "err", err)
		return exitFatal
	}
	handler := srv.Handler()
	if opts.pprof {
		mux := http.NewServeMux()
		mux.Handle("/", handler)
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		handler = mux
	}
	httpSrv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	srv.Start()
	serveErr := make(chan error, 1)
	go func() { serveErr <- httpSrv.Serve(ln) }()
	logger.Info("serving", "node", cfg.ID, "listen", ln.Addr().String(), "read_mode", server.ReadModeName(cfg.ReadMode),
		"bugs", cfg.Bugs.List(), "join", cfg.Join, "fault_injection", cfg.FaultInjection)

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	code := exitOK
	select {
	case sig := <-sigs:
		logger.Info("shutting down", "signal", sig.String())
	case err := <-srv.Failed():
		logger.Error("node failed", "err", err)
		code = exitFatal
	case err := <-serveErr:
		logger.Error("http server stopped", "err", err)
		code = exitFatal
	}
	// Stop accepting, let short requests finish, then stop the node (which
	// answers whatever still waits) and close the WAL. Peer streams never
	// finish on their own, hence the short grace period and Close.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	_ = httpSrv.Shutdown(ctx)
	cancel()
	if err := srv.Stop(); err != nil {
		logger.Error("stop", "err", err)
		code = exitFatal
	}
	httpSrv.Close()
	return code
}
