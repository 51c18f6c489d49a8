package serve

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/campaign"
	"github.com/faultline/faultline/report"
	"github.com/faultline/faultline/store"
)

// testServer serves a copy of the fixture store. The invalid and valid runs
// get their report.html written; the others are served as they are.
type testServer struct {
	*httptest.Server
	srv   *Server
	store string
}

// newTestServer serves a copy of the fixture store; l, when not nil, runs
// the campaigns it queues.
func newTestServer(t *testing.T, l *fixtureLauncher) *testServer {
	t.Helper()
	storeDir := copyStore(t)
	return newTestServerOn(t, storeDir, l)
}

func newTestServerOn(t *testing.T, store string, l *fixtureLauncher) *testServer {
	t.Helper()
	for _, run := range []string{invalidRun, validRun} {
		if err := report.WriteRun(filepath.Join(store, run)); err != nil {
			t.Fatal(err)
		}
	}
	opt := ServerOptions{Store: store}
	if l != nil {
		opt.Launch, opt.run = true, l.run
	}
	return serveOn(t, opt)
}

// serveOn serves opt.Store with opt on an httptest server that the test's
// cleanup closes, shutting the queue down.
func serveOn(t *testing.T, opt ServerOptions) *testServer {
	t.Helper()
	s, err := NewServer(opt)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	return &testServer{Server: hs, srv: s, store: opt.Store}
}

type response struct {
	code   int
	header http.Header
	body   string
}

// get requests a raw path: the client does not clean it, so traversal
// attempts reach the server as written.
func (ts *testServer) get(t *testing.T, rawPath string) response {
	t.Helper()
	return ts.do(t, http.MethodGet, rawPath, "", "", nil)
}

func (ts *testServer) do(t *testing.T, method, rawPath, contentType, body string, header map[string]string) response {
	t.Helper()
	u, err := url.Parse(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, ts.URL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.URL = &url.URL{Scheme: u.Scheme, Host: u.Host, Opaque: rawPath}
	if i := strings.IndexByte(rawPath, '?'); i >= 0 {
		req.URL.Opaque, req.URL.RawQuery = rawPath[:i], rawPath[i+1:]
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
		if k == "Host" {
			req.Host = v
		}
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{code: resp.StatusCode, header: resp.Header, body: string(b)}
}

func (r response) wantCode(t *testing.T, code int, what string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("%s: status %d, want %d; body: %.300s", what, r.code, code, r.body)
	}
}

func (r response) wantBody(t *testing.T, what string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(r.body, w) {
			t.Errorf("%s: body lacks %q; body: %.500s", what, w, r.body)
		}
	}
}

// apiError decodes a JSON error and checks it names the field.
func (r response) wantFieldError(t *testing.T, code int, field, what string) {
	t.Helper()
	r.wantCode(t, code, what)
	var e struct{ Error, Field string }
	if err := json.Unmarshal([]byte(r.body), &e); err != nil {
		t.Fatalf("%s: error body is not JSON: %v: %s", what, err, r.body)
	}
	if e.Field != field || !strings.Contains(e.Error, field) {
		t.Errorf("%s: error names field %q (%q), want %q", what, e.Field, e.Error, field)
	}
}

func TestRunsPageListsEveryRunNewestFirst(t *testing.T) {
	ts := newTestServer(t, nil)
	r := ts.get(t, "/")
	r.wantCode(t, 200, "runs page")
	r.wantBody(t, "runs page",
		`data-id="register-partition/20261127T030000Z" data-verdict="invalid"`,
		`data-id="register-none/20261127T020000Z" data-verdict="valid"`,
		`data-id="append-all/20261127T040000Z" data-verdict="incomplete"`,
		`data-id="garbage/20261127T010000Z" data-verdict="incomplete"`,
		"1 stale-read", "partition,kill", "4s",
		`href="/download/register-partition/20261127T030000Z"`, `href="/files/register-partition/20261127T030000Z/"`)
	order := []string{"append-all/", "register-partition/", "register-none/", "garbage/"}
	last := -1
	for _, id := range order {
		i := strings.Index(r.body, `data-id="`+id)
		if i < last {
			t.Errorf("run %s is out of order (newest first)", id)
		}
		last = i
	}
	if !strings.Contains(r.body, "incomplete: running") {
		t.Error("the running run is not marked incomplete")
	}
}

