package sweep

import (
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"
)

// pageTemplate is the sweep page: self-contained (inline style, no script,
// nothing fetched), each run cell linking to that run's report.html by a
// path relative to store/sweeps/<timestamp>/, so the page works from the
// file system, from an artifact archive and through `checker serve` alike.
var pageTemplate = template.Must(template.New("sweep").Funcs(template.FuncMap{
	"report":         reportHref,
	"mark":           runMark,
	"seconds":        seconds,
	"exposure":       exposureText,
	"detected":       detectedText,
	"findings":       rowFindings,
	"controls":       controlFindings,
	"pct":            func(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) },
	"utc":            func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"join":           strings.Join,
	"livenessPoints": func() string { return fmt.Sprintf("%.0f", 100*LivenessDrop) },
	"cellclass": func(r RunResult, role string) string {
		switch runMark(r, role) {
		case markDetected:
			return "good"
		case markMissed:
			return "bad"
		}
		return "unknown"
	},
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Faultline sweep {{utc .StartedAt}}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;margin:12px 0}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f4f6}
td.cells a{display:inline-block;min-width:1.6em;text-align:center;margin:1px;padding:1px 3px;border-radius:3px;text-decoration:none;color:#fff}
a.good{background:#2e7d32} a.bad{background:#c62828} a.unknown{background:#757575}
span.good{color:#2e7d32} span.bad{color:#c62828;font-weight:bold}
.verdict{font-size:18px;font-weight:bold;padding:8px 12px;display:inline-block;border-radius:4px}
.pass{background:#e8f5e9;color:#1b5e20} .fail{background:#ffebee;color:#b71c1c}
small{color:#555} code{background:#f3f4f6;padding:1px 4px}
</style></head><body>
<h1>Faultline sweep</h1>
<p>Started {{utc .StartedAt}}{{with .EndedAt}}, ended {{utc .}}{{else}} — <b>still running</b> ({{.Done}} of {{.Planned}} campaigns done; reload to update){{end}}.
{{.Options.Seeds}} seed(s) per bug from seed {{.Options.Seed}}, {{.Options.Duration}} per campaign, {{.Options.Nodes}} nodes, runtime {{if .Runtime}}{{.Runtime}}{{else}}{{.Options.Runtime}}{{end}}.</p>
{{if .Options.ControlsOnly}}<p>System <b>{{.Options.System}}</b>: controls only (planted bugs exist only in raftd).</p>{{end}}
{{with .Command}}<p><small>command: <code>{{join . " "}}</code></small></p>{{end}}
{{with .Shard}}<p>Shard <b>{{.}}</b> of the sweep: a bug it never detected is judged when the shards are merged (<code>checker merge</code>).</p>{{end}}
{{with .Merged}}<p>Merged from {{len .}} shard sweep(s): {{range $i, $d := .}}{{if $i}}, {{end}}<code>{{$d}}</code>{{end}}.</p>{{end}}
{{if .EndedAt}}<p class="verdict {{if .Pass}}pass{{else}}fail{{end}}">{{if .Pass}}PASS: every control valid{{if not .Options.ControlsOnly}}, every safety bug detected at least once{{end}}{{else}}FAIL{{end}}</p>{{end}}
{{with .Failures}}<ul>{{range .}}<li><span class="bad">{{.}}</span></li>{{end}}</ul>{{end}}
{{with .Warnings}}<ul>{{range .}}<li>warning: {{.}}</li>{{end}}</ul>{{end}}
<table>
<tr><th>bug</th><th>kind</th><th>exposure (nemesis / workload / read mode)</th><th>detected</th><th>runs by seed</th><th>median time to the first anomalous operation<br><small>from the campaign start (from the workload start)</small></th><th>anomaly kinds (runs)</th></tr>
{{range .Bugs}}<tr>
<td><b>{{.Bug}}</b></td><td>{{if .Liveness}}liveness{{else}}safety{{end}}</td><td>{{exposure .}}</td>
<td>{{detected .}}</td>
<td class="cells">{{range .Runs}}<a class="{{cellclass . "bug"}}" href="{{report .}}" title="seed {{.Seed}}: {{.Why}}">{{mark . "bug"}}</a>{{end}}
{{with .Baselines}}<br><small>baselines:</small> {{range .}}<a class="{{cellclass . "baseline"}}" href="{{report .}}" title="baseline, seed {{.Seed}}: {{.Why}}">{{mark . "baseline"}}</a>{{end}}{{end}}</td>
<td>{{seconds .MedianFirstAnomalyNs}} ({{seconds .MedianFirstAnomalyRunNs}})</td>
<td>{{findings .}}</td>
</tr>{{end}}
{{if .Controls.Runs}}<tr><td><b>controls</b></td><td>no bug</td><td>all faults / register and append alternating / readindex</td>
<td>valid {{.Controls.Valid}}/{{.Controls.Total}}</td>
<td class="cells">{{range .Controls.Runs}}<a class="{{cellclass . "control"}}" href="{{report .}}" title="seed {{.Seed}}, {{.Workload}}: {{.Why}}">{{mark . "control"}}</a>{{end}}</td>
<td></td><td>{{controls .Controls}}</td></tr>{{end}}
</table>
<p><small>Cells: X detected (controls and baselines: valid), . not detected (controls: not valid), ? unknown or no verdict — counted as not detected and not valid. Each cell opens that run's report. Liveness-only bugs are detected when the run stays linearizable and its availability (share of operations that completed ok) is at least {{livenessPoints}} points below the same exposure and seed without the bug.</small></p>
<h2>Runs</h2>
<table>
<tr><th>role</th><th>bug</th><th>seed</th><th>workload</th><th>nemesis</th><th>verdict</th><th>first anomaly</th><th>ok / ops</th><th>judgement</th><th>run</th></tr>
{{range .Bugs}}{{range .Runs}}{{template "run" .}}{{end}}{{range .Baselines}}{{template "run" .}}{{end}}{{end}}
{{range .Controls.Runs}}{{template "run" .}}{{end}}
</table>
</body></html>
{{define "run"}}<tr><td>{{.Role}}</td><td>{{.Bug}}</td><td>{{.Seed}}</td><td>{{.Workload}}</td><td>{{.Nemesis}}</td><td>{{.Verdict}}</td>
<td>{{seconds .FirstAnomalyNs}}</td><td>{{.Ok}} / {{.Ops}} ({{pct .Availability}})</td><td>{{.Why}}{{with .Error}}<br><small>{{.}}</small>{{end}}</td>
<td>{{with report .}}<a href="{{.}}">report</a>{{else}}-{{end}}</td></tr>
{{end}}`))

// reportHref is the link from store/sweeps/<timestamp>/index.html to the
// run's report ("" when the run made no directory).
func reportHref(r RunResult) string {
	if r.Report() == "" {
		return ""
	}
	return "../../" + r.Report()
}

// WritePage renders the matrix as the sweep's HTML page.
func WritePage(w io.Writer, m *Matrix) error {
	return pageTemplate.Execute(w, m)
}
