package report

import (
	"bytes"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/faultline/faultline/store"
)

// IndexFile is the static page at the store's root that lists its runs and
// sweeps. It links each report by a relative path and loads nothing, so it
// works from a downloaded artifact without `checker serve`.
const IndexFile = "index.html"

// TrendLength is how many of a campaign name's latest runs a trend shows.
const TrendLength = 10

// StoreIndex is what the index page shows.
type StoreIndex struct {
	Runs      []RunSummary   // newest first
	Sweeps    []SweepSummary // newest first
	Generated time.Time
}

// Trend is one campaign name's latest verdicts, newest first.
type Trend struct {
	Name     string
	Verdicts []TrendPoint
}

// TrendPoint is one run of a trend.
type TrendPoint struct {
	ID      string
	Verdict string
	Report  string // relative to the store ("" without one)
}

// Trends groups runs (newest first) by campaign name: one trend per name,
// names ordered by their newest run, at most TrendLength points each.
func Trends(runs []RunSummary) []Trend {
	var out []Trend
	at := map[string]int{}
	for _, r := range runs {
		i, ok := at[r.Name]
		if !ok {
			i = len(out)
			at[r.Name] = i
			out = append(out, Trend{Name: r.Name})
		}
		if len(out[i].Verdicts) < TrendLength {
			out[i].Verdicts = append(out[i].Verdicts, TrendPoint{ID: r.ID, Verdict: r.Verdict, Report: r.ReportPath()})
		}
	}
	return out
}

var indexTemplate = template.Must(template.New("index").Funcs(template.FuncMap{
	"utc":    func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"trends": Trends,
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Faultline store</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;margin:12px 0}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f4f6}
.valid,.pass{color:#1b5e20;font-weight:bold} .invalid,.fail{color:#b71c1c;font-weight:bold}
.unknown{color:#8a5a00;font-weight:bold} .incomplete,.running{color:#555;font-weight:bold}
.dot{display:inline-block;width:14px;height:14px;margin:1px;border-radius:3px;vertical-align:middle}
.dot.valid{background:#2e7d32} .dot.invalid{background:#c62828} .dot.unknown{background:#f9a825} .dot.incomplete{background:#9e9e9e}
small{color:#555} code{background:#f3f4f6;padding:1px 4px}
</style></head><body>
<h1>Faultline store</h1>
<p><small>Generated {{utc .Generated}}. Every link is relative: this page works from a downloaded artifact, no server needed.</small></p>
{{with .Sweeps}}<h2>Sweeps</h2>
<table><tr><th>sweep</th><th>verdict</th><th>campaigns</th><th>bugs detected</th><th>controls</th><th>problems</th></tr>
{{range .}}<tr><td><a href="{{.PagePath}}">{{.ID}}</a>{{with .Shard}} <small>shard {{.}}</small>{{end}}{{if .Merged}} <small>merged from {{.Merged}} shards</small>{{end}}<br><small>{{utc .StartedAt}}</small></td>
<td class="{{.Verdict}}">{{.Verdict}}</td><td>{{.Done}} / {{.Planned}}</td>
<td>{{range .Bugs}}<div>{{.Bug}}: {{.Detected}}/{{.Total}}{{if .Liveness}} <small>(liveness)</small>{{end}}</div>{{end}}</td>
<td>{{.Controls}}</td><td>{{range .Failures}}<div class="fail">{{.}}</div>{{end}}{{range .Warnings}}<div><small>warning: {{.}}</small></div>{{end}}</td></tr>
{{end}}</table>{{end}}
<h2>Campaigns</h2>
{{with trends .Runs}}<table><tr><th>name</th><th>latest verdicts (newest first)</th></tr>
{{range .}}<tr><td>{{.Name}}</td><td>{{range .Verdicts}}{{if .Report}}<a class="dot {{.Verdict}}" href="{{.Report}}" title="{{.ID}}: {{.Verdict}}"></a>{{else}}<span class="dot {{.Verdict}}" title="{{.ID}}: {{.Verdict}}"></span>{{end}}{{end}}</td></tr>
{{end}}</table>{{else}}<p>No runs yet.</p>{{end}}
{{with .Runs}}<h2>Runs</h2>
<table><tr><th>run</th><th>verdict</th><th>workload</th><th>nemesis</th><th>duration</th><th>ops</th><th>anomalies</th><th>reproduce</th></tr>
{{range .}}<tr><td>{{if .HasReport}}<a href="{{.ReportPath}}">{{.ID}}</a>{{else}}{{.ID}}{{end}}{{with .StartedAt}}<br><small>{{utc .}}</small>{{end}}</td>
<td class="{{.Verdict}}">{{.Verdict}}{{if ne .Status "complete"}} <small>({{.Status}})</small>{{end}}</td>
<td>{{.Workload}}</td><td>{{.Nemesis}}</td><td>{{.Duration}}</td><td>{{.Ops}}</td><td>{{.AnomalyText}}</td>
<td>{{with .Reproduce}}<code>{{.}}</code>{{end}}</td></tr>
{{end}}</table>{{end}}
</body></html>
`))

// WriteIndex renders the store's index page.
func WriteIndex(w io.Writer, idx StoreIndex) error { return indexTemplate.Execute(w, idx) }

// WriteStoreIndex writes storeDir/index.html for its runs and the sweeps
// given (which the caller read, since package campaign/sweep owns them).
func WriteStoreIndex(storeDir string, sweeps []SweepSummary) error {
	runs, err := SummarizeStore(os.DirFS(storeDir))
	if err != nil {
		return err
	}
	var page bytes.Buffer
	if err := WriteIndex(&page, StoreIndex{Runs: runs, Sweeps: sweeps, Generated: time.Now()}); err != nil {
		return err
	}
	return store.WriteFile(filepath.Join(storeDir, IndexFile), page.Bytes())
}
