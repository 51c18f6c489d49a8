package campaign

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/faultline/faultline/check"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/store"
)

// CheckRun checks the history of a run directory and rewrites what the check
// derives from it (WriteCheck). The end of every campaign and `checker check
// RUN_DIR` both use it, so a re-check writes exactly what the campaign
// wrote. An empty opt.Workload means the run's recorded workload (else check
// infers it from the operations). It returns the events it checked.
//
// A history that is not well formed is an error. With partial set (a
// campaign's own history, which a crash may cut mid-line) the readable part
// is still checked and written, and the error is returned with the result.
func CheckRun(runDir string, opt check.Options, partial bool) (*check.Result, []history.Event, error) {
	if opt.Workload == "" {
		opt.Workload = RecordedWorkload(runDir)
	}
	events, readErr := history.ReadFile(filepath.Join(runDir, store.HistoryFile))
	if readErr != nil && !partial {
		return nil, events, readErr
	}
	res, err := check.Check(events, opt)
	if err != nil {
		return nil, events, errors.Join(readErr, fmt.Errorf("check: %w", err))
	}
	return res, events, errors.Join(readErr, WriteCheck(runDir, events, res, opt))
}

// WriteCheck replaces results.json and keys/ of a run directory with those
// of a check of events (the report is package report's).
func WriteCheck(runDir string, events []history.Event, res *check.Result, opt check.Options) error {
	if err := store.WriteResults(runDir, res); err != nil {
		return fmt.Errorf("writing results.json: %w", err)
	}
	// Views of keys that failed before but pass now must not linger.
	if err := os.RemoveAll(filepath.Join(runDir, store.KeysDir)); err != nil {
		return err
	}
	if err := check.WriteKeyViews(runDir, events, res, opt); err != nil {
		return fmt.Errorf("writing key views: %w", err)
	}
	return writeLint(runDir, events)
}

// writeLint records where the history is probably mis-recorded rather than
// the system wrong (history.Lint), for the report to show.
func writeLint(runDir string, events []history.Event) error {
	warnings, err := history.Lint(events)
	if err != nil {
		return nil // an ill-formed history has no lint; its problems are reported elsewhere
	}
	if warnings == nil {
		warnings = []history.Warning{}
	}
	if err := store.WriteDocument(filepath.Join(runDir, store.LintFile), history.LintReport{Warnings: warnings}); err != nil {
		return fmt.Errorf("writing %s: %w", store.LintFile, err)
	}
	return nil
}

// RecordedWorkload is the workload of a run's campaign.json ("" when there
// is none, e.g. a directory written by another tool).
func RecordedWorkload(runDir string) string {
	m, err := store.ReadManifest(runDir)
	if err != nil {
		return ""
	}
	var o struct {
		Workload string `json:"workload"`
	}
	if json.Unmarshal(m.Options, &o) != nil {
		return ""
	}
	return o.Workload
}
