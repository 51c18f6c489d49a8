package serve

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/faultline/faultline/report"
	"github.com/faultline/faultline/store"
)

// RunSummary is one row of the runs table and of GET /api/runs: the
// report's summary of the run plus where the server shows it.
type RunSummary struct {
	report.RunSummary
	ReportURL   string `json:"report_url"`
	FilesURL    string `json:"files_url"`
	DownloadURL string `json:"download_url"`
}

func runURL(id string) string      { return "/runs/" + escapeID(id) + "/" }
func filesURL(id string) string    { return "/files/" + escapeID(id) + "/" }
func downloadURL(id string) string { return "/download/" + escapeID(id) }

// escapeID escapes each segment of a run id for a URL path.
func escapeID(id string) string {
	parts := strings.Split(id, "/")
	for i, p := range parts {
		parts[i] = pathEscape(p)
	}
	return strings.Join(parts, "/")
}

// summaryCache remembers summaries by the identity of the files they were
// read from, so listing a store of hundreds of runs stays cheap.
type summaryCache struct {
	mu sync.Mutex
	m  map[string]cachedSummary
}

type cachedSummary struct {
	stamp string
	sum   RunSummary
}

// fileStamp identifies a file's version by size and modification time.
func fileStamp(root *os.Root, name string) string {
	fi, err := root.Stat(name)
	if err != nil {
		return "-"
	}
	return fmt.Sprintf("%d@%d", fi.Size(), fi.ModTime().UnixNano())
}

// listRuns summarises every run of the store (store.List: symlinks such as
// store/latest are not followed, sweeps are not runs), newest first.
func (s *Server) listRuns() ([]RunSummary, error) {
	refs, err := store.List(s.root.FS())
	if err != nil {
		return nil, err
	}
	sums := make([]report.RunSummary, 0, len(refs))
	for _, ref := range refs {
		sums = append(sums, s.summary(ref.ID).RunSummary)
	}
	report.SortRuns(sums)
	out := make([]RunSummary, len(sums))
	for i, sum := range sums {
		out[i] = served(sum)
	}
	return out, nil
}

// summary reads one run's summary (cached while its files are unchanged).
func (s *Server) summary(id string) RunSummary {
	stamp := fileStamp(s.root, path.Join(id, store.ManifestFile)) + "|" + fileStamp(s.root, path.Join(id, store.ResultsFile)) + "|" +
		fileStamp(s.root, path.Join(id, store.ReportFile)) + "|" + fileStamp(s.root, path.Join(id, store.HistoryFile))
	s.cache.mu.Lock()
	c, ok := s.cache.m[id]
	s.cache.mu.Unlock()
	if ok && c.stamp == stamp && c.sum.Status != store.StatusRunning {
		return c.sum // a running run is re-read: its owner may be gone since
	}
	sum := s.readSummary(id)
	s.cache.mu.Lock()
	if s.cache.m == nil {
		s.cache.m = map[string]cachedSummary{}
	}
	s.cache.m[id] = cachedSummary{stamp: stamp, sum: sum}
	s.cache.mu.Unlock()
	return sum
}

func (s *Server) readSummary(id string) RunSummary {
	return served(report.SummarizeRun(s.root.FS(), id))
}

// served adds the server's links to a run's summary.
func served(sum report.RunSummary) RunSummary {
	return RunSummary{RunSummary: sum, ReportURL: runURL(sum.ID), FilesURL: filesURL(sum.ID), DownloadURL: downloadURL(sum.ID)}
}

// runFilter selects runs for the table and the API.
type runFilter struct {
	Verdict string // "" for all
	Name    string // case-insensitive substring of the name
	Page    int    // from 1
	PerPage int
}

const (
	defaultPerPage = 25
	maxPerPage     = 200
)

var verdictFilters = []string{report.VerdictValid, report.VerdictInvalid, report.VerdictUnknown, report.VerdictIncomplete}

func (f runFilter) match(r RunSummary) bool {
	if f.Name != "" && !strings.Contains(strings.ToLower(r.Name), strings.ToLower(f.Name)) {
		return false
	}
	switch f.Verdict {
	case "":
		return true
	case report.VerdictIncomplete:
		return r.Incomplete
	default:
		return r.Verdict == f.Verdict
	}
}

// runPage is one page of filtered runs.
type runPage struct {
	Runs    []RunSummary `json:"runs"`
	Total   int          `json:"total"`
	Page    int          `json:"page"`
	PerPage int          `json:"per_page"`
	Pages   int          `json:"pages"`
}

func paginate(all []RunSummary, f runFilter) runPage {
	var sel []RunSummary
	for _, r := range all {
		if f.match(r) {
			sel = append(sel, r)
		}
	}
	p := runPage{Total: len(sel), Page: f.Page, PerPage: f.PerPage, Runs: []RunSummary{}}
	p.Pages = max(1, (len(sel)+f.PerPage-1)/f.PerPage)
	start := (f.Page - 1) * f.PerPage
	if start < len(sel) {
		p.Runs = sel[start:min(start+f.PerPage, len(sel))]
	}
	return p
}

// runIDOf returns the id of a run directory inside the store.
func runIDOf(storeDir, dir string) (string, bool) {
	if dir == "" {
		return "", false
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", false
	}
	rel, err := filepath.Rel(storeDir, abs)
	if err != nil {
		return "", false
	}
	rel = filepath.ToSlash(rel)
	parts := strings.Split(rel, "/")
	if len(parts) != 2 || checkSegment(parts[0]) != nil || checkSegment(parts[1]) != nil {
		return "", false
	}
	return rel, true
}
