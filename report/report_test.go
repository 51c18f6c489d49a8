package report

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/faultline/faultline/internal/benchmeasure"
	"github.com/faultline/faultline/report/junit"
)

func TestWriteRunInvalidRunExplainsTheStaleRead(t *testing.T) {
	store := copyStore(t)
	dir := filepath.Join(store, invalidRun)
	if err := WriteRun(dir); err != nil {
		t.Fatal(err)
	}
	page := readFile(t, filepath.Join(dir, "report.html"))
	for _, want := range []string{
		`data-verdict="invalid"`, "NOT LINEARIZABLE",
		// the anomaly in plain language, linking the ops and the key view
		"read of k1 at 2.15 s on n1 returned 1; write 5 was acknowledged at 1.90 s, 0.25 s before the read began",
		`href="keys/k1.html"`, `href="#op-8"`, `href="#op-7"`, `id="op-8"`, `id="op-7"`, "stale by 250 ms",
		// settings, seed and the reproduce command
		"partition,kill", "<td>duration</td><td>4s</td>", "seed 42",
		"checker run --runtime process --nodes 3 --duration 4s",
		// per-node facts and log links
		`href="nodes/n1.log"`, `href="nodes/n2.log"`, "n2: 5 role or term changes",
		// availability and recovery after each heal
		"<td>partition</td><td>2.50 s</td><td>140 ms</td>", "<td>kill</td><td>3.40 s</td><td>60 ms</td>",
		// the story in a few sentences
		"16 operations by 4 client processes on 2 keys", "1× partition, 1× kill",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	for _, id := range []string{"plot-latency", "plot-throughput", "plot-availability", "plot-roles"} {
		if !regexp.MustCompile(`<figure class="plot" id="` + id + `">\s*<svg width="100%"`).MatchString(page) {
			t.Errorf("report.html lacks the SVG figure %s", id)
		}
	}
	if !strings.Contains(page, "LogScale") && !strings.Contains(page, ">1000<") {
		t.Errorf("latency plot should have log-scale tick labels (1000)")
	}
	assertSelfContained(t, page)
}

// assertSelfContained fails when a page would load anything from a network.
func assertSelfContained(t *testing.T, page string) {
	t.Helper()
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`(?i)<script[^>]+src=`),
		regexp.MustCompile(`(?i)<link[^>]+href=`),
		regexp.MustCompile(`(?i)<img[^>]+src="?https?:`),
		regexp.MustCompile(`(?i)@import`),
		regexp.MustCompile(`(?i)url\(\s*['"]?https?:`),
		regexp.MustCompile(`(?i)(src|href)="(https?:)?//`),
	} {
		if m := bad.FindString(page); m != "" {
			t.Errorf("page loads from outside: %q", m)
		}
	}
}

func TestWriteRunValidRun(t *testing.T) {
	store := copyStore(t)
	dir := filepath.Join(store, validRun)
	if err := WriteRun(dir); err != nil {
		t.Fatal(err)
	}
	page := readFile(t, filepath.Join(dir, "report.html"))
	for _, want := range []string{`data-verdict="valid"`, "LINEARIZABLE", "None: the history is linearizable.", "No fault was injected."} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if strings.Contains(page, "NOT LINEARIZABLE") {
		t.Error("a valid run is reported as not linearizable")
	}
	suites := readJUnit(t, filepath.Join(dir, "junit.xml"))
	if suites.Failures != 0 || suites.Errors != 0 {
		t.Errorf("valid run: junit has %d failures, %d errors", suites.Failures, suites.Errors)
	}
}

func TestWriteRunIncompleteRunsAreReportedNotFatal(t *testing.T) {
	store := copyStore(t)
	for _, run := range []string{incompleteRun, garbageRun} {
		dir := filepath.Join(store, run)
		if err := WriteRun(dir); err != nil {
			t.Fatalf("%s: %v", run, err)
		}
		page := readFile(t, filepath.Join(dir, "report.html"))
		if !strings.Contains(page, `data-verdict="incomplete"`) || !strings.Contains(page, "This run is incomplete") {
			t.Errorf("%s: report does not say the run is incomplete", run)
		}
		suites := readJUnit(t, filepath.Join(dir, "junit.xml"))
		if suites.Errors == 0 {
			t.Errorf("%s: junit.xml has no error for an incomplete run", run)
		}
	}
	page := readFile(t, filepath.Join(store, incompleteRun, "report.html"))
	for _, want := range []string{
		"history.jsonl:5: half-written last line ignored",
		"nodes/status.jsonl:2: half-written last line ignored",
		"results.json is missing",
		"The campaign is still running",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("incomplete report lacks %q", want)
		}
	}
	garbage := readFile(t, filepath.Join(store, garbageRun, "report.html"))
	if !strings.Contains(garbage, "campaign.json:") {
		t.Error("broken campaign.json is not named in the report")
	}
}

