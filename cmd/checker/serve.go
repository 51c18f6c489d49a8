package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/faultline/faultline/campaign"
	"github.com/faultline/faultline/reports"
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
	var store, addr string
	printDefaults(w, serveFlags(&store, &addr))
}

func serveFlags(store, addr *string) *flag.FlagSet {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.StringVar(store, "store", campaign.DefaultStore, "store `directory` of runs")
	fs.StringVar(addr, "addr", reports.DefaultAddr, "listen `host:port` (loopback by default: launching runs campaigns)")
	return fs
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var store, addr string
	rest, err := parseFlags(serveFlags(&store, &addr), args)
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("unexpected argument %q", rest[0])
	}
	if err != nil {
		return flagError(err, "serve", serveUsage, stdout, stderr)
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	srv, err := reports.NewServer(reports.ServerOptions{
		Store:  store,
		Addr:   addr,
		Launch: campaignLauncher(store, log),
		Log:    log,
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

// campaignLauncher runs a queued request as `checker run` would: the
// request becomes run flags, parsed by the command's own flag set, so the
// web form and the command line cannot drift apart.
func campaignLauncher(store string, log *slog.Logger) reports.Launcher {
	return reports.LauncherFunc(func(ctx context.Context, req reports.LaunchRequest) (string, error) {
		o, err := parseRunOptions(append(req.Args(), "--store", store))
		if err != nil {
			return "", err
		}
		o.Log = log.With("launched", o.CampaignName())
		var progress campaign.Progress = campaign.NoProgress{}
		if req.Progress != nil {
			progress = launchProgress(req.Progress)
		}
		out, err := campaign.Run(ctx, o, progress)
		runDir := ""
		if out != nil {
			runDir = out.RunDir
		}
		return runDir, err
	})
}

// launchProgress forwards campaign snapshots to the server's queue.
type launchProgress func(reports.LaunchProgress)

func (f launchProgress) Update(s campaign.Snapshot) {
	f(reports.LaunchProgress{
		RunDir: s.RunDir, Phase: s.Phase, Elapsed: s.Elapsed, Total: s.Total,
		Ok: s.Ok, Fail: s.Fail, Info: s.Info, Fault: s.Fault, Leader: s.Leader,
	})
}
