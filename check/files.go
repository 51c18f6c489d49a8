package check

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/anishathalye/porcupine"

	"github.com/faultline/faultline/history"
)

// WriteResults writes r as results.json at path. It writes a temporary file
// and renames it, so a reader never sees half a file.
func WriteResults(path string, r *Result) error {
	b, err := r.Marshal()
	if err != nil {
		return fmt.Errorf("check: encoding %s: %w", path, err)
	}
	b = append(b, '\n')
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("check: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("check: %w", err)
	}
	return nil
}

// ReadResults reads a results.json written by WriteResults.
func ReadResults(path string) (*Result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	var r Result
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("check: %s: %w", path, err)
	}
	return &r, nil
}

// KeyFileName is the file name of a key's Porcupine view under keys/: the
// key itself when it is a plain name, otherwise a sanitized form with a
// hash suffix so that different keys never share a file.
func KeyFileName(key string) string {
	var b strings.Builder
	changed := key == "" || key[0] == '.' || len(key) > 100
	for i, r := range key {
		if i >= 100 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' && i > 0 {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
			changed = true
		}
	}
	if changed {
		h := fnv.New32a()
		h.Write([]byte(key))
		fmt.Fprintf(&b, "-%08x", h.Sum32())
	}
	return b.String() + ".html"
}

// WriteKeyViews writes dir/keys/<key>.html, Porcupine's visualization of
// each key res found not linearizable, with the nemesis intervals of the
// history drawn as annotations (one row per fault kind). The pages are
// self-contained. For a Result that Check or CheckFile returned it reuses
// the keys and their verbose re-check, and events may be nil; for a Result
// read from disk it rebuilds them from events and re-runs the verbose
// check (within opt.Timeout).
func WriteKeyViews(dir string, events []history.Event, res *Result, opt Options) error {
	failing := map[string]bool{}
	for _, k := range res.Keys {
		if k.Valid == Invalid {
			failing[k.Key] = true
		}
	}
	if len(failing) == 0 {
		return nil
	}
	workload := res.Workload
	if workload == "" {
		workload = opt.Workload
	}
	keys, intervals, err := failingKeys(events, res, failing, workload)
	if err != nil {
		return err
	}
	keysDir := filepath.Join(dir, "keys")
	if err := os.MkdirAll(keysDir, 0o755); err != nil {
		return fmt.Errorf("check: %w", err)
	}
	annotations := nemesisAnnotations(intervals)
	model := modelFor(workload)
	for _, kh := range keys {
		info := res.verbose[kh.key]
		if info == nil {
			guard := newSearchGuard(searchLimit(opt.memoryBudget(), 1), len(kh.model))
			_, fresh := porcupine.CheckOperationsVerbose(guard.guard(model), kh.model, opt.Timeout)
			info = &fresh
		}
		view := *info // AddAnnotations appends: keep the Result's copy clean
		view.AddAnnotations(annotations)
		view.AddAnnotations(unobservedAnnotations(kh, workload))
		path := filepath.Join(keysDir, KeyFileName(kh.key))
		if err := porcupine.VisualizePath(model, view, path); err != nil {
			return fmt.Errorf("check: writing %s: %w", path, err)
		}
	}
	return nil
}

// failingKeys are the keys to draw, with their models, and the faults.
func failingKeys(events []history.Event, res *Result, failing map[string]bool, workload string) ([]*keyHistory, []history.Interval, error) {
	if len(res.failing) == len(failing) {
		keys := make([]*keyHistory, 0, len(failing))
		for _, kh := range res.failing {
			keys = append(keys, kh)
		}
		slices.SortFunc(keys, func(a, b *keyHistory) int { return strings.Compare(a.key, b.key) })
		return keys, res.intervals, nil
	}
	ops, err := history.Pair(events)
	if err != nil {
		return nil, nil, fmt.Errorf("check: %w", err)
	}
	if workload, err = resolveWorkload(workload, ops); err != nil {
		return nil, nil, err
	}
	var wanted []history.Op
	for _, op := range ops {
		if failing[op.Key] {
			wanted = append(wanted, op)
		}
	}
	keys, err := splitByKey(wanted, workload)
	return keys, history.NemesisIntervals(events), err
}

// faultColors tints the annotation rows by fault kind.
var faultColors = map[string]string{
	"partition": "#fde2e2",
	"kill":      "#fff1c1",
	"pause":     "#e2ecfd",
	"clock":     "#e6f7e6",
	"member":    "#f1e2fd",
}

func nemesisAnnotations(intervals []history.Interval) []porcupine.Annotation {
	out := make([]porcupine.Annotation, 0, len(intervals))
	for _, iv := range intervals {
		color := "#eeeeee"
		for prefix, c := range faultColors {
			if strings.HasPrefix(iv.Kind, prefix) {
				color = c
			}
		}
		details := fmt.Sprintf("%s from %s to %s", iv.Description, at(iv.Start), at(iv.End))
		if iv.Open() {
			details = fmt.Sprintf("%s from %s, never ended", iv.Description, at(iv.Start))
		}
		out = append(out, porcupine.Annotation{
			Tag:             "nemesis: " + iv.Kind,
			Start:           iv.Start,
			End:             iv.End,
			Description:     iv.Kind,
			Details:         details,
			BackgroundColor: color,
		})
	}
	return out
}

// unobservedAnnotations shows the writes of unknown outcome that the check
// left out because nobody saw their value, on a row of their own.
func unobservedAnnotations(kh *keyHistory, workload string) []porcupine.Annotation {
	var out []porcupine.Annotation
	for _, i := range kh.unobserved {
		r := &kh.recs[i]
		in, _, err := kh.modelInput(r, workload, nil)
		if err != nil {
			continue
		}
		in.unknown = true
		end := r.call
		if r.completed() {
			end = r.ret
		}
		out = append(out, porcupine.Annotation{
			Tag:         "unknown outcome, never observed",
			Start:       r.call,
			End:         end,
			Description: describeOperation(&in, &output{}),
			Details: fmt.Sprintf("process %d, event %d: its value was never read, so it may as well never have happened; left out of the check",
				r.process, r.invoke),
			BackgroundColor: "#f4f4f4",
		})
	}
	return out
}
