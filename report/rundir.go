package report

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/faultline/faultline/check"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/store"
)

// Files of a run directory, as the store names them.
const (
	campaignFile = store.ManifestFile
	historyFile  = store.HistoryFile
	resultsFile  = store.ResultsFile
	reportFile   = store.ReportFile
	junitFile    = store.JUnitFile
	keysDir      = store.KeysDir
	nodesDir     = store.NodesDir
)

// runData is everything read from one run directory. Whatever could not be
// read is listed in Problems and the run is incomplete; nothing here fails.
type runData struct {
	Dir      string // where the run is, for naming it
	FS       fs.FS  // the run directory's files
	Campaign *Campaign
	Result   *check.Result
	History  *History
	Nodes    nodeData
	Problems []string
	// Lint are the history's warnings (lint.json): places where the
	// recorder, not the system, is probably wrong.
	Lint []history.Warning
}

// Incomplete reports whether the run lacks something a finished run has.
func (r *runData) Incomplete() bool {
	return r.Campaign == nil || r.Result == nil || r.History == nil ||
		(r.Campaign.Status != "" && r.Campaign.Status != store.StatusComplete)
}

func loadRun(fsys fs.FS, dir string) *runData {
	r := &runData{Dir: dir, FS: fsys}
	c, err := readCampaign(fsys)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		r.Problems = append(r.Problems, "campaign.json is missing")
	case err != nil:
		r.Problems = append(r.Problems, err.Error())
	default:
		r.Campaign = c
	}
	res, err := readResults(fsys)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		r.Problems = append(r.Problems, "results.json is missing: the history was not checked")
	case err != nil:
		r.Problems = append(r.Problems, err.Error())
	default:
		r.Result = res
	}
	h, err := readHistory(fsys, historyFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		r.Problems = append(r.Problems, "history.jsonl is missing")
	case err != nil:
		r.Problems = append(r.Problems, fmt.Sprintf("history.jsonl: %v", err))
		r.History = h
	default:
		r.History = h
	}
	if r.History != nil {
		r.Problems = append(r.Problems, r.History.Problems...)
	}
	var lint history.LintReport
	if err := store.ReadDocumentFS(fsys, store.LintFile, &lint); err == nil {
		r.Lint = lint.Warnings
	}
	r.Nodes = readNodes(fsys, r.Campaign.NodeIDs())
	r.Problems = append(r.Problems, r.Nodes.Problems...)
	return r
}

func readResults(fsys fs.FS) (*check.Result, error) { return ReadResults(fsys, ".") }

// ReadResults reads <dir>/results.json from fsys. A missing file returns an
// error matching fs.ErrNotExist.
func ReadResults(fsys fs.FS, dir string) (*check.Result, error) {
	var res check.Result
	if err := store.ReadResultsFS(fsys, dir, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// keyViewPath returns the run-relative path of a key's Porcupine view, as
// the check names it, when the file exists ("" otherwise).
func keyViewPath(fsys fs.FS, key string) string {
	rel := keysDir + "/" + check.KeyFileName(key)
	if fi, err := fs.Stat(fsys, rel); err == nil && fi.Mode().IsRegular() {
		return rel
	}
	return ""
}
