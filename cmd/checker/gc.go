package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/faultline/faultline/campaign"
	"github.com/faultline/faultline/store"
	"github.com/faultline/faultline/sut/runtime"
)

// gcOptions are the settings of one garbage collection.
type gcOptions struct {
	store string
	all   bool   // every faultline resource, live owners' included
	only  string // narrows the docker resources to one more label (tests)
}

func cmdGC(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o gcOptions
	fs := flag.NewFlagSet("gc", flag.ContinueOnError)
	fs.StringVar(&o.store, "store", campaign.DefaultStore, "store `directory` whose abandoned runs are marked")
	fs.BoolVar(&o.all, "all", false, "remove every faultline container, network and node image, live campaigns' included (asks first on a terminal)")
	printUsage := func(w io.Writer) {
		fmt.Fprintln(w, "Usage: checker gc [--all] [--store DIR]")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Removes the containers and networks (labelled faultline=1) of runs whose owner")
		fmt.Fprintln(w, "(the checker process that started them: host, pid, start time) is gone, unpausing")
		fmt.Fprintln(w, "first, and marks those runs abandoned in the store. Campaigns still running are")
		fmt.Fprintln(w, "left alone. --all removes everything, node images included. Prints what it did.")
		fmt.Fprintln(w, "It also unmounts powerfs mounts (--nemesis power) whose checker was killed.")
		fmt.Fprintln(w)
		printDefaults(w, fs)
	}
	err := parseFlagsOnly(fs, args)
	if err != nil {
		return flagError(err, "gc", printUsage, stdout, stderr)
	}
	if o.all && isTerminal(os.Stdin) && !confirm(os.Stdin, stdout,
		"Remove every faultline container, network and node image on this machine, including those of campaigns still running? [y/N] ") {
		fmt.Fprintln(stdout, "nothing removed")
		return 0
	}
	return collectGarbage(ctx, o, stdout, stderr)
}

// collectGarbage marks the store's abandoned runs and removes docker
// resources: those of gone owners, or all of them with o.all.
func collectGarbage(ctx context.Context, o gcOptions, stdout, stderr io.Writer) int {
	code := 0
	marked, err := markAbandoned(o.store)
	for _, m := range marked {
		fmt.Fprintf(stdout, "marked %s abandoned\n", m)
	}
	if err != nil {
		fmt.Fprintf(stderr, "checker gc: --store: %v\n", err)
		code = exitCannotGo
	}
	log := newLogger(ctx, stderr, slog.LevelInfo)
	var removed []string
	unowned := 0
	if o.all {
		removed, err = runtime.GC(ctx, log)
	} else {
		removed, unowned, err = runtime.GCOwned(ctx, log, store.LabelGone, o.only)
	}
	mounts, merr := runtime.RemoveLeftoverMounts()
	removed, err = append(removed, mounts...), errors.Join(err, merr)
	for _, r := range removed {
		fmt.Fprintf(stdout, "removed %s\n", r)
	}
	if unowned > 0 {
		fmt.Fprintf(stdout, "kept %d container(s)/network(s) with no owner label (made before owners were recorded); --all removes them\n", unowned)
	}
	if err != nil {
		fmt.Fprintf(stderr, "checker gc: %v\n", err)
		return exitCannotGo
	}
	if len(removed) == 0 && len(marked) == 0 {
		fmt.Fprintln(stdout, "nothing to remove")
	}
	return code
}

// markAbandoned marks every run of the store left running by an owner that
// is gone (a checker killed with SIGKILL, a machine restarted) as abandoned.
// A missing store has nothing to mark.
func markAbandoned(storeDir string) ([]string, error) {
	refs, err := store.List(os.DirFS(storeDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var marked []string
	var errs []error
	for _, ref := range refs {
		dir := filepath.Join(storeDir, filepath.FromSlash(ref.ID))
		m, err := store.ReadManifest(dir)
		if err != nil || m.ShownStatus() != store.StatusAbandoned {
			continue // unreadable runs are listed as incomplete, not ours to mend
		}
		why := fmt.Sprintf("abandoned: its checker (%s) is gone without marking the end", m.Owner)
		if err := store.MarkAbandoned(dir, why); err != nil {
			errs = append(errs, err)
			continue
		}
		marked = append(marked, dir)
	}
	return marked, errors.Join(errs...)
}

// confirm asks question and reports whether the answer is yes.
func confirm(in io.Reader, out io.Writer, question string) bool {
	fmt.Fprint(out, question)
	line, _ := bufio.NewReader(in).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}
