package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/faultline/faultline/campaign/sweep"
	"github.com/faultline/faultline/report"
	"github.com/faultline/faultline/store"
)

// storeSummary is what `checker summary` reports, and its --json form.
type storeSummary struct {
	Path   string                `json:"path"`
	IsRun  bool                  `json:"is_run"` // a single run directory rather than a store
	Runs   []report.RunSummary   `json:"runs"`
	Sweeps []report.SweepSummary `json:"sweeps"`
	// Shown is how many runs the text and markdown forms list (--limit).
	Shown int `json:"-"`
}

type summaryOptions struct {
	markdown, json bool
	limit          int
	linkBase       string
}

func summaryFlags(o *summaryOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("summary", flag.ContinueOnError)
	fs.BoolVar(&o.markdown, "markdown", false, "print GitHub-flavoured Markdown (for a CI job summary)")
	fs.BoolVar(&o.json, "json", false, "print the summary as JSON")
	fs.IntVar(&o.limit, "limit", 100, "list at most `N` runs, newest first (the counts cover all)")
	fs.StringVar(&o.linkBase, "link-base", "", "prefix of report links (say the artifact's URL); default the path given")
	return fs
}

func summaryUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: checker summary [--markdown|--json] STORE|RUN_DIR")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Summarizes a store (its runs, newest first, and its sweeps) or one run directory:")
	fmt.Fprintln(w, "verdicts, anomalies, a link to each report and the `reproduce:` line of each run.")
	fmt.Fprintln(w, "--markdown is made for a CI job summary (GitHub's $GITHUB_STEP_SUMMARY).")
	fmt.Fprintln(w)
	printDefaults(w, summaryFlags(&summaryOptions{}))
}

func cmdSummary(_ context.Context, args []string, stdout, stderr io.Writer) int {
	var o summaryOptions
	rest, err := parseFlags(summaryFlags(&o), args)
	switch {
	case err != nil:
	case len(rest) != 1:
		err = fmt.Errorf("want one STORE or RUN_DIR, got %d arguments", len(rest))
	case o.markdown && o.json:
		err = fmt.Errorf("--markdown and --json exclude each other")
	case o.limit < 1:
		err = fmt.Errorf("--limit must be at least 1, got %d", o.limit)
	}
	if err != nil {
		return flagError(err, "summary", summaryUsage, stdout, stderr)
	}
	s, err := summarize(rest[0])
	if err != nil {
		fmt.Fprintf(stderr, "checker summary: %v\n", err)
		return exitCannotGo
	}
	s.Shown = min(o.limit, len(s.Runs))
	switch {
	case o.json:
		return writeJSON(stdout, stderr, "summary", s)
	case o.markdown:
		writeSummaryMarkdown(stdout, s, linker(s.Path, o.linkBase))
	default:
		writeSummaryText(stdout, s, linker(s.Path, o.linkBase))
	}
	return 0
}

// summarize reads a run directory (it has campaign.json or results.json)
// or a store.
func summarize(p string) (*storeSummary, error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("%s is not a directory (want a store or a run directory)", p)
	}
	fsys := os.DirFS(p)
	if isRunDir(fsys) {
		return &storeSummary{Path: p, IsRun: true, Runs: []report.RunSummary{report.SummarizeRun(fsys, ".")}, Sweeps: []report.SweepSummary{}}, nil
	}
	runs, err := report.SummarizeStore(fsys)
	if err != nil {
		return nil, err
	}
	sweeps, err := sweepSummaries(p)
	if err != nil {
		return nil, err
	}
	return &storeSummary{Path: p, Runs: runs, Sweeps: sweeps}, nil
}

func isRunDir(fsys fs.FS) bool {
	for _, f := range []string{store.ManifestFile, store.ResultsFile, store.HistoryFile} {
		if _, err := fs.Stat(fsys, f); err == nil {
			return true
		}
	}
	return false
}