func TestWriteRunFailsOnlyWhenItCannotWrite(t *testing.T) {
	if err := WriteRun(filepath.Join(t.TempDir(), "missing", "dir")); err == nil {
		t.Fatal("WriteRun into a missing directory should fail")
	}
}

// TestLongHistoryKeepsThePageSmall: a history three times the timeline's cap
// gives a bounded page, with a sampled timeline that keeps the anomaly's
// ops. (BenchmarkWriteRunMillion measures a million operations.)
func TestLongHistoryKeepsThePageSmall(t *testing.T) {
	dir := t.TempDir()
	const ops = 3 * maxTimelineOps
	writeSyntheticRun(t, dir, ops)
	if err := WriteRun(dir); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > 3<<20 {
		t.Errorf("report.html is %d bytes for %d operations; want at most 3 MiB", fi.Size(), ops)
	}
	page := readFile(t, filepath.Join(dir, "report.html"))
	if !strings.Contains(page, "the timeline shows an even sample of") {
		t.Error("a sampled timeline should say so")
	}
	if !strings.Contains(page, fmt.Sprintf(`id="op-%d"`, ops/2)) {
		t.Error("the operation named by the anomaly is missing from the page")
	}
}

func readJUnit(t *testing.T, path string) junit.Suites {
	t.Helper()
	var s junit.Suites
	if err := xml.Unmarshal([]byte(readFile(t, path)), &s); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return s
}

// writeSyntheticRun writes a history of n register reads over 50 keys by 8
// processes (1% failing, a partition every 6,000 operations) and a
// results.json naming the middle operation as a stale read. It returns the
// history line of that operation's invocation.
func writeSyntheticRun(t testing.TB, dir string, n int) int {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "history.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	line, flaggedLine := 0, -1
	for i := 0; i < n; i++ {
		start := int64(i) * 1000000
		p := i % 8
		if i == n/2 {
			flaggedLine = line
		}
		fmt.Fprintf(w, `{"time":%d,"process":%d,"type":"invoke","f":"read","key":"k%d","value":null}`+"\n", start, p, i%50)
		outcome := "ok"
		if i%97 == 0 {
			outcome = "fail"
		}
		fmt.Fprintf(w, `{"time":%d,"process":%d,"type":"%s","f":"read","key":"k%d","value":%d,"node":"n1"}`+"\n", start+700000, p, outcome, i%50, i)
		line += 2
		switch i % 6000 {
		case 3000:
			fmt.Fprintf(w, `{"time":%d,"process":"nemesis","type":"info","f":"partition-start","value":null}`+"\n", start+800000)
			line++
		case 4500:
			fmt.Fprintf(w, `{"time":%d,"process":"nemesis","type":"info","f":"partition-end","value":null}`+"\n", start+800000)
			line++
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	results := fmt.Sprintf(`{"valid":false,"workload":"register","anomalies":[{"kind":"stale-read","key":"k0","explanation":"planted","events":[%d],"time":0}],"anomaly_counts":{"stale-read":1},"keys":[],"stats":{"ops":%d}}`, flaggedLine, n)
	if err := os.WriteFile(filepath.Join(dir, "results.json"), []byte(results), 0o644); err != nil {
		t.Fatal(err)
	}
	return flaggedLine
}

// BenchmarkWriteRunMillion times WriteRun on a 1,000,000-operation history
// (2 million lines) and reports the page size, the CPU seconds and the peak
// Go heap of WriteRun (live and unswept objects sampled every 2 ms after a
// GC, as check's benchmarks measure the check):
//
//	go test ./report -run X -bench WriteRunMillion -benchtime 1x
func BenchmarkWriteRunMillion(b *testing.B) {
	dir := b.TempDir()
	writeSyntheticRun(b, dir, 1000000)
	stop := benchmeasure.Start(b)
	for i := 0; i < b.N; i++ {
		if err := WriteRun(dir); err != nil {
			b.Fatal(err)
		}
	}
	stop()
	if fi, err := os.Stat(filepath.Join(dir, "report.html")); err == nil {
		b.ReportMetric(float64(fi.Size())/(1<<20), "MiB/page")
	}
}

// BenchmarkWriteRunDir writes the report of the run directory FAULTLINE_RUN
// names, e.g. one `checker check --report` made of the million-operation
// history; run on its own under /usr/bin/time -v for the report's peak RSS:
//
//	checker gen-history --preset million --out /tmp/million.jsonl
//	checker check --report /tmp/run1m /tmp/million.jsonl
//	go test -c -o report.test ./report
//	FAULTLINE_RUN=/tmp/run1m /usr/bin/time -v ./report.test -test.run X -test.bench WriteRunDir -test.benchtime 1x
func BenchmarkWriteRunDir(b *testing.B) {
	dir := os.Getenv("FAULTLINE_RUN")
	if dir == "" {
		b.Skip("FAULTLINE_RUN names no run directory")
	}
	stop := benchmeasure.Start(b)
	for i := 0; i < b.N; i++ {
		if err := WriteRun(dir); err != nil {
			b.Fatal(err)
		}
	}
	stop()
}
