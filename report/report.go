package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/faultline/faultline/check"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/store"
)

//go:embed assets/report.html.tmpl
var reportTemplateText string

//go:embed assets/report.css
var reportCSS string

//go:embed assets/report.js
var reportJS string

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"add1": func(n int) int { return n + 1 },
}).Parse(reportTemplateText))

// Verdict words of a run, as shown and filtered on.
const (
	VerdictValid      = "valid"
	VerdictInvalid    = "invalid"
	VerdictUnknown    = "unknown"
	VerdictIncomplete = "incomplete"
)

// WriteRun writes report.html and junit.xml into runDir from the files the
// campaign left there. Missing or half-written inputs give a report marked
// incomplete, not an error; only failing to write the outputs is an error.
func WriteRun(runDir string) error {
	r := loadRun(os.DirFS(runDir), runDir)
	var page bytes.Buffer
	if err := renderReport(&page, r); err != nil {
		return fmt.Errorf("report: %s: %w", runDir, err)
	}
	if err := store.WriteFile(filepath.Join(runDir, reportFile), page.Bytes()); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	junit, err := junitXML(r)
	if err != nil {
		return fmt.Errorf("report: %s: %w", runDir, err)
	}
	if err := store.WriteFile(filepath.Join(runDir, junitFile), junit); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// Render writes the report.html of the run directory dir (inside fsys) to w,
// without writing anything into the run: what `checker serve` shows for a
// run that has no report yet.
func Render(w io.Writer, fsys fs.FS, dir string) error {
	return renderReport(w, loadRun(fsys, dir))
}

// reportView is the data behind assets/report.html.tmpl.
type reportView struct {
	Title        string
	Verdict      string // VerdictValid, ...
	VerdictWord  string
	VerdictLine  string
	Name, When   string
	Status       string
	StatusNote   string
	Seed         string
	Reproduce    string
	Command      string
	Summary      []string
	Problems     []string
	Lint         []history.Warning
	Anomalies    []anomalyView // shown open
	LaterAnoms   []anomalyView // behind a "show more"
	AnomalyTotal int
	MoreAnoms    int // beyond the page, in results.json only
	AnomalyKinds []kindRow
	KindsSeen    []kindHelp
	InvolvedOps  []opView
	MoreInvolved int
	Timeline     template.JS
	TimelineNote string
	Figures      []Figure
	PlotErrors   []string
	Phases       []phaseView
	ByLabel      []phaseView
	Recoveries   []recoveryView
	Faults       []faultView
	FaultColors  map[string]string
	Nodes        []nodeView
	Startups     []startupView
	Leaders      []leaderView
	Settings     []Setting
	Versions     []Setting
	Facts        []Setting
	Files        []fileLink
	KeyRows      []keyRow
	Generated    string
	CSS          template.CSS
	JS           template.JS
}

// RunVerdict is the verdict word of a run: the check's verdict, or
// incomplete when the run has no readable results.
func RunVerdict(res *check.Result) string {
	if res == nil {
		return VerdictIncomplete
	}
	return res.Valid.String()
}

func renderReport(w io.Writer, r *runData) error {
	v := buildReportView(r)
	return reportTemplate.Execute(w, v)
}

func buildReportView(r *runData) *reportView {
	v := &reportView{CSS: template.CSS(reportCSS), JS: template.JS(reportJS), Generated: generatedAt()}
	c := r.Campaign
	v.Name = filepath.Base(filepath.Dir(r.Dir))
	if c != nil && c.Name != "" {
		v.Name = c.Name
	}
	v.When = filepath.Base(r.Dir)
	if t, ok := c.Started(); ok {
		v.When = t.Format("2006-01-02 15:04:05 UTC")
	}
	v.Title = fmt.Sprintf("%s · %s", v.Name, v.When)
	v.Verdict = RunVerdict(r.Result)
	v.Problems = r.Problems
	v.Lint = r.Lint
	if c != nil {
		v.Status = c.ShownStatus()
		v.Seed = c.seedString()
		v.Reproduce = c.Reproduce
		v.Command = strings.Join(c.Command, " ")
		v.Settings = c.Settings()
		v.Versions = c.VersionList()
		v.Facts = campaignFacts(c)
		switch c.ShownStatus() {
		case store.StatusInterrupted:
			v.StatusNote = "The campaign was interrupted before it finished; its faults were healed and what was recorded was checked."
		case store.StatusError:
			v.StatusNote = "The campaign stopped with an error: " + c.Error
		case store.StatusAbandoned:
			v.StatusNote = "The process that ran the campaign is gone (killed, or its machine restarted) without marking the end: this report shows what was recorded. Its faults may still be in place until `checker gc` removes them."
		case store.StatusRunning:
			v.StatusNote = "The campaign is still running (or died without marking its end): this report shows what was recorded so far."
		}
	}
	switch v.Verdict {
	case VerdictValid:
		v.VerdictWord = "LINEARIZABLE"
		v.VerdictLine = "Porcupine found a valid order for every key: no anomaly."
	case VerdictInvalid:
		v.VerdictWord = "NOT LINEARIZABLE"
		v.VerdictLine = anomalyTally(r.Result)
	case VerdictUnknown:
		v.VerdictWord = "UNKNOWN"
		v.VerdictLine = "The check could not decide"
		if r.Result.Reason != "" {
			v.VerdictLine += ": " + r.Result.Reason
		}
	default:
		v.VerdictWord = "INCOMPLETE"
		v.VerdictLine = "This run has no verdict: its results are missing or unreadable."
	}

	h := r.History
	if h == nil {
		h = &History{}
	}
	a := analyse(h)
	colors := faultColors(h.Faults)
	v.FaultColors = colors
	v.Summary = summaryLines(r, h, a)
	// The operations the page names: those of the anomalies shown, and the
	// timeline's sample. Only their texts are read (a second pass over the
	// history), never those of all operations.
	atLine, err := h.opsAtLines(anomalyLines(r))
	if err != nil {
		v.Problems = append(v.Problems, fmt.Sprintf("%s: finding the anomalies' operations: %v", historyFile, err))
	}
	flagged := map[int]bool{}
	for _, i := range atLine {
		flagged[i] = true
	}
	keep := sampleOps(h.Len(), h.succeeded, flagged, maxTimelineOps)
	shownOps := maps.Clone(flagged)
	for _, i := range keep {
		shownOps[i] = true
	}
	if err := h.fetchDetails(shownOps); err != nil {
		v.Problems = append(v.Problems, fmt.Sprintf("%s: reading the operations shown: %v", historyFile, err))
	}
	buildAnomalies(v, r, h, atLine)
	tl, shown, err := timelineJSON(h, keep, a.Start, a.End, flagged, colors)
	if err != nil {
		v.Problems = append(v.Problems, "timeline: "+err.Error())
	} else {
		// The JSON is escaped for <script> by json.Marshal.
		v.Timeline = template.JS(tl)
	}
	if shown < h.Len() {
		v.TimelineNote = fmt.Sprintf("This history has %d operations; the timeline shows an even sample of %d, including every operation named by an anomaly and a larger share of the failed and unknown ones.", h.Len(), shown)
	}
	buildFigures(v, r, h, a, colors)
	for _, p := range a.Phases {
		v.Phases = append(v.Phases, viewPhase(p, colors, true))
	}
	for _, p := range a.ByLabel {
		v.ByLabel = append(v.ByLabel, viewPhase(p, colors, false))
	}
	for _, rc := range a.Recoveries {
		rv := recoveryView{Kind: rc.Kind, Heal: secs(rc.Heal), Recovered: rc.Recovered, After: "not within the history"}
		if rc.Recovered {
			rv.After = span(rc.After)
		}
		v.Recoveries = append(v.Recoveries, rv)
	}
	for _, f := range h.Faults {
		fv := faultView{Kind: f.Kind, Start: secs(f.Start), End: secs(f.End), Length: span(f.Duration()), Detail: f.Detail, Healed: f.Healed, Color: colors[f.Kind]}
		if !f.Healed {
			fv.End = "not healed in the history"
		}
		v.Faults = append(v.Faults, fv)
	}
	buildNodes(v, r)
	v.Startups = startupRows(h)
	v.Files = runFiles(r.FS)
	if r.Result != nil {
		for _, k := range r.Result.Keys {
			v.KeyRows = append(v.KeyRows, keyRow{Key: k.Key, Verdict: k.Valid.String(), Ops: k.Ops, Elapsed: span(k.Elapsed), View: keyViewPath(r.FS, k.Key)})
		}
	}
	return v
}

// summaryLines are the few sentences that tell the story of the run.
func summaryLines(r *runData, h *History, a Analysis) []string {
	var out []string
	n := h.Len()
	if n > 0 {
		out = append(out, fmt.Sprintf("%s by %s on %s over %s: %d ok (%s), %d failed (definitely not applied), %d unknown (timed out or cut off: may or may not have been applied).",
			plural(n, "operation", "operations"), plural(a.Processes, "client process", "client processes"), plural(a.Keys, "key", "keys"),
			span(h.EndTime), a.Ok, percent(float64(a.Ok)/float64(n)), a.Fail, a.Info))
	} else if h.Lines == 0 {
		out = append(out, "No operation was recorded.")
	}
	if len(h.Faults) > 0 {
		byKind := map[string]int{}
		var total int64
		var kinds, events []string
		for _, f := range h.Faults {
			if f.End == f.Start {
				// An instant nemesis event (the final heal, say) is no fault.
				events = append(events, f.Kind)
				continue
			}
			if byKind[f.Kind] == 0 {
				kinds = append(kinds, f.Kind)
			}
			byKind[f.Kind]++
			total += f.Duration()
		}
		var parts []string
		for _, k := range kinds {
			parts = append(parts, fmt.Sprintf("%d× %s", byKind[k], k))
		}
		line := "No fault was injected."
		if len(parts) > 0 {
			line = fmt.Sprintf("Faults injected: %s, active for %s in total.", strings.Join(parts, ", "), span(total))
		}
		if len(events) > 0 {
			line += fmt.Sprintf(" Nemesis events: %s.", strings.Join(events, ", "))
		}
		var worst int64
		unrecovered := 0
		for _, rc := range a.Recoveries {
			if !rc.Recovered {
				unrecovered++
			} else {
				worst = max(worst, rc.After)
			}
		}
		switch {
		case len(a.Recoveries) == 0:
		case unrecovered > 0:
			line += fmt.Sprintf(" After %s no operation invoked later succeeded.", plural(unrecovered, "heal", "heals"))
		default:
			line += fmt.Sprintf(" After every heal the cluster served again within %s.", span(worst))
		}
		out = append(out, line)
	} else if n > 0 {
		out = append(out, "No fault was injected.")
	}
	if res := r.Result; res != nil {
		st := res.Stats
		switch res.Valid {
		case check.Valid:
			out = append(out, fmt.Sprintf("Verdict: linearizable. Every one of %s has a valid order (checked in %s).", plural(max(st.Keys, len(res.Keys)), "key", "keys"), span(st.CheckNs)))
		case check.Invalid:
			out = append(out, "Verdict: not linearizable. "+anomalyTally(res)+" Each anomaly below names the operations involved.")
		default:
			line := "Verdict: unknown. The check did not finish"
			if res.Reason != "" {
				line += " (" + res.Reason + ")"
			}
			out = append(out, line+"; an unknown is never a pass.")
		}
	}
	return out
}

// generatedAt is stamped in the footer; a var so tests can pin it.
var generatedAt = func() string { return time.Now().UTC().Format("2006-01-02 15:04:05 UTC") }