// sweepSummaries reads every sweep of the store, newest first. A sweep
// whose sweep.json cannot be read is listed as failed, with the reason.
func sweepSummaries(storeDir string) ([]report.SweepSummary, error) {
	names, err := store.ListSweeps(os.DirFS(storeDir))
	if err != nil {
		return nil, err
	}
	out := []report.SweepSummary{}
	for _, name := range names {
		id := path.Join(store.SweepsDir, name)
		m, err := sweep.ReadMatrix(filepath.Join(storeDir, store.SweepsDir, name, sweep.MatrixFile))
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				out = append(out, report.SweepSummary{ID: id, Finished: true, Failures: []string{err.Error()}})
			}
			continue
		}
		out = append(out, sweepSummary(id, m))
	}
	return out, nil
}

func sweepSummary(id string, m *sweep.Matrix) report.SweepSummary {
	s := report.SweepSummary{ID: id, StartedAt: m.StartedAt, Finished: m.EndedAt != nil, Pass: m.Pass,
		Done: m.Done, Planned: m.Planned, Shard: m.Shard, Merged: len(m.Merged),
		Controls: fmt.Sprintf("valid %d/%d", m.Controls.Valid, m.Controls.Total),
		Failures: m.Failures, Warnings: m.Warnings, Bugs: []report.SweepBug{}}
	for _, row := range m.Bugs {
		s.Bugs = append(s.Bugs, report.SweepBug{Bug: row.Bug, Liveness: row.Liveness, Detected: row.Detected, Total: row.Total})
	}
	return s
}

// writeStoreIndex rewrites store/index.html; a failure is only a warning
// (the runs themselves are written).
func writeStoreIndex(storeDir string, stderr io.Writer) {
	sweeps, err := sweepSummaries(storeDir)
	if err == nil {
		err = report.WriteStoreIndex(storeDir, sweeps)
	}
	if err != nil {
		fmt.Fprintf(stderr, "warning: the store's %s was not updated: %v\n", report.IndexFile, err)
	}
}

// linker turns a store-relative path into the link a summary prints.
func linker(root, base string) func(rel string) string {
	return func(rel string) string {
		if base != "" {
			return strings.TrimSuffix(base, "/") + "/" + rel
		}
		if rel == "." || rel == "" {
			return root
		}
		return filepath.Join(root, filepath.FromSlash(rel))
	}
}

// verdictCounts counts runs by verdict, in a fixed order.
func verdictCounts(runs []report.RunSummary) string {
	counts := map[string]int{}
	for _, r := range runs {
		counts[r.Verdict]++
	}
	var parts []string
	for _, v := range []string{report.VerdictInvalid, report.VerdictUnknown, report.VerdictIncomplete, report.VerdictValid} {
		if counts[v] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[v], v))
		}
	}
	if len(parts) == 0 {
		return "no runs"
	}
	return strings.Join(parts, ", ")
}

func writeSummaryText(w io.Writer, s *storeSummary, link func(string) string) {
	if !s.IsRun {
		fmt.Fprintf(w, "store %s: %d run(s): %s; %d sweep(s)\n", s.Path, len(s.Runs), verdictCounts(s.Runs), len(s.Sweeps))
	}
	for _, sw := range s.Sweeps {
		fmt.Fprintf(w, "sweep %s: %s (%d of %d campaigns, controls %s)\n", sw.ID, strings.ToUpper(sw.Verdict()), sw.Done, sw.Planned, sw.Controls)
		for _, f := range sw.Failures {
			fmt.Fprintf(w, "  FAIL: %s\n", f)
		}
		fmt.Fprintf(w, "  page: %s\n", link(sw.PagePath()))
	}
	for _, r := range s.Runs[:s.Shown] {
		fmt.Fprintf(w, "run %s: %s", runLabel(r), r.Verdict)
		if r.Status != "complete" {
			fmt.Fprintf(w, " (%s)", r.Status)
		}
		fmt.Fprintf(w, "; anomalies: %s\n", r.AnomalyText())
		if len(r.Problems) > 0 {
			fmt.Fprintf(w, "  problems: %s\n", strings.Join(r.Problems, "; "))
		}
		if r.HasReport {
			fmt.Fprintf(w, "  report: %s\n", link(r.ReportPath()))
		}
		if r.Reproduce != "" {
			fmt.Fprintf(w, "  reproduce: %s\n", r.Reproduce)
		}
	}
	if s.Shown < len(s.Runs) {
		fmt.Fprintf(w, "... and %d older run(s) (--limit)\n", len(s.Runs)-s.Shown)
	}
}

