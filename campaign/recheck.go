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
// infers it from the operations). It returns the history's lint warnings
// (lint.json). The history is streamed (check.CheckFile, history.LintFile):
// its events are never all in memory.
//
// A history that is not well formed is an error, except that a last line
// cut mid-event (an interrupted run) ends it: the events before it are
// checked and written, and the reader's error naming the line is returned
// with the result. With partial set (a campaign's own history) the same
// goes for any line the reader refuses: nothing recorded goes unchecked.
func CheckRun(runDir string, opt check.Options, partial bool) (*check.Result, []history.Warning, error) {
	if opt.Workload == "" {
		opt.Workload = RecordedWorkload(runDir)
	}
	opt.Tolerate = check.TolerateCut
	if partial {
		opt.Tolerate = check.TolerateAny
	}
	res, readErr := check.CheckFile(filepath.Join(runDir, store.HistoryFile), opt)
	if res == nil {
		return nil, nil, readErr
	}
	warnings, err := WriteCheck(runDir, res, opt)
	return res, warnings, errors.Join(readErr, err)
}

// WriteCheck replaces results.json, keys/ and lint.json of a run directory
// with those of res, a check of its history.jsonl by CheckFile or Check in
// this process (the report is package report's). It returns the lint
// warnings.
func WriteCheck(runDir string, res *check.Result, opt check.Options) ([]history.Warning, error) {
	if err := store.WriteResults(runDir, res); err != nil {
		return nil, fmt.Errorf("writing results.json: %w", err)
	}
	// Views of keys that failed before but pass now must not linger.
	if err := os.RemoveAll(filepath.Join(runDir, store.KeysDir)); err != nil {
		return nil, err
	}
	if err := check.WriteKeyViews(runDir, nil, res, opt); err != nil {
		return nil, fmt.Errorf("writing key views: %w", err)
	}
	return writeLint(runDir)
}

// writeLint records where the history is probably mis-recorded rather than
// the system wrong (history.LintFile), for the report to show. A history
// cut short is linted up to its first refused line, as it was checked.
func writeLint(runDir string) ([]history.Warning, error) {
	warnings, err := history.LintFile(filepath.Join(runDir, store.HistoryFile))
	var pe *history.ParseError
	if err != nil && !errors.As(err, &pe) {
		return nil, nil // an unreadable history has no lint; its problems are reported elsewhere
	}
	if warnings == nil {
		warnings = []history.Warning{}
	}
	if err := store.WriteDocument(filepath.Join(runDir, store.LintFile), history.LintReport{Warnings: warnings}); err != nil {
		return warnings, fmt.Errorf("writing %s: %w", store.LintFile, err)
	}
	return warnings, nil
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
