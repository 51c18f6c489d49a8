package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/faultline/faultline/campaign"
	"github.com/faultline/faultline/check"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/report"
	"github.com/faultline/faultline/store"
)

func checkUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: checker check [flags] RUN_DIR|history.jsonl|FILE --from jepsen|porcupine")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Re-checks a history in the docs/history.md contract, including one written by another tool,")
	fmt.Fprintln(w, "and prints the verdict and its anomalies. Given a run directory it also rewrites")
	fmt.Fprintln(w, "results.json, keys/ and the report there. Exit: 0 valid, 1 invalid, 2 unknown,")
	fmt.Fprintln(w, "3 the history could not be read.")
	fmt.Fprintln(w)
	var wl string
	var timeout time.Duration
	var mem check.ByteSize
	printDefaults(w, checkFlags(&wl, &timeout, &mem, &checkExtras{}))
}

func checkFlags(workload *string, timeout *time.Duration, memory *check.ByteSize, imp *checkExtras) *flag.FlagSet {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	imp.register(fs)
	fs.StringVar(workload, "workload", "", "model: `register`, set or append (default: the run's workload, else inferred from the operations)")
	fs.DurationVar(timeout, "check-timeout", campaign.DefaultCheckTimeout, "time limit; beyond it the verdict is unknown")
	fs.Var(memory, "check-memory", "memory `budget` of the search (512MiB, 2GiB, ...); a key that would exceed it is unknown (default half the machine's memory, "+check.FormatBytes(check.DefaultMemoryBudget())+" here)")
	return fs
}

func cmdCheck(_ context.Context, args []string, stdout, stderr io.Writer) int {
	var workload string
	var timeout time.Duration
	var imp checkExtras
	var memory check.ByteSize
	rest, err := parseFlags(checkFlags(&workload, &timeout, &memory, &imp), args)
	if err == nil {
		err = imp.validate()
	}
	if err == nil {
		switch {
		case len(rest) == 0:
			err = fmt.Errorf("missing RUN_DIR or history.jsonl")
		case len(rest) > 1:
			err = fmt.Errorf("one RUN_DIR or history file, got %d arguments", len(rest))
		}
	}
	if err == nil {
		switch workload {
		case "", "register", "set", "append":
		default:
			err = fmt.Errorf("--workload must be register, set or append, got %q", workload)
		}
	}
	if err == nil && timeout <= 0 {
		err = fmt.Errorf("--check-timeout must be positive, got %s", timeout)
	}
	if err != nil {
		return flagError(err, "check", checkUsage, stdout, stderr)
	}

	path := rest[0]
	info, err := os.Stat(path)
	if err != nil {
		fmt.Fprintf(stderr, "checker check: %v\n", err)
		return exitCannotGo
	}
	opt := check.Options{Workload: workload, Timeout: timeout, MemoryBudget: int64(memory)}
	if info.IsDir() && imp.from == "" {
		if imp.reportDir != "" {
			return flagError(fmt.Errorf("--report is for a bare history file; a run directory's report is rewritten in place"), "check", checkUsage, stdout, stderr)
		}
		return checkRunDir(path, opt, &imp, stdout, stderr)
	}
	events, err := imp.readHistory(path)
	if err != nil {
		fmt.Fprintf(stderr, "checker check: %v\n", err)
		return exitCannotGo
	}
	res, err := check.Check(events, opt)
	if err != nil {
		fmt.Fprintf(stderr, "checker check: %s: %v\n", path, err)
		return exitCannotGo
	}
	w := imp.textOut(stdout, stderr)
	printVerdict(w, res, 20)
	warnings := printLint(w, events, 20)
	reportPath := ""
	if imp.reportDir != "" {
		if err := writeBareReport(imp.reportDir, events, res, opt); err != nil {
			fmt.Fprintf(stderr, "checker check: --report: %v\n", err)
			return exitCannotGo
		}
		reportPath = filepath.Join(imp.reportDir, store.ReportFile)
		fmt.Fprintf(w, "report: %s\n", reportPath)
	}
	return imp.finish(stdout, stderr, res, warnings, reportPath)
}

// rewriteRunResults replaces results.json, keys/ and the report of a run
// directory with those of a fresh check.
func rewriteRunResults(runDir string, events []history.Event, res *check.Result, opt check.Options) error {
	if err := campaign.WriteCheck(runDir, events, res, opt); err != nil {
		return err
	}
	return report.WriteRun(runDir)
}

// checkRunDir re-checks a run directory as its campaign did
// (campaign.CheckRun) and rewrites its report.
func checkRunDir(runDir string, opt check.Options, extras *checkExtras, stdout, stderr io.Writer) int {
	res, events, err := campaign.CheckRun(runDir, opt, false)
	if res == nil {
		fmt.Fprintf(stderr, "checker check: %v\n", err)
		return exitCannotGo
	}
	w := extras.textOut(stdout, stderr)
	printVerdict(w, res, 20)
	warnings := printLint(w, events, 20)
	if err == nil {
		err = report.WriteRun(runDir)
	}
	if err != nil {
		fmt.Fprintf(stderr, "checker check: %v\n", err)
		return exitCannotGo
	}
	fmt.Fprintf(w, "results: %s\n", filepath.Join(runDir, store.ResultsFile))
	return extras.finish(stdout, stderr, res, warnings, filepath.Join(runDir, store.ReportFile))
}

// printVerdict prints the verdict, the anomaly counts and up to limit
// anomalies in plain language.
func printVerdict(w io.Writer, res *check.Result, limit int) {
	fmt.Fprintf(w, "verdict: %s", res.Valid)
	if res.Workload != "" {
		fmt.Fprintf(w, " (%s workload, %d operations over %d keys)", res.Workload, res.Stats.Ops, res.Stats.Keys)
	}
	fmt.Fprintln(w)
	if res.Reason != "" {
		fmt.Fprintf(w, "reason: %s\n", res.Reason)
	}
	if len(res.Counts) == 0 && len(res.Anomalies) == 0 {
		fmt.Fprintln(w, "anomalies: none")
		return
	}
	counts := res.Counts
	if len(counts) == 0 {
		counts = map[string]int{}
		for _, a := range res.Anomalies {
			counts[a.Kind]++
		}
	}
	fmt.Fprint(w, "anomalies:")
	for i, k := range anomalyOrder(counts) {
		if i > 0 {
			fmt.Fprint(w, ",")
		}
		fmt.Fprintf(w, " %s %d", k, counts[k])
	}
	fmt.Fprintln(w)
	for i, a := range res.Anomalies {
		if i == limit {
			fmt.Fprintf(w, "  ... and %d more (see results.json)\n", len(res.Anomalies)-limit)
			break
		}
		fmt.Fprintf(w, "  - %s: %s\n", a.Kind, a.Explanation)
	}
}