func TestRunsPageFiltersAndPages(t *testing.T) {
	ts := newTestServer(t, nil)
	cases := []struct {
		query     string
		want, not []string
	}{
		{"/?verdict=invalid", []string{"register-partition/"}, []string{`data-id="register-none/`, `data-id="append-all/`}},
		{"/?verdict=valid", []string{"register-none/"}, []string{`data-id="register-partition/`}},
		{"/?verdict=incomplete", []string{`data-id="append-all/`, `data-id="garbage/`}, []string{`data-id="register-none/`}},
		{"/?name=NONE", []string{`data-id="register-none/`}, []string{`data-id="register-partition/`}},
		{"/?name=nothing-like-this", []string{"No runs match these filters"}, nil},
		{"/?per_page=1&page=2", []string{`data-id="register-partition/`, `rel="prev"`, `rel="next"`}, []string{`data-id="append-all/`}},
	}
	for _, c := range cases {
		r := ts.get(t, c.query)
		r.wantCode(t, 200, c.query)
		r.wantBody(t, c.query, c.want...)
		for _, n := range c.not {
			if strings.Contains(r.body, n) {
				t.Errorf("%s: should not show %q", c.query, n)
			}
		}
	}
}

func TestBadQueriesName400TheParameter(t *testing.T) {
	ts := newTestServer(t, nil)
	for _, c := range []struct{ query, field string }{
		{"?verdict=great", "verdict"},
		{"?page=0", "page"},
		{"?page=x", "page"},
		{"?per_page=1000", "per_page"},
		{"?name=" + strings.Repeat("n", 200), "name"},
	} {
		page := ts.get(t, "/"+c.query)
		page.wantCode(t, 400, "page "+c.query)
		page.wantBody(t, c.query, `data-field="`+c.field+`"`)
		ts.get(t, "/api/runs"+c.query).wantFieldError(t, 400, c.field, "api "+c.query)
	}
}

func TestRunReportIsServedOrBuiltOnTheFly(t *testing.T) {
	ts := newTestServer(t, nil)
	r := ts.get(t, "/runs/register-partition/20261127T030000Z/")
	r.wantCode(t, 200, "stored report")
	r.wantBody(t, "stored report", "NOT LINEARIZABLE", "&larr; all runs", `href="/files/register-partition/20261127T030000Z/"`)
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") {
		t.Errorf("report served without a sandbox CSP: %q", csp)
	}
	// Without report.html: built in memory, never written.
	os.Remove(filepath.Join(ts.store, validRun, "report.html"))
	r = ts.get(t, "/runs/register-none/20261127T020000Z/")
	r.wantCode(t, 200, "generated report")
	r.wantBody(t, "generated report", `data-verdict="valid"`)
	if r.header.Get("X-Faultline-Report") != "generated" {
		t.Error("a report built on the fly is not marked as generated")
	}
	if _, err := os.Stat(filepath.Join(ts.store, validRun, "report.html")); !errors.Is(err, os.ErrNotExist) {
		t.Error("serving wrote report.html into the store")
	}
	for _, run := range []string{incompleteRun, garbageRun} {
		r = ts.get(t, "/runs/"+run+"/")
		r.wantCode(t, 200, run)
		r.wantBody(t, run, "INCOMPLETE")
	}
	ts.get(t, "/runs/register-none/20261127T020000Z").wantCode(t, 301, "run without slash")
	ts.get(t, "/runs/register-none/19990101T000000Z/").wantCode(t, 404, "missing run")
}

func TestRunFilesAreBrowsable(t *testing.T) {
	ts := newTestServer(t, nil)
	base := "/runs/register-partition/20261127T030000Z/"
	r := ts.get(t, base+"history.jsonl")
	r.wantCode(t, 200, "history")
	if !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Errorf("history.jsonl served as %q", r.header.Get("Content-Type"))
	}
	r.wantBody(t, "history", `"partition-start"`)
	ts.get(t, base+"keys/k1.html").wantBody(t, "key view", "Porcupine view of k1")
	ts.get(t, base+"nodes").wantCode(t, 301, "directory without slash")
	r = ts.get(t, base+"nodes/")
	r.wantCode(t, 200, "nodes listing")
	r.wantBody(t, "nodes listing", `href="n1.log"`, `href="status.jsonl"`)
	r = ts.get(t, "/files/register-partition/20261127T030000Z/")
	r.wantCode(t, 200, "run listing")
	r.wantBody(t, "run listing", `href="campaign.json"`, `href="keys/"`, `href="nodes/"`, `href="report.html"`)
	ts.get(t, "/files/register-partition/20261127T030000Z/history.jsonl").wantCode(t, 302, "browse a file")
	ts.get(t, base+"nope.txt").wantCode(t, 404, "missing file")
}

