package report

import (
	"fmt"
	"sort"
	"strings"

	"github.com/faultline/faultline/check"
)

// maxAnomaliesShown and maxInvolvedOps bound the anomaly list and the table
// of operations involved; results.json keeps them all. The first
// anomaliesOpen are shown open, the rest folded, so that a run with hundreds
// of anomalies still reads in a minute.
const (
	anomaliesOpen     = 5
	maxAnomaliesShown = 200
	maxInvolvedOps    = 600
)

type anomalyView struct {
	Kind, KindTitle string
	Key             string
	KeyView         string
	Explanation     string
	At              string
	Node            string
	StaleBy         string
	Ops             []opRef
}

type opRef struct {
	Anchor string
	ID     int
	Label  string
}

type kindHelp struct{ Title, Meaning string }

// kindRow sums up the anomalies of one kind.
type kindRow struct {
	Kind, Title  string
	Count        int
	Keys         string
	First        string
	WorstStale   string
	worstStaleNs int64
	keySet       map[string]bool
	firstNs      int64
}

type opView struct {
	Anchor       string
	ID           int
	Process      int
	F, Key       string
	Value        string
	Start, End   string
	Latency      string
	Outcome      string
	Node, Error  string
	InvokeLine   int // 1-based, for people
	CompleteLine int
}

var kindTitles = map[string]kindHelp{
	check.StaleRead:       {"Stale read", "a read returned a value that had already been overwritten before the read began: it missed an acknowledged write."},
	check.LostCommit:      {"Lost commit", "a write, add or append was acknowledged to the client but is absent after healing and the final reads."},
	check.Phantom:         {"Phantom value", "a read returned a value that no client ever wrote."},
	check.Duplicate:       {"Duplicate apply", "one element was applied twice: it appears twice in a list or set read."},
	check.NonLinearizable: {"Not linearizable", "Porcupine found no order of the operations that a single correct copy of the data could have produced, and no simpler anomaly explains it."},
}

func kindTitle(kind string) string {
	if k, ok := kindTitles[kind]; ok {
		return k.Title
	}
	return kind
}

