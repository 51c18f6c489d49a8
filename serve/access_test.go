package serve

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/store"
)

// serverWith serves a copy of the fixture store with opt (Store is set).
func serverWith(t *testing.T, opt ServerOptions) *testServer {
	t.Helper()
	opt.Store = copyStore(t)
	return serveOn(t, opt)
}

func TestReadOnlyHidesLaunching(t *testing.T) {
	ts := serverWith(t, ServerOptions{Launch: true, ReadOnly: true, run: newFixtureLauncher(t).run})
	ts.get(t, "/launch").wantCode(t, 404, "launch form")
	ts.do(t, "POST", "/api/campaigns", "application/json", `{}`, nil).wantFieldError(t, 403, "read-only", "API launch")
	ts.do(t, "POST", "/launch", "application/x-www-form-urlencoded", "nodes=3", nil).wantCode(t, 403, "form launch")
	ts.do(t, "DELETE", "/api/campaigns/c1", "", "", nil).wantFieldError(t, 403, "read-only", "API cancel")
	r := ts.get(t, "/")
	r.wantCode(t, 200, "runs page")
	if strings.Contains(r.body, `href="/launch"`) {
		t.Error("the runs page links the launch form in read-only mode")
	}
	ts.get(t, "/api/runs").wantCode(t, 200, "runs API")
}

func TestTokenIsRequiredBeyondLoopback(t *testing.T) {
	dir := t.TempDir()
	_, err := NewServer(ServerOptions{Store: dir, Addr: "0.0.0.0:8080", Launch: true})
	if err == nil || !strings.Contains(err.Error(), "--addr 0.0.0.0:8080 is reachable beyond this machine") || !strings.Contains(err.Error(), TokenEnv) {
		t.Fatalf("0.0.0.0 without a token: %v", err)
	}
	if _, err := NewServer(ServerOptions{Store: dir, Addr: "0.0.0.0:8080", Token: "short"}); err == nil || !strings.Contains(err.Error(), "--token") {
		t.Fatalf("a short token: %v", err)
	}
	s, err := NewServer(ServerOptions{Store: dir, Addr: "0.0.0.0:8080", Token: "a-long-enough-secret"})
	if err != nil {
		t.Fatalf("0.0.0.0 with a token: %v", err)
	}
	s.Shutdown(context.Background())
}

func TestTokenGuardsEveryRequestButHealth(t *testing.T) {
	const token = "s3cret-token-for-tests"
	var logs syncBuffer
	ts := serverWith(t, ServerOptions{Addr: "0.0.0.0:0", Token: token, Launch: true, run: newFixtureLauncher(t).run,
		Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	for _, path := range []string{"/", "/api/runs", "/metrics", "/launch", "/runs/" + validRun + "/"} {
		r := ts.get(t, path)
		r.wantCode(t, 401, "no token: "+path)
		if r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", path)
		}
	}
	ts.do(t, "POST", "/api/campaigns", "application/json", `{}`, nil).wantCode(t, 401, "launch without a token")
	ts.do(t, "GET", "/api/runs", "", "", map[string]string{"Authorization": "Bearer wrong-token-wrong-token"}).wantCode(t, 401, "wrong token")
	wrong := ts.get(t, "/?token=guess-guess-guess")
	wrong.wantCode(t, 401, "wrong token in the URL")
	if strings.Contains(wrong.body, "guess-guess") {
		t.Error("the 401 page shows the token that was tried")
	}
	ts.get(t, "/healthz").wantCode(t, 200, "health without a token")

	bearer := map[string]string{"Authorization": "Bearer " + token}
	ts.do(t, "GET", "/api/runs", "", "", bearer).wantCode(t, 200, "API with the token")
	ts.do(t, "GET", "/metrics", "", "", bearer).wantCode(t, 200, "metrics with the token")

	// A browser presents it once in the URL: it gets a cookie and the same
	// page without the token.
	r := ts.get(t, "/?verdict=invalid&token="+token)
	r.wantCode(t, 303, "token in the URL")
	if loc := r.header.Get("Location"); loc != "/?verdict=invalid" {
		t.Errorf("redirected to %q, want the URL without the token", loc)
	}
	cookie := r.header.Get("Set-Cookie")
	if !strings.Contains(cookie, tokenCookie+"=") || !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Strict") {
		t.Errorf("cookie %q", cookie)
	}
	page := ts.do(t, "GET", "/", "", "", map[string]string{"Cookie": tokenCookie + "=" + token})
	page.wantCode(t, 200, "page with the cookie")
	if strings.Contains(page.body, token) {
		t.Error("a page shows the token")
	}
	if strings.Contains(logs.String(), token) {
		t.Errorf("the token is in the logs:\n%s", logs.String())
	}
}

