// Command checker is Faultline's command line: `checker run` runs a fault
// campaign against a raftd cluster and prints its verdict, `checker check`
// re-checks any history in the docs/history.md contract, `checker bugs` lists the
// planted bugs, `checker gc` removes leftover containers and networks,
// `checker serve` browses the store of runs, and `checker sweep` runs every
// planted bug's exposure plus no-bug controls and prints the detection matrix.
//
// It owns flags, usage, exit codes and the terminal display only; campaigns
// belong to package campaign, verdicts to check, reports to report, the web
// service to serve, the files of the store to store.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes (docs/exit-codes.md): 0 valid, 1 invalid, 2 unknown, 3 could not run.
const (
	exitValid    = 0
	exitInvalid  = 1
	exitUnknown  = 2
	exitCannotGo = 3
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"run", "run a fault campaign against a raftd cluster and check it", cmdRun},
		{"check", "re-check a recorded history (a run directory or a history.jsonl)", cmdCheck},
		{"bugs", "list raftd's planted bugs and the faults that expose them", cmdBugs},
		{"gc", "remove leftover faultline containers and networks (by label)", cmdGC},
		{"serve", "browse the store of runs and launch campaigns in a web UI", cmdServe},
		{"export", "write a run's history for Jepsen (history.edn) or Porcupine (JSON)", cmdExport},
		{"sweep", "run every planted bug's exposure and no-bug controls; print the detection matrix", cmdSweep},
		{"version", "print the checker's version, commit, Go version and platform", cmdVersion},
		{"completion", "print a bash, zsh or fish completion script", cmdCompletion},
		{"summary", "summarize a store or a run: verdicts, anomalies, reports, reproduce lines (text, Markdown, JSON)", cmdSummary},
		{"merge", "merge the shard stores of a sweep into one store, matrix and junit.xml", cmdMerge},
		{"gen-history", "write a generated linearizable history (the benchmarks' inputs)", cmdGenHistory},
		{"bench", "benchmark systems side by side (raftd, etcd, http): ops/s, p50, p99, server CPU per operation", cmdBench},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		// A signal's cause matches errors.Is(context.Canceled) too: only
		// the plain value means stop() at exit.
		if context.Cause(ctx) == context.Canceled {
			return
		}
		// Give the default behaviour back: a second Ctrl-C abandons the
		// healing, for when it hangs.
		stop()
		fmt.Fprintf(os.Stderr, "\n%v: healing faults and checking what was recorded (again to abandon; then run `checker gc`)\n", context.Cause(ctx))
	}()
	code := dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// dispatch runs the subcommand named by args[0] and returns the exit code.
func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	ctx, args, err := takeGlobalFlags(ctx, args)
	if err != nil {
		fmt.Fprintf(stderr, "checker: %v\n", err)
		return exitCannotGo
	}
	if len(args) == 0 {
		usage(stderr)
		return exitCannotGo
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			if c, ok := lookup(args[1]); ok {
				return c.run(ctx, []string{"-h"}, stdout, stdout)
			}
			fmt.Fprintf(stderr, "checker help: unknown command %q\n", args[1])
			usage(stderr)
			return exitCannotGo
		}
		usage(stdout)
		return 0
	}
	c, ok := lookup(name)
	if !ok {
		fmt.Fprintf(stderr, "checker: unknown command %q\n", name)
		usage(stderr)
		return exitCannotGo
	}
	return c.run(ctx, args[1:], stdout, stderr)
}

func lookup(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Faultline checks whether a Raft key-value store stays linearizable under faults.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: checker <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "`checker <command> -h` or `checker help <command>` shows a command's flags.")
	fmt.Fprintln(w, "Every command takes --log-format text|json (log lines on stderr; default text).")
	fmt.Fprintln(w, "Exit codes of run and check: 0 valid, 1 invalid, 2 unknown, 3 could not run.")
}
