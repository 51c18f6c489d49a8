package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/faultline/faultline/campaign/sweep"
)

// sweepFlags binds every `checker sweep` flag to o.
func sweepFlags(o *sweep.Options) *flag.FlagSet {
	fs := flag.NewFlagSet("sweep", flag.ContinueOnError)
	fs.IntVar(&o.Seeds, "seeds", o.Seeds, "campaigns per bug (seeds --seed, --seed+1, ...)")
	fs.Int64Var(&o.Seed, "seed", o.Seed, "first seed; the i-th campaign of every bug and the i-th control use seed+i")
	fs.DurationVar(&o.Duration, "duration", o.Duration, "how long each campaign's workload and nemesis run")
	fs.StringVar(&o.Runtime, "runtime", o.Runtime, "where nodes run: `auto` (docker when an engine answers, else process), docker or process")
	fs.Var(&stringList{list: &o.Bugs}, "bugs", "planted bugs to sweep: `all`, or a comma list of names (see `checker bugs`)")
	fs.StringVar(&o.Store, "store", o.Store, "store `directory`: runs go in the usual layout, the matrix in store/sweeps/<timestamp>/")
	fs.IntVar(&o.Nodes, "nodes", o.Nodes, "number of nodes of every campaign")
	fs.IntVar(&o.Controls, "controls", o.Controls, "control campaigns (no bug, all faults); 0 = as many as --seeds, -1 = none")
	fs.IntVar(&o.Concurrency, "concurrency", o.Concurrency, "client workers of every campaign")
	fs.IntVar(&o.Keys, "keys", o.Keys, "keys of every campaign, unless a bug's exposure sets its own")
	fs.DurationVar(&o.Interval, "interval", o.Interval, "fault hold and quiet time of every campaign, unless a bug's exposure sets its own")
	fs.StringVar(&o.System, "system", o.System, "system every campaign runs against: `raftd`, etcd or http (as `checker run --system`); planted bugs exist only in raftd, so another system runs the controls only")
	fs.StringVar(&o.SystemBinary, "system-binary", o.SystemBinary, "node `binary` instead of a build (as `checker run --system-binary`)")
	fs.StringVar(&o.SystemImage, "system-image", o.SystemImage, "node container `image` (as `checker run --system-image`)")
	fs.StringVar(&o.SystemArgs, "system-args", o.SystemArgs, "node command-line `template` of --system http (as `checker run --system-args`)")
	fs.StringVar(&o.SystemCapabilities, "system-capabilities", o.SystemCapabilities, "optional endpoints --system http implements, a comma `list` (as `checker run --system-capabilities`)")
	fs.Func("shard", "run only slice `i/N` of the campaigns (deterministic; shards 1/N..N/N together are the whole sweep; put them together with `checker merge`)", func(v string) (err error) {
		o.Shard, err = sweep.ParseShard(v)
		return err
	})
	return fs
}

func sweepUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: checker sweep [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Proves the checker: for every selected planted bug, --seeds campaigns under the fault")
	fmt.Fprintln(w, "mix that exposes it (see `checker bugs`), plus control campaigns with no bug under all")
	fmt.Fprintln(w, "faults. Prints the detection matrix and writes it to store/sweeps/<timestamp>/")
	fmt.Fprintln(w, "(sweep.json, index.html linking every run's report; store/sweeps/latest).")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Exit: 0 every control valid and every safety bug detected in at least one seed; 1 a")
	fmt.Fprintln(w, "control was not valid (a false positive; an unknown verdict counts as not valid), a")
	fmt.Fprintln(w, "safety bug went undetected in every seed (unknown counts as not detected), or the")
	fmt.Fprintln(w, "sweep was interrupted; 3 bad flags or the sweep could not start. Liveness-only bugs")
	fmt.Fprintf(w, "are judged by availability (detected when the run stays linearizable and its ok share is\n")
	fmt.Fprintf(w, "at least %.0f points below the same campaign and seed without the bug, a baseline run that\n", 100*sweep.LivenessDrop)
	fmt.Fprintln(w, "must stay valid like a control); one never detected is a warning, not a failure.")
	fmt.Fprintln(w)
	o := sweep.DefaultOptions()
	printDefaults(w, sweepFlags(&o))
}

func cmdSweep(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o := sweep.DefaultOptions()
	err := parseFlagsOnly(sweepFlags(&o), args)
	if err == nil {
		err = o.Validate()
	}
	if err != nil {
		return flagError(err, "sweep", sweepUsage, stdout, stderr)
	}
	o.Log = newLogger(ctx, stderr, slog.LevelWarn)
	plan, _ := o.Plan() // validated above
	if o.ControlsOnly() {
		fmt.Fprintf(stderr, "sweep: system %s has no planted bugs (they exist only in raftd): running its controls only\n", o.System)
	}
	fmt.Fprintf(stderr, "sweep: %d campaigns of %s each (about %s with start-up and checking)\n",
		len(plan), o.Duration, estimate(len(plan), o.Duration).Round(time.Minute))

	s, err := sweep.Run(ctx, o, sweepProgress{w: stderr})
	if err != nil {
		fmt.Fprintf(stderr, "checker sweep: %v\n", err)
		if s == nil {
			return exitCannotGo
		}
	}
	fmt.Fprintln(stdout)
	if err := sweep.WriteTable(stdout, s.Matrix); err != nil {
		fmt.Fprintf(stderr, "checker sweep: %v\n", err)
	}
	fmt.Fprintf(stdout, "sweep page: %s\n", filepath.Join(s.Dir, sweep.PageFile))
	fmt.Fprintf(stdout, "junit: %s\n", filepath.Join(s.Dir, sweep.JUnitFile))
	writeStoreIndex(o.Store, stderr)
	return s.Matrix.ExitCode()
}

// estimate guesses a sweep's wall time: each campaign adds about 15 s of
// cluster start-up, healing, final reads and checking to its duration.
func estimate(campaigns int, d time.Duration) time.Duration {
	return time.Duration(campaigns) * (d + 15*time.Second)
}

// sweepProgress prints one line per campaign to stderr.
type sweepProgress struct{ w io.Writer }

func (p sweepProgress) Started(n, of int, r sweep.PlannedRun) {
	what := "control (no bug)"
	switch r.Role {
	case sweep.RoleBug:
		what = "bug " + r.Bug
	case sweep.RoleBaseline:
		what = "baseline of " + r.Bug + " (no bug)"
	}
	fmt.Fprintf(p.w, "[%d/%d] %s, seed %d: %s workload, nemesis %s ...\n", n, of, what, r.Options.Seed, r.Options.Workload, r.Options.Nemesis)
}

func (p sweepProgress) Finished(n, of int, r sweep.RunResult) {
	fmt.Fprintf(p.w, "[%d/%d] %s (%s, %s)\n", n, of, r.Why, r.RunDir, r.Elapsed.Round(time.Second))
}