func TestPathsAreConfinedToTheStore(t *testing.T) {
	ts := newTestServer(t, nil)
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.txt")
	if err := os.WriteFile(secret, []byte("TOP-SECRET"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(ts.store, invalidRun)
	if err := os.Symlink(secret, filepath.Join(run, "nodes", "evil.log")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(run, "escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(ts.store, "linked"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(ts.store, "linked", "20990101T000000Z")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(ts.store, "outlink")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		code int
	}{
		{"/runs/register-partition/20261127T030000Z/nodes/evil.log", 403},
		{"/runs/register-partition/20261127T030000Z/escape/secret.txt", 403},
		{"/files/register-partition/20261127T030000Z/escape/", 403},
		{"/runs/linked/20990101T000000Z/", 403},
		{"/runs/outlink/secret.txt/", 403},
		{"/download/linked/20990101T000000Z", 403},
		{"/runs/register-partition/20261127T030000Z/..%2F..%2F..%2Fsecret.txt", 400},
		{"/runs/register-partition/20261127T030000Z/%2e%2e/%2e%2e/x", 400},
		{"/runs/%2e%2e/20261127T030000Z/", 400},
		{"/runs/register-partition/..%2F..%2F/", 400},
		{"/runs/register-partition/20261127T030000Z/%2Fetc%2Fpasswd", 400},
		{"/runs/register-partition/20261127T030000Z/nodes/.hidden", 400},
		{"/api/runs/%2e%2e/x", 400},
	} {
		r := ts.get(t, c.path)
		if r.code != c.code {
			t.Errorf("%s: status %d, want %d (%.200s)", c.path, r.code, c.code, r.body)
		}
		if strings.Contains(r.body, "TOP-SECRET") || strings.Contains(r.body, "root:") {
			t.Fatalf("%s leaked a file from outside the store", c.path)
		}
	}
	// The listing shows the symlink but never follows it, and the runs
	// table does not list the linked run.
	r := ts.get(t, "/runs/register-partition/20261127T030000Z/nodes/")
	r.wantBody(t, "listing", "evil.log")
	if strings.Contains(r.body, `href="evil.log"`) {
		t.Error("listing links a symlink")
	}
	if runs := ts.get(t, "/"); strings.Contains(runs.body, "linked/") || strings.Contains(runs.body, "outlink") {
		t.Error("runs table lists a symlinked run")
	}
	// ... and the tarball leaves the symlinks out.
	names := tarNames(t, ts.get(t, "/download/register-partition/20261127T030000Z").body)
	for _, n := range names {
		if strings.Contains(n, "evil") || strings.Contains(n, "escape") {
			t.Errorf("tarball holds symlink %s", n)
		}
	}
}

func tarNames(t *testing.T, body string) []string {
	t.Helper()
	gz, err := gzip.NewReader(strings.NewReader(body))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	tr := tar.NewReader(gz)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatalf("bad tar: %v", err)
		}
		names = append(names, h.Name)
	}
}

func TestDownloadIsATarGzOfTheRun(t *testing.T) {
	ts := newTestServer(t, nil)
	r := ts.get(t, "/download/register-partition/20261127T030000Z")
	r.wantCode(t, 200, "download")
	if cd := r.header.Get("Content-Disposition"); !strings.Contains(cd, `register-partition-20261127T030000Z.tar.gz`) {
		t.Errorf("Content-Disposition %q", cd)
	}
	names := strings.Join(tarNames(t, r.body), "\n")
	for _, want := range []string{
		"register-partition-20261127T030000Z/campaign.json", "register-partition-20261127T030000Z/history.jsonl",
		"register-partition-20261127T030000Z/report.html", "register-partition-20261127T030000Z/junit.xml",
		"register-partition-20261127T030000Z/nodes/n1.log", "register-partition-20261127T030000Z/keys/k1.html",
	} {
		if !strings.Contains(names, want) {
			t.Errorf("tarball lacks %s; has:\n%s", want, names)
		}
	}
	ts.get(t, "/download/nope/nope").wantCode(t, 404, "download of a missing run")
}

func TestAPIRuns(t *testing.T) {
	ts := newTestServer(t, nil)
	r := ts.get(t, "/api/runs")
	r.wantCode(t, 200, "api runs")
	var page runPage
	if err := json.Unmarshal([]byte(r.body), &page); err != nil {
		t.Fatal(err)
	}
	if page.Total != 4 || len(page.Runs) != 4 {
		t.Fatalf("api runs: total %d, %d runs; want 4", page.Total, len(page.Runs))
	}
	byID := map[string]RunSummary{}
	for _, run := range page.Runs {
		byID[run.ID] = run
	}
	inv := byID[invalidRun]
	if inv.Verdict != "invalid" || inv.AnomalyCounts["stale-read"] != 1 || inv.Workload != "register" || inv.Duration != "4s" || inv.Incomplete {
		t.Errorf("invalid run summary: %+v", inv)
	}
	if g := byID[garbageRun]; !g.Incomplete || len(g.Problems) == 0 {
		t.Errorf("garbage run summary: %+v", g)
	}
	r = ts.get(t, "/api/runs?verdict=valid&per_page=1")
	if err := json.Unmarshal([]byte(r.body), &page); err != nil {
		t.Fatal(err)
	}
	if page.Total != 1 || page.Runs[0].ID != validRun {
		t.Errorf("filtered api runs: %+v", page)
	}

	r = ts.get(t, "/api/runs/register-partition/20261127T030000Z")
	r.wantCode(t, 200, "api run")
	var d struct {
		Run      RunSummary
		Campaign map[string]any
		Results  struct {
			Valid     any
			Anomalies []map[string]any
		}
		Files []fileInfo
	}
	if err := json.Unmarshal([]byte(r.body), &d); err != nil {
		t.Fatal(err)
	}
	if d.Results.Valid != false || len(d.Results.Anomalies) != 1 || d.Campaign["name"] != "register-partition" || len(d.Files) < 8 {
		t.Errorf("api run detail: %+v", d)
	}
	ts.get(t, "/api/runs/nope/nope").wantFieldError(t, 404, "run", "missing run")
	ts.get(t, "/api/nothing").wantFieldError(t, 404, "path", "unknown api")
}

func TestLaunchValidationNamesTheField(t *testing.T) {
	ts := newTestServer(t, newFixtureLauncher(t))
	for _, c := range []struct{ body, field string }{
		{`{"nodes": 0.5}`, "nodes"},
		{`{"nodes": 100}`, "nodes"},
		{`{"nodes": 1}`, "nodes"}, // the form once took 1-9 nodes and the campaign then failed
		{`{"concurrency": 1001}`, "concurrency"},
		{`{"duration": "forever"}`, "duration"},
		{`{"duration": "1ms"}`, "duration"},
		{`{"workload": "queue"}`, "workload"},
		{`{"concurrency": -1}`, "concurrency"},
		{`{"rate": -5}`, "rate"},
		{`{"keys": "many"}`, "keys"},
		{`{"nemesis": "partition,earthquake"}`, "nemesis"},
		{`{"interval": "1ns"}`, "interval"},
		{`{"seed": "x"}`, "seed"},
		{`{"read": "dirty"}`, "read"},
		{`{"read_mode": "quorum"}`, "read_mode"},
		{`{"bugs": ["no-such-bug"]}`, "bugs"},
		{`{"name": "../etc"}`, "name"},
		{`{"runtime": "vm"}`, "runtime"},
		{`{"colour": "blue"}`, "colour"},
		{`{"nodes": true}`, "nodes"},
		{`[1,2]`, "body"},
		{`{"nodes": 3`, "body"},
	} {
		ts.do(t, "POST", "/api/campaigns", "application/json", c.body, nil).wantFieldError(t, 400, c.field, c.body)
	}
	ts.do(t, "POST", "/api/campaigns", "text/plain", `{}`, nil).wantFieldError(t, 415, "Content-Type", "text body")

	r := ts.do(t, "POST", "/launch", "application/x-www-form-urlencoded", "nodes=three&duration=10s", nil)
	r.wantCode(t, 400, "bad form")
	r.wantBody(t, "bad form", `data-field="nodes"`, "nodes: want an integer", `id="launch-form"`,
		`id="nodes" name="nodes" type="number" min="3" max="15" value="three" class="bad-field"`, `value="10s"`)
	r = ts.do(t, "POST", "/launch", "application/x-www-form-urlencoded", "duration=10", nil)
	r.wantCode(t, 400, "unitless duration")
	r.wantBody(t, "unitless duration", `data-field="duration"`)
	ts.get(t, "/api/campaigns/c99").wantFieldError(t, 404, "id", "unknown campaign")
	ts.get(t, "/api/campaigns/99").wantFieldError(t, 400, "id", "malformed campaign id")
	ts.get(t, "/campaigns/zzz").wantCode(t, 400, "malformed campaign page")
}

func TestLaunchedCampaignsRunOneAtATimeAndLinkTheirReports(t *testing.T) {
	storeDir := copyStore(t)
	l := newFixtureLauncher(t)
	l.gate = make(chan struct{})
	ts := newTestServerOn(t, storeDir, l)

	var ids []string
	for i, body := range []string{
		`{"name": "adhoc-a", "nodes": 3, "duration": "5s", "nemesis": "partition,kill", "bugs": "stale-local-read"}`,
		`{"name": "adhoc-b", "duration": 2000000000}`,
	} {
		r := ts.do(t, "POST", "/api/campaigns", "application/json", body, nil)
		r.wantCode(t, 202, "launch")
		var j JobView
		if err := json.Unmarshal([]byte(r.body), &j); err != nil {
			t.Fatal(err)
		}
		if j.ID == "" || (j.State != JobQueued && j.State != JobRunning) {
			t.Fatalf("launch %d: %+v", i, j)
		}
		ids = append(ids, j.ID)
	}
	// The form queues a third, and redirects to its page.
	r := ts.do(t, "POST", "/launch", "application/x-www-form-urlencoded", "name=adhoc-c&nodes=3&duration=3s&bugs=no-dedup", nil)
	r.wantCode(t, 303, "form launch")
	if loc := r.header.Get("Location"); loc != "/campaigns/c3" {
		t.Fatalf("form launch redirects to %q", loc)
	}
	ids = append(ids, "c3")

	// The first campaign is mid-run: its progress comes from the campaign's
	// recorder, read safely by concurrent viewers.
	first := <-l.wrote
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 5; k++ {
				if v, ok := ts.srv.queue.view(ids[0]); !ok || v.ID != ids[0] {
					t.Errorf("concurrent view: %+v", v)
				}
			}
		}()
	}
	wg.Wait()
	j := waitJob(t, ts, ids[0], func(j JobView) bool { return j.Progress.Ok > 0 })
	if j.State != JobRunning || j.Progress.Ok != 12 || j.Progress.Fail != 3 || j.RunID == "" {
		t.Errorf("running campaign: %+v", j)
	}
	if second := waitJob(t, ts, ids[1], nil); second.State != JobQueued || second.Position != 1 {
		t.Errorf("second campaign should wait first in the queue: %+v", second)
	}
	page := ts.get(t, "/campaigns/"+ids[0])
	page.wantCode(t, 200, "campaign page")
	page.wantBody(t, "campaign page", `data-state="running"`, "checker run --system raftd --runtime auto", "--name adhoc-a")
	ts.get(t, "/").wantBody(t, "runs page", "Campaigns in progress", ids[0])
	close(l.gate)

	for _, id := range ids {
		j := waitJob(t, ts, id, func(j JobView) bool { return j.State != JobQueued && j.State != JobRunning })
		if j.State != JobDone || j.Verdict != "invalid" || !strings.HasPrefix(j.ReportURL, "/runs/adhoc-") {
			t.Errorf("finished campaign %s: %+v", id, j)
		}
		ts.get(t, j.ReportURL).wantBody(t, "launched run's report", "NOT LINEARIZABLE")
	}
	if l.maxRunning != 1 {
		t.Errorf("%d campaigns ran at once; want one at a time", l.maxRunning)
	}
	if strings.Join(l.names, ",") != "adhoc-a,adhoc-b,adhoc-c" {
		t.Errorf("campaigns ran in order %v", l.names)
	}
	if _, err := os.Stat(filepath.Join(first, "report.html")); err != nil {
		t.Errorf("the launched run has no report: %v", err)
	}
	list := ts.get(t, "/api/campaigns")
	list.wantBody(t, "campaign list", `"id": "c1"`, `"id": "c3"`, `"verdict": "invalid"`)
	ts.get(t, "/campaigns").wantBody(t, "campaigns page", "/campaigns/c1", "adhoc-b")
}

