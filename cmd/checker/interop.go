package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/faultline/faultline/check"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/interop"
	"github.com/faultline/faultline/store"
)

// checkExtras are the flags of `checker check` beyond the check's own
// options: reading a history another tool wrote, reporting on a bare file,
// and JSON output.
type checkExtras struct {
	from      string // "" (Faultline's JSONL), jepsen or porcupine
	reportDir string // write a full run directory for a bare file
	asJSON    bool
}

func (f *checkExtras) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.asJSON, "json", false, "print the verdict, results and history warnings as JSON on stdout (the text goes to stderr)")
	fs.StringVar(&f.from, "from", "", "format of a bare history `file`: jepsen (a history.edn) or porcupine (JSON operations); default Faultline's history.jsonl")
	fs.StringVar(&f.reportDir, "report", "", "write the full report of a bare history file into `DIR` (history.jsonl, results.json, report.html, junit.xml, keys/)")
}

func (f *checkExtras) validate() error {
	if f.from != "" && !slices.Contains(interop.Formats, f.from) {
		return fmt.Errorf("--from must be %s, got %q", strings.Join(interop.Formats, " or "), f.from)
	}
	return nil
}

// textOut is where the human-readable lines go: stdout, or stderr when
// stdout carries JSON.
func (f *checkExtras) textOut(stdout, stderr io.Writer) io.Writer {
	if f.asJSON {
		return stderr
	}
	return stdout
}

// checkOutcome is `checker check --json`.
type checkOutcome struct {
	Verdict  string            `json:"verdict"`
	ExitCode int               `json:"exit_code"`
	Report   string            `json:"report,omitempty"`
	Warnings []history.Warning `json:"history_warnings"`
	Result   *check.Result     `json:"result"`
}

// finish prints the JSON outcome when asked and returns the exit code.
func (f *checkExtras) finish(stdout, stderr io.Writer, res *check.Result, warnings []history.Warning, reportPath string) int {
	code := res.Valid.ExitCode()
	if !f.asJSON {
		return code
	}
	if warnings == nil {
		warnings = []history.Warning{}
	}
	if c := writeJSON(stdout, stderr, "check", checkOutcome{Verdict: res.Valid.String(), ExitCode: code,
		Report: reportPath, Warnings: warnings, Result: res}); c != 0 {
		return c
	}
	return code
}

// readHistory reads a bare history file in the format --from names.
func (f *checkExtras) readHistory(path string) ([]history.Event, error) {
	return interop.ReadFile(f.from, path)
}

// writeBareReport makes dir a run directory for a history that came
// without one: the history in Faultline's format (writeHistory), then
// results, key views, lint and the report as a re-check writes them.
func writeBareReport(dir string, res *check.Result, opt check.Options, writeHistory func(dir string) error) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := writeHistory(dir); err != nil {
		return err
	}
	return rewriteRunResults(dir, res, opt)
}

// copyFile copies the file at from to a new file at to.
func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

// writeHistoryFile writes events in the JSONL contract, one per line.
func writeHistoryFile(path string, events []history.Event) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	enc := json.NewEncoder(bw)
	for _, e := range events {
		if err := enc.Encode(e); err != nil {
			f.Close()
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// printLint prints the history's lint warnings (places where the recorder,
// not the system, is probably wrong), at most limit of them.
func printLint(w io.Writer, warnings []history.Warning, limit int) {
	if len(warnings) == 0 {
		return
	}
	fmt.Fprintf(w, "history warnings: %d (the history is probably mis-recorded here, not the system wrong)\n", len(warnings))
	for i, lw := range warnings {
		if i == limit {
			fmt.Fprintf(w, "  ... and %d more\n", len(warnings)-limit)
			break
		}
		fmt.Fprintf(w, "  - %s: %s\n", lw.Kind, lw.Message)
	}
}

func exportUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: checker export --to jepsen|porcupine [--out FILE] RUN_DIR|history.jsonl")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Writes a Faultline history in another tool's format: a Jepsen history.edn (register")
	fmt.Fprintln(w, "and set operations as independent [key value] tuples, appends as :txn list-append")
	fmt.Fprintln(w, "operations, faults as nemesis :info pairs) or Porcupine operations as JSON. `checker")
	fmt.Fprintln(w, "check --from` reads either back to the same history. Output goes to stdout unless --out.")
	fmt.Fprintln(w)
	var to, out string
	printDefaults(w, exportFlags(&to, &out))
}

func exportFlags(to, out *string) *flag.FlagSet {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.StringVar(to, "to", "", "format: `jepsen` or porcupine")
	fs.StringVar(out, "out", "", "write to `FILE` instead of stdout")
	return fs
}

func cmdExport(_ context.Context, args []string, stdout, stderr io.Writer) int {
	var to, out string
	rest, err := parseFlags(exportFlags(&to, &out), args)
	if err == nil {
		switch {
		case !slices.Contains(interop.Formats, to):
			err = fmt.Errorf("--to must be %s, got %q", strings.Join(interop.Formats, " or "), to)
		case len(rest) != 1:
			err = fmt.Errorf("want one RUN_DIR or history.jsonl, got %d arguments", len(rest))
		}
	}
	if err != nil {
		return flagError(err, "export", exportUsage, stdout, stderr)
	}
	path := rest[0]
	if info, err := os.Stat(path); err == nil && info.IsDir() {
		path = filepath.Join(path, store.HistoryFile)
	}
	events, err := history.ReadFile(path)
	if err != nil {
		fmt.Fprintf(stderr, "checker export: %v\n", err)
		return exitCannotGo
	}
	w := stdout
	var file *os.File
	if out != "" {
		if file, err = os.Create(out); err != nil {
			fmt.Fprintf(stderr, "checker export: %v\n", err)
			return exitCannotGo
		}
		w = file
	}
	err = interop.Write(to, w, events)
	if file != nil {
		if cerr := file.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "checker export: %v\n", err)
		return exitCannotGo
	}
	if out != "" {
		fmt.Fprintf(stderr, "%d events written to %s\n", len(events), out)
	}
	return 0
}
