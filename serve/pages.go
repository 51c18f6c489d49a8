package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/faultline/faultline/campaign"
	"github.com/faultline/faultline/report"
	"github.com/faultline/faultline/store"
	"github.com/faultline/faultline/sut/bugs"
	"github.com/faultline/faultline/sut/system"
)

func parsePages() (*template.Template, error) {
	funcs := template.FuncMap{
		"counts": func(m map[string]int) string {
			if len(m) == 0 {
				return ""
			}
			var parts []string
			for _, k := range sortedKeys(m) {
				parts = append(parts, fmt.Sprintf("%d %s", m[k], k))
			}
			return strings.Join(parts, ", ")
		},
		"add": func(a, b int) int { return a + b },
	}
	t, err := template.New("pages").Funcs(funcs).ParseFS(serveAssets, "assets/serve/*.tmpl")
	if err != nil {
		return nil, fmt.Errorf("serve: parsing page templates: %w", err)
	}
	return t, nil
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// render executes a page template into a buffer first, so that a template
// error gives a clean 500 instead of half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, name string, data map[string]any) {
	data["Launching"] = s.queue != nil
	var buf bytes.Buffer
	if err := s.pages.ExecuteTemplate(&buf, name, data); err != nil {
		s.log.Error("rendering page", "page", name, "err", err)
		http.Error(w, "internal error rendering "+name, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// httpError answers an error: JSON naming the field under /api/, a page
// otherwise.
func (s *Server) httpError(w http.ResponseWriter, r *http.Request, code int, field, msg string) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		writeJSON(w, code, map[string]string{"error": field + ": " + msg, "field": field})
		return
	}
	s.render(w, r, code, "error", map[string]any{"Title": http.StatusText(code), "Code": code, "Field": field, "Message": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, "internal error encoding JSON", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	s.httpError(w, r, http.StatusNotFound, "path", fmt.Sprintf("nothing is served at %s", r.URL.Path))
}

// parseRunFilter reads the runs table's query, naming the bad parameter.
func parseRunFilter(q url.Values) (runFilter, error) {
	f := runFilter{Page: 1, PerPage: defaultPerPage}
	switch v := q.Get("verdict"); v {
	case "", "all":
	default:
		if !oneOf(v, verdictFilters) {
			return f, fieldErr("verdict", "must be one of all, %s; got %q", strings.Join(verdictFilters, ", "), v)
		}
		f.Verdict = v
	}
	f.Name = strings.TrimSpace(q.Get("name"))
	if len(f.Name) > maxFilterLen {
		return f, fieldErr("name", "longer than %d characters", maxFilterLen)
	}
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return f, fieldErr("page", "must be a positive integer, got %q", v)
		}
		f.Page = n
	}
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPerPage {
			return f, fieldErr("per_page", "must be an integer from 1 to %d, got %q", maxPerPage, v)
		}
		f.PerPage = n
	}
	return f, nil
}

// pageLink is one link of the pagination bar.
type pageLink struct {
	N       int
	Href    string
	Current bool
}

func pageLinks(f runFilter, pages int) []pageLink {
	var out []pageLink
	for n := 1; n <= pages; n++ {
		// Show the first, last and nearby pages only.
		if n != 1 && n != pages && (n < f.Page-3 || n > f.Page+3) {
			if len(out) > 0 && out[len(out)-1].N != -1 {
				out = append(out, pageLink{N: -1})
			}
			continue
		}
		out = append(out, pageLink{N: n, Href: filterQuery(f, n), Current: n == f.Page})
	}
	return out
}

func filterQuery(f runFilter, page int) string {
	q := url.Values{}
	if f.Verdict != "" {
		q.Set("verdict", f.Verdict)
	}
	if f.Name != "" {
		q.Set("name", f.Name)
	}
	if f.PerPage != defaultPerPage {
		q.Set("per_page", strconv.Itoa(f.PerPage))
	}
	if page > 1 {
		q.Set("page", strconv.Itoa(page))
	}
	if len(q) == 0 {
		return "/"
	}
	return "/?" + q.Encode()
}