// anomalyTally says "2 stale reads, 1 lost commit" for the banner.
func anomalyTally(res *check.Result) string {
	counts := res.Counts
	if len(counts) == 0 {
		counts = map[string]int{}
		for _, a := range res.Anomalies {
			counts[a.Kind]++
		}
	}
	kinds := make([]string, 0, len(counts))
	for k := range counts {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var parts []string
	for _, k := range kinds {
		if counts[k] == 0 {
			continue
		}
		parts = append(parts, plural(counts[k], strings.ToLower(kindTitle(k)), strings.ToLower(kindTitle(k))+"s"))
	}
	bad := res.Stats.KeysBad
	line := "Porcupine found no valid order"
	if bad > 0 {
		line += " for " + plural(bad, "key", "keys")
	}
	if len(parts) > 0 {
		line += ": " + strings.Join(parts, ", ")
	}
	return line + "."
}

// shownAnomalies are the anomalies the page lists.
func shownAnomalies(r *runData) []check.Anomaly {
	if r.Result == nil {
		return nil
	}
	anoms := r.Result.Anomalies
	return anoms[:min(len(anoms), maxAnomaliesShown)]
}

// anomalyLines are the history lines the listed anomalies name.
func anomalyLines(r *runData) []int {
	var lines []int
	for _, an := range shownAnomalies(r) {
		lines = append(lines, an.Events...)
	}
	return lines
}

// buildAnomalies fills the anomaly list and the table of operations they
// involve; atLine maps the lines they name to operations (opsAtLines).
func buildAnomalies(v *reportView, r *runData, h *History, atLine map[int]int) {
	flagged := map[int]bool{}
	if r.Result == nil {
		return
	}
	v.AnomalyTotal = len(r.Result.Anomalies)
	v.AnomalyKinds = kindRows(r.Result.Anomalies)
	v.MoreAnoms = len(r.Result.Anomalies) - len(shownAnomalies(r))
	anoms := shownAnomalies(r)
	seenKinds := map[string]bool{}
	for _, an := range anoms {
		av := anomalyView{
			Kind: an.Kind, KindTitle: kindTitle(an.Kind), Key: an.Key,
			KeyView: keyViewPath(r.FS, an.Key), Explanation: an.Explanation,
			At: secs(an.Time), Node: an.Node,
		}
		if an.StaleBy > 0 {
			av.StaleBy = span(an.StaleBy)
		}
		seenOp := map[int]bool{}
		for _, line := range an.Events {
			i, ok := atLine[line]
			if !ok {
				av.Ops = append(av.Ops, opRef{Label: fmt.Sprintf("history line %d", line+1)})
				continue
			}
			if seenOp[i] {
				continue
			}
			seenOp[i] = true
			flagged[i] = true
			op := h.Op(i)
			av.Ops = append(av.Ops, opRef{Anchor: opAnchor(op.ID), ID: op.ID, Label: opLabel(&op)})
		}
		if av.Explanation == "" {
			av.Explanation = fallbackExplanation(an, av.Ops)
		}
		if !seenKinds[an.Kind] {
			seenKinds[an.Kind] = true
			if k, ok := kindTitles[an.Kind]; ok {
				v.KindsSeen = append(v.KindsSeen, k)
			}
		}
		if len(v.Anomalies) < anomaliesOpen {
			v.Anomalies = append(v.Anomalies, av)
		} else {
			v.LaterAnoms = append(v.LaterAnoms, av)
		}
	}
	var involved []int
	for i := range flagged {
		involved = append(involved, i)
	}
	sort.Ints(involved)
	if len(involved) > maxInvolvedOps {
		v.MoreInvolved = len(involved) - maxInvolvedOps
		involved = involved[:maxInvolvedOps]
	}
	for _, i := range involved {
		op := h.Op(i)
		v.InvolvedOps = append(v.InvolvedOps, viewOp(&op))
	}
}

// kindRows sums anomalies up by kind, in order of first appearance.
func kindRows(anoms []check.Anomaly) []kindRow {
	var rows []kindRow
	idx := map[string]int{}
	for _, a := range anoms {
		i, ok := idx[a.Kind]
		if !ok {
			i = len(rows)
			idx[a.Kind] = i
			rows = append(rows, kindRow{Kind: a.Kind, Title: kindTitle(a.Kind), keySet: map[string]bool{}, firstNs: a.Time})
		}
		k := &rows[i]
		k.Count++
		k.keySet[a.Key] = true
		k.firstNs = min(k.firstNs, a.Time)
		k.worstStaleNs = max(k.worstStaleNs, a.StaleBy)
	}
	for i := range rows {
		k := &rows[i]
		keys := make([]string, 0, len(k.keySet))
		for key := range k.keySet {
			keys = append(keys, key)
		}
		sort.Strings(keys)
		if len(keys) > 12 {
			keys = append(keys[:12], fmt.Sprintf("and %d more", len(keys)-12))
		}
		k.Keys = strings.Join(keys, ", ")
		k.First = secs(k.firstNs)
		if k.worstStaleNs > 0 {
			k.WorstStale = span(k.worstStaleNs)
		}
	}
	return rows
}

func opAnchor(id int) string { return fmt.Sprintf("op-%d", id) }

// opLabel describes an operation in a few words: "read of k7 by process 3
// at 12.4 s on n3 → 41 (ok)".
func opLabel(op *Op) string {
	s := fmt.Sprintf("%s of %s by process %d at %s", op.F, op.Key, op.Process, secs(op.Start))
	if op.Node != "" {
		s += " on " + op.Node
	}
	return s + fmt.Sprintf(" → %s (%s)", op.Value, op.Outcome)
}

func fallbackExplanation(an check.Anomaly, ops []opRef) string {
	s := fmt.Sprintf("%s on key %s at %s", kindTitle(an.Kind), an.Key, secs(an.Time))
	if len(ops) > 0 {
		s += ": " + ops[0].Label
	}
	return s + "."
}

func viewOp(op *Op) opView {
	ov := opView{
		Anchor: opAnchor(op.ID), ID: op.ID, Process: op.Process, F: op.F, Key: op.Key, Value: op.Value,
		Start: secs(op.Start), End: secs(op.End), Latency: span(op.Latency()), Outcome: op.Outcome,
		Node: op.Node, Error: op.Error, InvokeLine: op.InvokeLine + 1,
	}
	if op.CompleteLine >= 0 {
		ov.CompleteLine = op.CompleteLine + 1
	} else {
		ov.End = "never completed"
	}
	return ov
}
