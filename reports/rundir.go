package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"

	"github.com/faultline/faultline/check"
)

// Files of a run directory (DESIGN.md, "Contract: the store").
const (
	campaignFile = "campaign.json"
	historyFile  = "history.jsonl"
	resultsFile  = "results.json"
	reportFile   = "report.html"
	junitFile    = "junit.xml"
	keysDir      = "keys"
	nodesDir     = "nodes"
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
}

// Incomplete reports whether the run lacks something a finished run has.
func (r *runData) Incomplete() bool {
	return r.Campaign == nil || r.Result == nil || r.History == nil ||
		(r.Campaign.Status != "" && r.Campaign.Status != StatusComplete)
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
	r.Nodes = readNodes(fsys, r.Campaign.NodeIDs())
	r.Problems = append(r.Problems, r.Nodes.Problems...)
	return r
}

func readResults(fsys fs.FS) (*check.Result, error) {
	b, err := fs.ReadFile(fsys, resultsFile)
	if err != nil {
		return nil, err
	}
	return parseResults(b)
}

func parseResults(b []byte) (*check.Result, error) {
	var res check.Result
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&res); err != nil {
		return nil, fmt.Errorf("results.json: %w", err)
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