// TestKindModeNemesisWithoutANameLaunches: the default name of
// "partition:isolate-leader" once kept the ':' and the launch was refused
// over a name the user never typed.
func TestKindModeNemesisWithoutANameLaunches(t *testing.T) {
	l := newFixtureLauncher(t)
	ts := newTestServer(t, l)
	r := ts.do(t, "POST", "/api/campaigns", "application/json", `{"nemesis": "partition:isolate-leader", "name": ""}`, nil)
	r.wantCode(t, 202, "kind:mode launch")
	r = ts.do(t, "POST", "/launch", "application/x-www-form-urlencoded", "nemesis=partition%3Aisolate-leader&name=", nil)
	r.wantCode(t, 303, "kind:mode form launch")
	for _, id := range []string{"c1", "c2"} {
		j := waitJob(t, ts, id, func(j JobView) bool { return j.State != JobQueued && j.State != JobRunning })
		if j.State != JobDone || !strings.HasPrefix(j.RunID, "register-partition_isolate-leader/") {
			t.Errorf("kind:mode campaign %s: %+v", id, j)
		}
	}
}

func waitJob(t *testing.T, ts *testServer, id string, done func(JobView) bool) JobView {
	t.Helper()
	return waitJobFor(t, ts, id, 30*time.Second, done)
}

