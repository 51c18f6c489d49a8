package reports

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// RunSummary is one row of the runs table and of GET /api/runs.
type RunSummary struct {
	ID            string         `json:"id"` // "<name>/<timestamp>"
	Name          string         `json:"name"`
	Timestamp     string         `json:"timestamp"`
	StartedAt     *time.Time     `json:"started_at,omitempty"`
	Status        string         `json:"status"`
	Verdict       string         `json:"verdict"` // valid, invalid, unknown, incomplete
	Incomplete    bool           `json:"incomplete"`
	Workload      string         `json:"workload,omitempty"`
	Nemesis       string         `json:"nemesis,omitempty"`
	Duration      string         `json:"duration,omitempty"`
	Ops           int            `json:"ops"`
	Anomalies     int            `json:"anomalies"`
	AnomalyCounts map[string]int `json:"anomaly_counts"`
	Problems      []string       `json:"problems,omitempty"`
	ReportURL     string         `json:"report_url"`
	FilesURL      string         `json:"files_url"`
	DownloadURL   string         `json:"download_url"`
	HasReport     bool           `json:"has_report"`
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

// listRuns walks store/<name>/<timestamp>/ and summarises every run, newest
// first. Symlinks (store/latest among them) are not followed, so a run is
// listed once and nothing outside the store is reached.
func (s *Server) listRuns() ([]RunSummary, error) {
	names, err := fs.ReadDir(s.root.FS(), ".")
	if err != nil {
		return nil, fmt.Errorf("reading the store: %w", err)
	}
	var out []RunSummary
	for _, n := range names {
		if !n.IsDir() || strings.HasPrefix(n.Name(), ".") {
			continue
		}
		stamps, err := fs.ReadDir(s.root.FS(), n.Name())
		if err != nil {
			continue
		}
		for _, ts := range stamps {
			if !ts.IsDir() || strings.HasPrefix(ts.Name(), ".") {
				continue
			}
			out = append(out, s.summary(n.Name()+"/"+ts.Name()))
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.StartedAt != nil && b.StartedAt != nil && !a.StartedAt.Equal(*b.StartedAt) {
			return a.StartedAt.After(*b.StartedAt)
		}
		if a.Timestamp != b.Timestamp {
			return a.Timestamp > b.Timestamp
		}
		return a.ID < b.ID
	})
	return out, nil
}

// summary reads one run's summary (cached while its files are unchanged).
func (s *Server) summary(id string) RunSummary {
	stamp := fileStamp(s.root, path.Join(id, campaignFile)) + "|" + fileStamp(s.root, path.Join(id, resultsFile)) + "|" +
		fileStamp(s.root, path.Join(id, reportFile)) + "|" + fileStamp(s.root, path.Join(id, historyFile))
	s.cache.mu.Lock()
	c, ok := s.cache.m[id]
	s.cache.mu.Unlock()
	if ok && c.stamp == stamp {
		return c.sum
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
	name, ts, _ := strings.Cut(id, "/")
	sum := RunSummary{ID: id, Name: name, Timestamp: ts, Verdict: VerdictIncomplete, AnomalyCounts: map[string]int{},
		ReportURL: runURL(id), FilesURL: filesURL(id), DownloadURL: downloadURL(id)}
	if t, ok := parseTimestamp(strings.SplitN(ts, "-", 2)[0]); ok {
		sum.StartedAt = &t
	}
	b, err := s.root.ReadFile(path.Join(id, campaignFile))
	var c *Campaign
	switch {
	case errors.Is(err, fs.ErrNotExist):
		sum.Problems = append(sum.Problems, "campaign.json is missing")
	case err != nil:
		sum.Problems = append(sum.Problems, "campaign.json: "+err.Error())
	default:
		c, err = parseCampaign(b)
		if err != nil {
			sum.Problems = append(sum.Problems, err.Error())
		}
	}
	if c != nil {
		sum.Status = c.Status
		if c.Name != "" {
			sum.Name = c.Name
		}
		if t, ok := c.Started(); ok {
			sum.StartedAt = &t
		}
		sum.Workload = c.OptionString("workload")
		sum.Nemesis = c.OptionString("nemesis")
		if d := c.OptionDuration("duration"); d > 0 {
			sum.Duration = d.String()
		}
	}
	b, err = s.root.ReadFile(path.Join(id, resultsFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		sum.Problems = append(sum.Problems, "results.json is missing")
	case err != nil:
		sum.Problems = append(sum.Problems, "results.json: "+err.Error())
	default:
		res, err := parseResults(b)
		if err != nil {
			sum.Problems = append(sum.Problems, err.Error())
			break
		}
		sum.Verdict = runVerdict(res)
		sum.Ops = res.Stats.Ops
		for k, n := range res.Counts {
			if n > 0 {
				sum.AnomalyCounts[k] = n
			}
		}
		if len(sum.AnomalyCounts) == 0 {
			for _, a := range res.Anomalies {
				sum.AnomalyCounts[a.Kind]++
			}
		}
		for _, n := range sum.AnomalyCounts {
			sum.Anomalies += n
		}
		if sum.Workload == "" {
			sum.Workload = res.Workload
		}
	}
	if _, err := s.root.Stat(path.Join(id, historyFile)); err != nil {
		sum.Problems = append(sum.Problems, "history.jsonl is missing")
	}
	if fi, err := s.root.Stat(path.Join(id, reportFile)); err == nil && fi.Mode().IsRegular() {
		sum.HasReport = true
	}
	sum.Incomplete = len(sum.Problems) > 0 || (sum.Status != StatusComplete)
	if sum.Status == "" {
		sum.Status = "unknown"
	}
	return sum
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

var verdictFilters = []string{VerdictValid, VerdictInvalid, VerdictUnknown, VerdictIncomplete}

func (f runFilter) match(r RunSummary) bool {
	if f.Name != "" && !strings.Contains(strings.ToLower(r.Name), strings.ToLower(f.Name)) {
		return false
	}
	switch f.Verdict {
	case "":
		return true
	case VerdictIncomplete:
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
func runIDOf(store, dir string) (string, bool) {
	if dir == "" {
		return "", false
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", false
	}
	rel, err := filepath.Rel(store, abs)
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
