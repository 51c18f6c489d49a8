package serve

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strings"

	"github.com/faultline/faultline/check"
	"github.com/faultline/faultline/report"
	"github.com/faultline/faultline/store"
)

func (s *Server) handleAPIRuns(w http.ResponseWriter, r *http.Request) {
	f, all, ok := s.filteredRuns(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, paginate(all, f))
}

// runDetail is GET /api/runs/{id}.
type runDetail struct {
	Run      RunSummary      `json:"run"`
	Campaign *store.Manifest `json:"campaign,omitempty"`
	Results  *resultsBrief   `json:"results,omitempty"`
	Files    []fileInfo      `json:"files"`
}

type resultsBrief struct {
	Valid     check.Verdict   `json:"valid"`
	Workload  string          `json:"workload"`
	Counts    map[string]int  `json:"anomaly_counts"`
	Anomalies []check.Anomaly `json:"anomalies"`
	More      int             `json:"more_anomalies,omitempty"`
	Keys      int             `json:"keys"`
	Stats     check.Stats     `json:"stats"`
	Reason    string          `json:"reason,omitempty"`
}

type fileInfo struct {
	Path string `json:"path"`
	Size int64  `json:"size"`
	URL  string `json:"url"`
}

// maxAPIAnomalies bounds the anomalies in GET /api/runs/{id}.
const maxAPIAnomalies = 100

func (s *Server) handleAPIRun(w http.ResponseWriter, r *http.Request) {
	id, ok := s.runID(w, r)
	if !ok {
		return
	}
	d := runDetail{Run: s.summary(id), Files: []fileInfo{}}
	if m, err := store.ReadManifestFS(s.root.FS(), id); err == nil {
		d.Campaign = m
	}
	if res, err := report.ReadResults(s.root.FS(), id); err == nil {
		rb := &resultsBrief{Valid: res.Valid, Workload: res.Workload, Counts: res.Counts, Anomalies: res.Anomalies,
			Keys: len(res.Keys), Stats: res.Stats, Reason: res.Reason}
		if len(rb.Anomalies) > maxAPIAnomalies {
			rb.More = len(rb.Anomalies) - maxAPIAnomalies
			rb.Anomalies = rb.Anomalies[:maxAPIAnomalies]
		}
		if rb.Anomalies == nil {
			rb.Anomalies = []check.Anomaly{}
		}
		d.Results = rb
	}
	if runRoot, err := s.root.OpenRoot(id); err == nil {
		_ = fs.WalkDir(runRoot.FS(), ".", func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() || !e.Type().IsRegular() || strings.HasSuffix(p, ".tmp") {
				return nil
			}
			if info, err := e.Info(); err == nil {
				d.Files = append(d.Files, fileInfo{Path: p, Size: info.Size(), URL: runURL(id) + escapePath(p)})
			}
			return nil
		})
		runRoot.Close()
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) handleAPILaunch(w http.ResponseWriter, r *http.Request) {
	if s.queue == nil {
		s.httpError(w, r, http.StatusServiceUnavailable, "launch", "this server was started without a way to run campaigns")
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		s.httpError(w, r, http.StatusUnsupportedMediaType, "Content-Type", "send the launch options as application/json")
		return
	}
	o, err := parseLaunchJSON(r.Body, s.store)
	if err != nil {
		field, msg := fieldMessage(err)
		s.httpError(w, r, http.StatusBadRequest, field, msg)
		return
	}
	j, err := s.queue.submit(o)
	if err != nil {
		s.httpError(w, r, http.StatusServiceUnavailable, "launch", err.Error())
		return
	}
	v, _ := s.queue.view(j.id)
	w.Header().Set("Location", "/api/campaigns/"+j.id)
	writeJSON(w, http.StatusAccepted, v)
}

func (s *Server) handleAPICampaigns(w http.ResponseWriter, r *http.Request) {
	jobs := []JobView{}
	if s.queue != nil {
		jobs = append(jobs, s.queue.list()...)
		for i := range jobs {
			jobs[i].Verdict = s.jobVerdict(jobs[i])
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"campaigns": jobs, "launching": s.queue != nil})
}

func (s *Server) handleAPICampaign(w http.ResponseWriter, r *http.Request) {
	if j, ok := s.job(w, r); ok {
		writeJSON(w, http.StatusOK, j)
	}
}

// handleAPICancel is DELETE /api/campaigns/{id}: a queued campaign will not
// run; a running one stops as after Ctrl-C (faults healed, cluster removed,
// what was recorded checked, the run marked interrupted). 202 with the
// campaign; 409 when it has already ended.
func (s *Server) handleAPICancel(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.job(w, r); !ok {
		return
	}
	id := r.PathValue("id")
	if err := s.queue.cancelJob(id); err != nil {
		code := http.StatusConflict
		if errors.Is(err, errNoJob) {
			code = http.StatusNotFound
		}
		s.httpError(w, r, code, "id", fmt.Sprintf("campaign %s: %v", id, err))
		return
	}
	s.log.Info("campaign cancelled", "job", id)
	v, _ := s.queue.view(id)
	writeJSON(w, http.StatusAccepted, v)
}

// handleCancelForm is the cancel button of a campaign's page without
// JavaScript: POST /campaigns/{id}/cancel, then back to the page.
func (s *Server) handleCancelForm(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.job(w, r); !ok {
		return
	}
	id := r.PathValue("id")
	if err := s.queue.cancelJob(id); err != nil && !errors.Is(err, errJobOver) {
		s.httpError(w, r, http.StatusNotFound, "id", fmt.Sprintf("campaign %s: %v", id, err))
		return
	}
	http.Redirect(w, r, "/campaigns/"+id, http.StatusSeeOther)
}