// syncBuffer is a log sink the server's goroutines may write concurrently.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestHealthz(t *testing.T) {
	ts := newTestServer(t, newFixtureLauncher(t))
	r := ts.get(t, "/healthz")
	r.wantCode(t, 200, "healthz")
	r.wantBody(t, "healthz", `"status": "ok"`)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ts.srv.queue.shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	ts.get(t, "/healthz").wantCode(t, 503, "healthz while shutting down")
}

func TestCancelARunningAndAQueuedCampaign(t *testing.T) {
	l := newFixtureLauncher(t)
	l.gate = make(chan struct{}) // never opened: the campaign runs until cancelled
	ts := newTestServer(t, l)
	ts.do(t, "POST", "/api/campaigns", "application/json", `{"name":"long-one"}`, nil).wantCode(t, 202, "launch")
	ts.do(t, "POST", "/api/campaigns", "application/json", `{"name":"waits"}`, nil).wantCode(t, 202, "launch")
	dir := <-l.wrote
	waitJob(t, ts, "c1", func(j JobView) bool { return j.State == JobRunning && j.Progress.Phase != "" })

	// The queued one first: it will never run.
	ts.do(t, "DELETE", "/api/campaigns/c2", "", "", nil).wantCode(t, 202, "cancel queued")
	if j := waitJob(t, ts, "c2", nil); j.State != JobCancelled {
		t.Errorf("queued campaign after cancel: %s", j.State)
	}
	ts.do(t, "DELETE", "/api/campaigns/c1", "", "", nil).wantCode(t, 202, "cancel running")
	j := waitJob(t, ts, "c1", func(j JobView) bool { return j.State != JobRunning })
	if j.State != JobCancelled {
		t.Fatalf("running campaign after cancel: %+v", j)
	}
	m, err := store.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != store.StatusInterrupted {
		t.Errorf("cancelled run has status %q, want interrupted", m.Status)
	}
	// The queue goes on: a new campaign runs, c2 never did.
	l.gate = nil
	ts.do(t, "POST", "/api/campaigns", "application/json", `{"name":"after"}`, nil).wantCode(t, 202, "launch after cancel")
	waitJob(t, ts, "c3", func(j JobView) bool { return j.State == JobDone || j.State == JobFailed })
	l.mu.Lock()
	names := strings.Join(l.names, ",")
	l.mu.Unlock()
	if names != "long-one,after" {
		t.Errorf("campaigns run: %s, want long-one,after", names)
	}
	ts.do(t, "DELETE", "/api/campaigns/c1", "", "", nil).wantFieldError(t, 409, "id", "cancel an ended campaign")
	ts.do(t, "DELETE", "/api/campaigns/c99", "", "", nil).wantFieldError(t, 404, "id", "cancel an unknown campaign")
	ts.do(t, "DELETE", "/api/campaigns/x", "", "", map[string]string{"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}).wantCode(t, 403, "cross-site cancel")
}

func TestMetrics(t *testing.T) {
	l := newFixtureLauncher(t)
	ts := newTestServer(t, l)
	ts.do(t, "POST", "/api/campaigns", "application/json", `{"name":"metered"}`, nil).wantCode(t, 202, "launch")
	waitJob(t, ts, "c1", func(j JobView) bool { return j.State == JobDone || j.State == JobFailed })
	r := ts.get(t, "/metrics")
	r.wantCode(t, 200, "metrics")
	r.wantBody(t, "metrics",
		`faultline_runs{name="register-partition",verdict="invalid"} 1`,
		`faultline_runs{name="register-none",verdict="valid"} 1`,
		`faultline_anomalies{kind="stale-read"}`,
		`faultline_last_verdict{name="register-partition",verdict="invalid"} 1`,
		`faultline_last_verdict{name="register-partition",verdict="valid"} 0`,
		`faultline_queue_depth 0`,
		`faultline_campaign_duration_seconds_count{state="done"} 1`,
		`faultline_last_run_timestamp_seconds{name="register-none"}`,
	)
}

func TestRunsPageShowsTrends(t *testing.T) {
	ts := newTestServer(t, nil)
	r := ts.get(t, "/")
	r.wantCode(t, 200, "runs page")
	r.wantBody(t, "runs page", `id="trends"`, `data-name="register-partition"`, `class="dot verdict-invalid" href="/runs/register-partition/`)
}