func waitJobFor(t *testing.T, ts *testServer, id string, bound time.Duration, done func(JobView) bool) JobView {
	t.Helper()
	deadline := time.Now().Add(bound)
	for {
		r := ts.get(t, "/api/campaigns/"+id)
		r.wantCode(t, 200, "campaign "+id)
		var j JobView
		if err := json.Unmarshal([]byte(r.body), &j); err != nil {
			t.Fatal(err)
		}
		if done == nil || done(j) {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("campaign %s never reached the wanted state: %+v", id, j)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestShutdownInterruptsTheRunningCampaign(t *testing.T) {
	storeDir := copyStore(t)
	l := newFixtureLauncher(t)
	l.gate = make(chan struct{}) // never opened: the campaign runs until cancelled
	s, err := NewServer(ServerOptions{Store: storeDir, Launch: true, run: l.run})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()
	ts := &testServer{Server: hs, srv: s, store: storeDir}
	ts.do(t, "POST", "/api/campaigns", "application/json", `{"name":"long-one"}`, nil).wantCode(t, 202, "launch")
	ts.do(t, "POST", "/api/campaigns", "application/json", `{"name":"never-runs"}`, nil).wantCode(t, 202, "launch")
	dir := <-l.wrote
	j := waitJob(t, ts, "c1", func(j JobView) bool { return j.Progress.Phase != "" })
	if j.Progress.Phase != campaign.PhaseRunning || j.Progress.Percent != 50 {
		t.Errorf("progress from the campaign's callback: %+v", j.Progress)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if j := waitJob(t, ts, "c1", nil); j.State != JobInterrupted {
		t.Errorf("running campaign after shutdown: %s", j.State)
	}
	if j := waitJob(t, ts, "c2", nil); j.State != JobCancelled {
		t.Errorf("queued campaign after shutdown: %s", j.State)
	}
	c, err := store.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != store.StatusInterrupted {
		t.Errorf("run left with status %q, want interrupted", c.Status)
	}
	ts.do(t, "POST", "/api/campaigns", "application/json", `{}`, nil).wantFieldError(t, 503, "launch", "launch after shutdown")
}

func TestWithoutALauncherLaunchingIsRefused(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.do(t, "POST", "/api/campaigns", "application/json", `{}`, nil).wantFieldError(t, 503, "launch", "no launcher")
	ts.do(t, "POST", "/launch", "application/x-www-form-urlencoded", "nodes=3", nil).wantCode(t, 503, "no launcher form")
	r := ts.get(t, "/api/campaigns")
	r.wantBody(t, "campaign list", `"launching": false`)
	r = ts.get(t, "/launch")
	r.wantCode(t, 200, "launch form")
	r.wantBody(t, "launch form", `id="disabled"`, `<button type="submit" disabled>`, `id="duration" name="duration" value="1m0s"`,
		`<option selected>register</option>`, `value="stale-local-read"`)
}

func TestCrossOriginAndForeignHostsAreRefused(t *testing.T) {
	ts := newTestServer(t, newFixtureLauncher(t))
	r := ts.do(t, "POST", "/api/campaigns", "application/json", `{}`, map[string]string{"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"})
	r.wantFieldError(t, 403, "Origin", "cross-site launch")
	r = ts.do(t, "POST", "/launch", "application/x-www-form-urlencoded", "nodes=3", map[string]string{"Sec-Fetch-Site": "cross-site"})
	r.wantCode(t, 403, "cross-site form")
	r = ts.do(t, "GET", "/api/runs", "", "", map[string]string{"Host": "evil.example"})
	r.wantFieldError(t, 403, "Host", "rebound host")
	ts.do(t, "GET", "/api/runs", "", "", map[string]string{"Host": "localhost:8080"}).wantCode(t, 200, "localhost host")
}

func TestNewServerOptions(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		opt  ServerOptions
		want string
	}{
		{ServerOptions{}, "--store"},
		{ServerOptions{Store: dir, Addr: "8080"}, "--addr"},
		{ServerOptions{Store: dir, Addr: "example.com:80"}, "--addr"},
		{ServerOptions{Store: dir, Addr: "127.0.0.1:"}, "--addr"},
	} {
		if _, err := NewServer(c.opt); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewServer(%+v): %v, want an error naming %s", c.opt, err, c.want)
		}
	}
	s, err := NewServer(ServerOptions{Store: filepath.Join(dir, "new-store")})
	if err != nil {
		t.Fatal(err)
	}
	if s.opt.Addr != DefaultAddr || !s.loopback {
		t.Errorf("default address %q (loopback %v)", s.opt.Addr, s.loopback)
	}
	// An empty store lists no runs, without error.
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()
	ts := &testServer{Server: hs, srv: s}
	ts.get(t, "/").wantBody(t, "empty store", "No runs yet")
	_ = s.Shutdown(context.Background())
}

func TestServeListensOnLoopback(t *testing.T) {
	s, err := NewServer(ServerOptions{Store: t.TempDir(), Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.ListenAndServe() }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Shutdown may race the listener's start; both orders must end Serve.
	for {
		s.mu.Lock()
		started := s.http != nil
		s.mu.Unlock()
		if started {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("ListenAndServe after Shutdown: %v", err)
	}
}

// Sweeps live in the store's sweeps/ namespace: listed apart, never as an
// incomplete run, and their page is served.
func TestSweepsAreListedApartFromRuns(t *testing.T) {
	storeDir := copyStore(t)
	dir, err := store.CreateSweep(storeDir, time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, store.ReportFile), []byte("<html><body>sweep matrix page</body></html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := store.PointSweepLatest(storeDir, dir); err != nil {
		t.Fatal(err)
	}
	ts := newTestServerOn(t, storeDir, nil)
	api := ts.get(t, "/api/runs?per_page=200")
	if strings.Contains(api.body, `"sweeps`) {
		t.Errorf("a sweep is listed among the runs: %s", api.body)
	}
	ts.get(t, "/").wantBody(t, "runs page", `id="sweeps"`, `href="/runs/sweeps/20261127T050000Z/"`)
	ts.get(t, "/runs/sweeps/20261127T050000Z/").wantBody(t, "sweep page", "sweep matrix page")
}

// A run left running by a checker that is gone (killed with SIGKILL) is
// listed as abandoned, not running.
func TestRunOfAGoneOwnerIsAbandoned(t *testing.T) {
	storeDir := copyStore(t)
	child := exec.Command("sleep", "60")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	owner, err := store.OwnerOf(child.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	child.Process.Kill()
	child.Wait()
	dir, stamp, err := store.CreateRun(storeDir, "killed", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := store.WriteManifest(dir, store.Manifest{Name: "killed", Timestamp: stamp, Status: store.StatusRunning, Owner: &owner}); err != nil {
		t.Fatal(err)
	}
	ts := newTestServerOn(t, storeDir, nil)
	r := ts.get(t, "/api/runs?name=killed")
	var page runPage
	if err := json.Unmarshal([]byte(r.body), &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Runs) != 1 || page.Runs[0].Status != store.StatusAbandoned || !page.Runs[0].Incomplete {
		t.Errorf("run of a gone owner: %+v", page.Runs)
	}
}
