package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/faultline/faultline/campaign"
	"github.com/faultline/faultline/serve"
)

// serveShutdownBound leaves a running campaign time to heal, read, close
// and check after Ctrl-C.
const serveShutdownBound = 5 * time.Minute

func serveUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: checker serve [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Serves the store of runs: a runs table, each run's report and files, and a form")
	fmt.Fprintln(w, "that queues campaigns (one at a time). Ctrl-C stops a running campaign cleanly.")
	fmt.Fprintln(w)
	var o serveOptions
	printDefaults(w, serveFlags(&o))
}

// serveOptions are `checker serve`'s flags.
type serveOptions struct {
	store, addr, token string
	readOnly           bool
}

func serveFlags(o *serveOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.StringVar(&o.store, "store", campaign.DefaultStore, "store `directory` of runs")
	fs.StringVar(&o.addr, "addr", serve.DefaultAddr, "listen `host:port` (loopback by default; any other address needs --token)")
	fs.StringVar(&o.token, "token", "", "access token every request must carry (Authorization: Bearer, or ?token= once in a browser); default $"+serve.TokenEnv+"; required beyond loopback")
	fs.BoolVar(&o.readOnly, "read-only", false, "browse only: no launch form, the API's POST and DELETE refused")
	return fs
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o serveOptions
	err := parseFlagsOnly(serveFlags(&o), args)
	if err != nil {
		return flagError(err, "serve", serveUsage, stdout, stderr)
	}
	log := newLogger(ctx, stderr, slog.LevelInfo)
	if o.token == "" {
		o.token = os.Getenv(serve.TokenEnv)
	}
	srv, err := serve.NewServer(serve.ServerOptions{
		Store:    o.store,
		Addr:     o.addr,
		Launch:   true,
		ReadOnly: o.readOnly,
		Token:    o.token,
		Log:      log,
	})
	if err != nil {
		fmt.Fprintf(stderr, "checker serve: %v\n", err)
		return exitCannotGo
	}
	served := make(chan error, 1)
	go func() { served <- srv.ListenAndServe() }()
	select {
	case err := <-served:
		fmt.Fprintf(stderr, "checker serve: %v\n", err)
		return exitCannotGo
	case <-ctx.Done():
	}
	log.Info("shutting down; a running campaign heals its faults first")
	sctx, cancel := context.WithTimeout(context.Background(), serveShutdownBound)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		fmt.Fprintf(stderr, "checker serve: shutdown: %v\n", err)
		return exitCannotGo
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "checker serve: %v\n", err)
		return exitCannotGo
	}
	return 0
}