// filteredRuns parses the runs filter of a page or API request and lists
// the store; on a bad filter or an unreadable store it has answered already.
func (s *Server) filteredRuns(w http.ResponseWriter, r *http.Request) (runFilter, []RunSummary, bool) {
	f, err := parseRunFilter(r.URL.Query())
	if err != nil {
		field, msg := fieldMessage(err)
		s.httpError(w, r, http.StatusBadRequest, field, msg)
		return f, nil, false
	}
	all, err := s.listRuns()
	if err != nil {
		s.httpError(w, r, http.StatusInternalServerError, "store", err.Error())
		return f, nil, false
	}
	return f, all, true
}

func (s *Server) handleRunsPage(w http.ResponseWriter, r *http.Request) {
	f, all, ok := s.filteredRuns(w, r)
	if !ok {
		return
	}
	p := paginate(all, f)
	data := map[string]any{
		"Title": "Runs", "Page": p, "Filter": f, "Verdicts": verdictFilters, "Links": pageLinks(f, p.Pages),
		"AllRuns": len(all), "Store": s.store,
	}
	// Sweeps are not runs: they are listed apart, each opening its page.
	if stamps, err := store.ListSweeps(s.root.FS()); err == nil && len(stamps) > 0 {
		var sweeps []map[string]string
		for _, ts := range stamps {
			sweeps = append(sweeps, map[string]string{"Stamp": ts, "URL": runURL(store.SweepsDir + "/" + ts)})
		}
		data["Sweeps"] = sweeps
	}
	if f.Page > 1 {
		data["Prev"] = filterQuery(f, f.Page-1)
	}
	if f.Page < p.Pages {
		data["Next"] = filterQuery(f, f.Page+1)
	}
	if s.queue != nil {
		var active []JobView
		for _, j := range s.queue.list() {
			if j.State == JobQueued || j.State == JobRunning {
				active = append(active, j)
			}
		}
		data["Active"] = active
	}
	if runs, err := s.listRuns(); err == nil {
		data["Trends"] = trendsOf(runs)
	}
	s.render(w, r, http.StatusOK, "runs", data)
}

// trendPoint is one run of a campaign name's trend on the runs page.
type trendPoint struct{ ID, Verdict, URL string }

// trendsOf is each campaign name's last verdicts (report.Trends), linked
// to the runs' reports, so a nightly that turned red shows on top.
func trendsOf(runs []RunSummary) []map[string]any {
	sums := make([]report.RunSummary, len(runs))
	for i, r := range runs {
		sums[i] = r.RunSummary
	}
	var out []map[string]any
	for _, t := range report.Trends(sums) {
		points := make([]trendPoint, len(t.Verdicts))
		for i, p := range t.Verdicts {
			points[i] = trendPoint{ID: p.ID, Verdict: p.Verdict, URL: runURL(p.ID)}
		}
		out = append(out, map[string]any{"Name": t.Name, "Points": points})
	}
	return out
}

// runID validates the {name}/{ts} of a request and checks the run exists.
func (s *Server) runID(w http.ResponseWriter, r *http.Request) (string, bool) {
	name, ts := r.PathValue("name"), r.PathValue("ts")
	for _, seg := range []string{name, ts} {
		if err := checkSegment(seg); err != nil {
			s.httpError(w, r, http.StatusBadRequest, "run", err.Error())
			return "", false
		}
	}
	id := name + "/" + ts
	if err := s.statRunDir(id); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			s.httpError(w, r, http.StatusNotFound, "run", fmt.Sprintf("no run %s in the store", id))
		} else {
			s.httpError(w, r, http.StatusForbidden, "run", fmt.Sprintf("%s is not a run directory inside the store", id))
		}
		return "", false
	}
	return id, true
}

func (s *Server) handleRunRedirect(w http.ResponseWriter, r *http.Request) {
	if id, ok := s.runID(w, r); ok {
		http.Redirect(w, r, runURL(id), http.StatusMovedPermanently)
	}
}

func (s *Server) handleRunPath(w http.ResponseWriter, r *http.Request) {
	id, ok := s.runID(w, r)
	if !ok {
		return
	}
	p := r.PathValue("path")
	if p == "" {
		s.serveReport(w, r, id)
		return
	}
	rel, err := checkRelPath(p)
	if err != nil {
		s.httpError(w, r, http.StatusBadRequest, "path", err.Error())
		return
	}
	s.serveRunFile(w, r, id, rel)
}

