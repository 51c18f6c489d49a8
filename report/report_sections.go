package report

import (
	"fmt"
	"io/fs"
	"strings"
)

type phaseView struct {
	Label, From, To, Length string
	Ops, Ok, Fail, Info     int
	Availability            string
	Color                   string
}

type recoveryView struct {
	Kind, Heal, After string
	Recovered         bool
}

type faultView struct {
	Kind, Start, End, Length, Detail string
	Healed                           bool
	Color                            string
}

type nodeView struct {
	ID              string
	Role, Term      string
	Elected         int
	Changes         []changeView
	MoreChanges     int
	Commit, Applied uint64
	Voters          string
	LogFile         string
	LogSize         string
}

type changeView struct{ At, Role, Term, Leader string }

type leaderView struct{ Leader, Term, From, To, Length string }

type fileLink struct{ Path, Label, Size string }

type keyRow struct {
	Key, Verdict, View string
	Ops                int
	Elapsed            string
}

func campaignFacts(c *Campaign) []Setting {
	var out []Setting
	add := func(name, value string) {
		if value != "" {
			out = append(out, Setting{Name: name, Value: value})
		}
	}
	add("status", c.Status)
	add("error", c.Error)
	add("runtime", c.Runtime)
	add("nodes", strings.Join(c.NodeIDs(), ", "))
	add("started", c.startedText())
	add("ended", c.endedText())
	if n := c.firstOp(); n > 0 {
		add("first operation", fmt.Sprintf("%s after the start", span(n)))
	}
	add("recovery", c.Recovery)
	for _, p := range c.Phases {
		add("phase "+p.Phase, "at "+secs(p.AtNs))
	}
	return out
}

func viewPhase(p Phase, colors map[string]string, timed bool) phaseView {
	pv := phaseView{Label: p.Label, Ops: p.Ops, Ok: p.Ok, Fail: p.Fail, Info: p.Info, Availability: p.AvailabilityText}
	if timed {
		pv.From, pv.To, pv.Length = secs(p.Start), secs(p.End), span(p.End-p.Start)
	} else {
		pv.Length = span(p.End) // merged phases carry their total time in End
	}
	if c, ok := colors[strings.SplitN(p.Label, "+", 2)[0]]; ok {
		pv.Color = c
	}
	return pv
}

func buildFigures(v *reportView, r *runData, h *History, a Analysis, colors map[string]string) {
	if h.Len() == 0 && len(h.Faults) == 0 {
		return
	}
	add := func(f Figure, err error) {
		if err != nil {
			v.PlotErrors = append(v.PlotErrors, err.Error())
			return
		}
		v.Figures = append(v.Figures, f)
	}
	add(latencyFigure(h, a, colors))
	add(throughputFigure(h, a, colors))
	add(availabilityFigure(h, a, colors))
	if f, ok, err := rolesFigure(h, a, r.Nodes, colors); ok || err != nil {
		add(f, err)
	}
}

// maxChangesShown bounds the role changes listed per node.
const maxChangesShown = 60

func buildNodes(v *reportView, r *runData) {
	for _, n := range r.Nodes.Nodes {
		nv := nodeView{ID: n.ID, Elected: n.Elected, Commit: n.Commit, Applied: n.Applied,
			Voters: strings.Join(n.Voters, ", "), LogFile: n.LogFile, Role: "never polled", Term: "–"}
		if n.LogFile != "" {
			nv.LogSize = ByteSize(n.LogBytes)
		}
		if n.Last != nil {
			nv.Role = n.Last.Role
			nv.Term = fmt.Sprint(n.MaxTerm)
		}
		changes := n.Changes
		if len(changes) > maxChangesShown {
			nv.MoreChanges = len(changes) - maxChangesShown
			changes = changes[:maxChangesShown]
		}
		for _, ch := range changes {
			nv.Changes = append(nv.Changes, changeView{At: secs(ch.Time), Role: ch.Role, Term: fmt.Sprint(ch.Term), Leader: ch.Leader})
		}
		v.Nodes = append(v.Nodes, nv)
	}
	for _, l := range r.Nodes.Leaders {
		v.Leaders = append(v.Leaders, leaderView{Leader: l.Leader, Term: fmt.Sprint(l.Term), From: secs(l.Start), To: secs(l.End), Length: span(l.End - l.Start)})
	}
}

// knownFiles label the files of a run directory.
var knownFiles = map[string]string{
	campaignFile:               "campaign settings, seed, versions",
	historyFile:                "the recorded history (one event per line)",
	resultsFile:                "the check's verdict and anomalies",
	junitFile:                  "JUnit XML for CI",
	"campaign.log":             "the campaign's own log",
	nodesDir + "/status.jsonl": "node status polls",
}

// runFiles lists the files of a run worth linking from its report: every
// top-level file but the report itself, the status polls and the key views
// (node logs are listed with their nodes).
func runFiles(fsys fs.FS) []fileLink {
	var out []fileLink
	add := func(p string, fi fs.FileInfo) {
		label := knownFiles[p]
		if label == "" {
			label = "run file"
		}
		out = append(out, fileLink{Path: p, Label: label, Size: ByteSize(fi.Size())})
	}
	entries, _ := fs.ReadDir(fsys, ".")
	junitSeen := false
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || name == reportFile || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".tmp") {
			continue
		}
		if fi, err := e.Info(); err == nil {
			add(name, fi)
			junitSeen = junitSeen || name == junitFile
		}
	}
	if !junitSeen {
		// WriteRun writes junit.xml right after this report.
		out = append(out, fileLink{Path: junitFile, Label: knownFiles[junitFile]})
	}
	if fi, err := fs.Stat(fsys, nodesDir+"/status.jsonl"); err == nil && fi.Mode().IsRegular() {
		add(nodesDir+"/status.jsonl", fi)
	}
	views, _ := fs.Glob(fsys, keysDir+"/*.html")
	for _, p := range views {
		out = append(out, fileLink{Path: p, Label: "Porcupine view of a failing key, faults annotated"})
	}
	return out
}
