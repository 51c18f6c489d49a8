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
	if imp.from == "" {
		return checkHistoryFile(path, opt, &imp, stdout, stderr)
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
	warnings, err := history.Lint(events)
	if err != nil {
		warnings = nil // an ill-formed history has no lint
	}
	w := imp.textOut(stdout, stderr)
	printVerdict(w, res, 20)
	printLint(w, warnings, 20)
	return imp.finishBare(stdout, stderr, res, warnings, opt, func(dir string) error {
		return writeHistoryFile(filepath.Join(dir, store.HistoryFile), events)
	})
}

// checkHistoryFile checks a bare history file in Faultline's format as a
// stream (check.CheckFile, history.LintFile): its events are never all in
// memory. A last line cut mid-event ends the history, as in checkRunDir.
func checkHistoryFile(path string, opt check.Options, imp *checkExtras, stdout, stderr io.Writer) int {
	opt.Tolerate = check.TolerateCut
	res, err := check.CheckFile(path, opt)
	if res == nil {
		fmt.Fprintf(stderr, "checker check: %v\n", err)
		return exitCannotGo
	}
	noteCut(stderr, err)
	warnings, _ := history.LintFile(path) // a cut history is linted up to the cut, as it was checked
	w := imp.textOut(stdout, stderr)
	printVerdict(w, res, 20)
	printLint(w, warnings, 20)
	return imp.finishBare(stdout, stderr, res, warnings, opt, func(dir string) error {
		return copyFile(path, filepath.Join(dir, store.HistoryFile))
	})
}

// finishBare writes the --report directory of a bare history, when asked
// (writeHistory puts the history in it), and finishes.
func (f *checkExtras) finishBare(stdout, stderr io.Writer, res *check.Result, warnings []history.Warning, opt check.Options, writeHistory func(dir string) error) int {
	reportPath := ""
	if f.reportDir != "" {
		if err := writeBareReport(f.reportDir, res, opt, writeHistory); err != nil {
			fmt.Fprintf(stderr, "checker check: --report: %v\n", err)
			return exitCannotGo
		}
		reportPath = filepath.Join(f.reportDir, store.ReportFile)
		fmt.Fprintf(f.textOut(stdout, stderr), "report: %s\n", reportPath)
	}
	return f.finish(stdout, stderr, res, warnings, reportPath)
}

// noteCut says that a history's last line was cut and left out; err is
// the reader's tolerated error (nil when the history was whole).
func noteCut(stderr io.Writer, err error) {
	if err != nil {
		fmt.Fprintf(stderr, "checker check: %v (checked the events before it)\n", err)
	}
}

// rewriteRunResults replaces results.json, keys/, lint.json and the report
// of a run directory with those of res, a check of its history.
func rewriteRunResults(runDir string, res *check.Result, opt check.Options) error {
	if _, err := campaign.WriteCheck(runDir, res, opt); err != nil {
		return err
	}
	return report.WriteRun(runDir)
}

// checkRunDir re-checks a run directory as its campaign did
// (campaign.CheckRun) and rewrites its report. The history of an
// interrupted run, cut mid-line, is checked up to the cut.
func checkRunDir(runDir string, opt check.Options, extras *checkExtras, stdout, stderr io.Writer) int {
	res, warnings, err := campaign.CheckRun(runDir, opt, false)
	if res == nil {
		fmt.Fprintf(stderr, "checker check: %v\n", err)
		return exitCannotGo
	}
	if cut := onlyCut(err); cut != nil {
		noteCut(stderr, cut)
		err = nil
	}
	w := extras.textOut(stdout, stderr)
	printVerdict(w, res, 20)
	printLint(w, warnings, 20)
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

// onlyCut returns the reader's error when err (from CheckRun) is nothing
// but a last line cut mid-event, else nil.
func onlyCut(err error) error {
	if joined, ok := err.(interface{ Unwrap() []error }); ok && len(joined.Unwrap()) == 1 {
		err = joined.Unwrap()[0]
	}
	if pe, ok := err.(*history.ParseError); ok && pe.Truncated {
		return pe
	}
	return nil
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