func (s *Server) handleBrowse(w http.ResponseWriter, r *http.Request) {
	id, ok := s.runID(w, r)
	if !ok {
		return
	}
	rel, err := checkRelPath(r.PathValue("path"))
	if err != nil {
		s.httpError(w, r, http.StatusBadRequest, "path", err.Error())
		return
	}
	fi, err := s.root.Stat(path.Join(id, rel))
	if err != nil {
		s.fileError(w, r, rel, err)
		return
	}
	if !fi.IsDir() {
		// Files open from the run's own URL space, where reports link them.
		http.Redirect(w, r, runURL(id)+escapePath(rel), http.StatusFound)
		return
	}
	if !strings.HasSuffix(r.URL.Path, "/") {
		http.Redirect(w, r, r.URL.EscapedPath()+"/", http.StatusMovedPermanently)
		return
	}
	s.serveListing(w, r, id, rel)
}

func escapePath(rel string) string {
	parts := strings.Split(rel, "/")
	for i, p := range parts {
		parts[i] = pathEscape(p)
	}
	return strings.Join(parts, "/")
}

// maxFilterLen bounds the name filter of the runs table.
const maxFilterLen = 100

// servedNav is put at the top of a report served by `checker serve`, the
// only change made to a report.html on its way out.
const servedNav = `<div style="background:#eceff1;padding:6px 16px;font:13px system-ui,sans-serif"><a href="/">&larr; all runs</a> &middot; <a href="%s">browse this run's files</a> &middot; <a href="%s">download .tar.gz</a></div>`

// serveReport serves a run's report.html, or builds one in memory when the
// run has none yet (running, crashed or not yet reported).
func (s *Server) serveReport(w http.ResponseWriter, r *http.Request, id string) {
	nav := fmt.Sprintf(servedNav, template.HTMLEscapeString(filesURL(id)), template.HTMLEscapeString(downloadURL(id)))
	page, err := s.root.ReadFile(path.Join(id, store.ReportFile))
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.fileError(w, r, store.ReportFile, err)
			return
		}
		select {
		case s.building <- struct{}{}:
			defer func() { <-s.building }()
		case <-r.Context().Done():
			return
		}
		runRoot, err := s.root.OpenRoot(id)
		if err != nil {
			s.fileError(w, r, id, err)
			return
		}
		defer runRoot.Close()
		var buf bytes.Buffer
		if err := report.Render(&buf, runRoot.FS(), id); err != nil {
			s.httpError(w, r, http.StatusInternalServerError, "report", err.Error())
			return
		}
		page = buf.Bytes()
		w.Header().Set("X-Faultline-Report", "generated")
	}
	if i := bytes.Index(page, []byte("<body>")); i >= 0 {
		i += len("<body>")
		page = append(page[:i:i], append([]byte(nav), page[i:]...)...)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "sandbox allow-scripts allow-popups allow-modals allow-downloads")
	_, _ = w.Write(page)
}