// verdictMark puts a symbol before a verdict so a table reads at a glance.
func verdictMark(v string) string {
	switch v {
	case report.VerdictValid, "pass":
		return "✅ " + v
	case report.VerdictInvalid, "fail":
		return "❌ " + v
	case report.VerdictUnknown:
		return "⚠️ " + v
	}
	return "⏸️ " + v
}

func writeSummaryMarkdown(w io.Writer, s *storeSummary, link func(string) string) {
	title := "Faultline run " + runLabel(s.Runs[0])
	if !s.IsRun {
		title = fmt.Sprintf("Faultline: %d run(s), %s", len(s.Runs), verdictCounts(s.Runs))
		for _, sw := range s.Sweeps[:min(1, len(s.Sweeps))] {
			title += "; latest sweep " + strings.ToUpper(sw.Verdict())
		}
	}
	fmt.Fprintf(w, "## %s\n\n", title)
	if len(s.Sweeps) > 0 {
		fmt.Fprintln(w, "| sweep | verdict | campaigns | bugs detected | controls | page |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|")
		for _, sw := range s.Sweeps {
			var bugs []string
			for _, b := range sw.Bugs {
				bugs = append(bugs, fmt.Sprintf("%s %d/%d", b.Bug, b.Detected, b.Total))
			}
			fmt.Fprintf(w, "| `%s` | %s | %d/%d | %s | %s | [page](%s) |\n", sw.ID, verdictMark(sw.Verdict()), sw.Done, sw.Planned,
				mdCell(strings.Join(bugs, ", ")), sw.Controls, link(sw.PagePath()))
		}
		fmt.Fprintln(w)
		for _, sw := range s.Sweeps[:1] {
			for _, f := range sw.Failures {
				fmt.Fprintf(w, "- ❌ %s\n", mdCell(f))
			}
		}
		fmt.Fprintln(w)
	}
	if len(s.Runs) == 0 {
		fmt.Fprintln(w, "No runs.")
		return
	}
	fmt.Fprintln(w, "| run | verdict | workload | nemesis | anomalies | report |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, r := range s.Runs[:s.Shown] {
		rep := "-"
		if r.HasReport {
			rep = fmt.Sprintf("[report](%s)", link(r.ReportPath()))
		}
		verdict := verdictMark(r.Verdict)
		if r.Status != "complete" {
			verdict += " (" + r.Status + ")"
		}
		fmt.Fprintf(w, "| `%s` | %s | %s | %s | %s | %s |\n", runLabel(r), verdict, mdCell(r.Workload), mdCell(r.Nemesis), mdCell(r.AnomalyText()), rep)
	}
	if s.Shown < len(s.Runs) {
		fmt.Fprintf(w, "\n… and %d older run(s).\n", len(s.Runs)-s.Shown)
	}
	fmt.Fprintln(w, "\n<details><summary>reproduce</summary>\n\n```sh")
	for _, r := range s.Runs[:s.Shown] {
		if r.Reproduce != "" {
			fmt.Fprintf(w, "# %s: %s\nreproduce: %s\n", runLabel(r), r.Verdict, r.Reproduce)
		}
	}
	fmt.Fprintln(w, "```\n</details>")
}

// runLabel names a run: its store id, or name/timestamp for a run directory.
func runLabel(r report.RunSummary) string {
	if r.ID == "." {
		return r.Name + "/" + r.Timestamp
	}
	return r.ID
}

// mdCell keeps a value from breaking a Markdown table row.
func mdCell(s string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ").Replace(s)
}