func (s *Server) handleDownload(w http.ResponseWriter, r *http.Request) {
	id, ok := s.runID(w, r)
	if !ok {
		return
	}
	name := strings.ReplaceAll(id, "/", "-") + ".tar.gz"
	w.Header().Set("Content-Type", "application/gzip")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename=%q`, name))
	if err := s.writeTarball(w, id); err != nil {
		// Headers are gone by now; the truncated archive fails to unpack.
		s.log.Warn("writing tarball", "run", id, "err", err)
	}
}

// launchFormData is what the launch form shows: vals are the values in the
// fields, as typed (after a bad submission) or the defaults.
func launchFormData(vals url.Values, errMsg, field string) map[string]any {
	selected := map[string]bool{}
	for _, v := range vals["bugs"] {
		for _, b := range strings.Split(v, ",") {
			selected[strings.TrimSpace(b)] = true
		}
	}
	type bugOption struct {
		Name, What string
		Checked    bool
	}
	var opts []bugOption
	for _, b := range bugs.Catalogue {
		opts = append(opts, bugOption{Name: b.Name, What: b.What, Checked: selected[b.Name]})
	}
	v := map[string]string{}
	for _, name := range launchFields {
		v[name] = vals.Get(name)
	}
	declared := system.Capabilities{}
	for _, c := range listValues(vals["system_capabilities"]) {
		declared = append(declared, system.Capability(c))
	}
	type capOption struct {
		Name    string
		Checked bool
	}
	var caps []capOption
	for _, c := range system.AllCapabilities {
		caps = append(caps, capOption{Name: string(c), Checked: declared.Has(c)})
	}
	return map[string]any{
		"Title": "Launch a campaign", "V": v, "Error": errMsg, "Field": field, "Bugs": opts, "Capabilities": caps,
		"Placeholders": strings.Join(system.Placeholders, " "),
		"Systems":      system.Names, "Runtimes": runtimes, "Workloads": workloads, "ReadModes": readModes, "NemesisKinds": nemesisKinds,
		"MinNodes": campaign.MinNodes, "MaxNodes": campaign.MaxNodes, "MaxConcurrency": campaign.MaxConcurrency,
		"MaxKeys": campaign.MaxKeys,
	}
}

// defaultFormValues are the defaults of `checker run`, as form values.
func defaultFormValues() url.Values {
	o := campaign.DefaultOptions()
	return url.Values{
		"system": {o.System}, "runtime": {o.Runtime}, "nodes": {strconv.Itoa(o.Nodes)}, "duration": {o.Duration.String()},
		"workload": {o.Workload}, "concurrency": {strconv.Itoa(o.Concurrency)}, "rate": {"0"},
		"keys": {strconv.Itoa(o.Keys)}, "nemesis": {o.Nemesis}, "interval": {o.Interval.String()},
		"read_mode": {o.ReadMode},
	}
}

func (s *Server) handleLaunchForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "launch", launchFormData(defaultFormValues(), "", ""))
}

func (s *Server) handleLaunchSubmit(w http.ResponseWriter, r *http.Request) {
	if s.queue == nil {
		s.httpError(w, r, http.StatusServiceUnavailable, "launch", "this server was started without a way to run campaigns")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLaunchBody)
	if err := r.ParseForm(); err != nil {
		s.httpError(w, r, http.StatusBadRequest, "form", err.Error())
		return
	}
	o, err := parseLaunchForm(r.PostForm, s.store)
	if err != nil {
		field, msg := fieldMessage(err)
		s.render(w, r, http.StatusBadRequest, "launch", launchFormData(r.PostForm, field+": "+msg, field))
		return
	}
	j, err := s.queue.submit(o)
	if err != nil {
		s.httpError(w, r, http.StatusServiceUnavailable, "launch", err.Error())
		return
	}
	http.Redirect(w, r, "/campaigns/"+j.id, http.StatusSeeOther)
}

func (s *Server) handleCampaignsPage(w http.ResponseWriter, r *http.Request) {
	var jobs []JobView
	if s.queue != nil {
		jobs = s.queue.list()
	}
	s.render(w, r, http.StatusOK, "campaigns", map[string]any{"Title": "Campaigns", "Jobs": jobs})
}

func (s *Server) handleCampaignPage(w http.ResponseWriter, r *http.Request) {
	j, ok := s.job(w, r)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "campaign", map[string]any{"Title": "Campaign " + j.ID, "Job": j, "Verdict": s.jobVerdict(j),
		"CanCancel": !s.opt.ReadOnly})
}

// job finds the campaign named in the path.
func (s *Server) job(w http.ResponseWriter, r *http.Request) (JobView, bool) {
	id := r.PathValue("id")
	if s.queue == nil {
		s.httpError(w, r, http.StatusNotFound, "id", "this server was started without a way to run campaigns")
		return JobView{}, false
	}
	if !validJobID(id) {
		s.httpError(w, r, http.StatusBadRequest, "id", fmt.Sprintf("%q is not a campaign id (they look like c1)", id))
		return JobView{}, false
	}
	j, ok := s.queue.view(id)
	if !ok {
		s.httpError(w, r, http.StatusNotFound, "id", fmt.Sprintf("no campaign %s", id))
		return JobView{}, false
	}
	j.Verdict = s.jobVerdict(j)
	return j, true
}

func validJobID(id string) bool {
	if len(id) < 2 || len(id) > 12 || id[0] != 'c' {
		return false
	}
	n, err := strconv.Atoi(id[1:])
	return err == nil && n > 0 && strconv.Itoa(n) == id[1:]
}

// jobVerdict is the verdict of a finished campaign's run, if it has one.
func (s *Server) jobVerdict(j JobView) string {
	if j.RunID == "" || (j.State != JobDone && j.State != JobInterrupted && j.State != JobFailed) {
		return ""
	}
	return s.summary(j.RunID).Verdict
}
