package check

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/faultline/faultline/check/gen"
	"github.com/faultline/faultline/history"
)

// CheckFile, which streams, and Check, which takes events, agree on every
// fixture and on generated histories of each workload, valid or corrupted.
func TestCheckFileAgreesWithCheck(t *testing.T) {
	paths, _ := filepath.Glob("../cmd/checker/testdata/*.jsonl")
	dir := t.TempDir()
	for i, workload := range []string{WorkloadRegister, WorkloadSet, WorkloadAppend} {
		events, err := gen.Generate(gen.Config{Workload: workload, Keys: 5, OpsPerKey: 60, Clients: 6, InfoRate: 0.1, FailRate: 0.05, Seed: uint64(i)})
		if err != nil {
			t.Fatal(err)
		}
		corrupt(events, workload, rand.New(rand.NewPCG(uint64(i), 7)))
		path := filepath.Join(dir, workload+".jsonl")
		writeEvents(t, path, events)
		paths = append(paths, path)
	}
	if len(paths) < 6 {
		t.Fatalf("fixtures missing: %v", paths)
	}
	for _, path := range paths {
		events, readErr := history.ReadFile(path)
		fromFile, fileErr := CheckFile(path, Options{CrossCheck: true})
		if readErr != nil {
			if fileErr == nil || !strings.Contains(fileErr.Error(), readErr.Error()) {
				t.Errorf("%s: CheckFile error %v, want the reader's %v", path, fileErr, readErr)
			}
			continue
		}
		fromEvents, err := Check(events, Options{CrossCheck: true})
		if err != nil || fileErr != nil {
			t.Fatalf("%s: %v / %v", path, err, fileErr)
		}
		for _, r := range []*Result{fromFile, fromEvents} {
			r.Stats.CheckNs, r.verbose, r.failing, r.intervals = 0, nil, nil, nil
			for i := range r.Keys {
				r.Keys[i].Elapsed = 0
			}
		}
		if !reflect.DeepEqual(fromFile, fromEvents) {
			t.Errorf("%s:\nCheckFile %+v\nCheck     %+v", path, fromFile, fromEvents)
		}
		if fromFile.Stats.ClassifierDisagreements != 0 {
			t.Errorf("%s: classifiers disagree with Porcupine", path)
		}
		t.Logf("%s: %s %v", filepath.Base(path), fromFile.Valid, fromFile.Counts)
	}
}

func writeEvents(t *testing.T, path string, events []history.Event) {
	var buf bytes.Buffer
	for _, e := range events {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(append(b, '\n'))
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// An in-memory value that JSON cannot carry exactly is refused, naming the event.
func TestCheckRefusesValuesJSONWouldChange(t *testing.T) {
	_, err := Check(histOf(ok(1, fW, "k", "a\xffb", nil, 1, 2, "n1")), Options{})
	if err == nil || !strings.Contains(err.Error(), "history event 0") || !strings.Contains(err.Error(), "UTF-8") {
		t.Fatalf("err = %v", err)
	}
}

// A history cut mid-line (a crashed writer) is checked up to the cut when
// the options tolerate it, with the reader's error naming the line; a
// corrupt line elsewhere still fails unless any refused line is tolerated.
func TestCheckFileTolerance(t *testing.T) {
	valid, err := os.ReadFile("../cmd/checker/testdata/valid.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Count(valid, []byte("\n"))
	dir := t.TempDir()
	cut := filepath.Join(dir, "cut.jsonl")
	if err := os.WriteFile(cut, append(slices.Clone(valid), `{"time":99999999,"process":0,"type":"inv`...), 0o644); err != nil {
		t.Fatal(err)
	}
	corruptPath := filepath.Join(dir, "corrupt.jsonl")
	if err := os.WriteFile(corruptPath, append(slices.Clone(valid), "{\"time\":\n"+string(valid)...), 0o644); err != nil {
		t.Fatal(err)
	}
	whole, err := CheckFile("../cmd/checker/testdata/valid.jsonl", Options{})
	if err != nil {
		t.Fatal(err)
	}
	line := fmt.Sprintf(":%d:", lines+1)
	cases := []struct {
		path     string
		tolerate Tolerance
		checked  bool
	}{
		{cut, TolerateNone, false},
		{cut, TolerateCut, true},
		{cut, TolerateAny, true},
		{corruptPath, TolerateCut, false},
		{corruptPath, TolerateAny, true},
	}
	for _, c := range cases {
		res, err := CheckFile(c.path, Options{Tolerate: c.tolerate})
		var pe *history.ParseError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), c.path+line) {
			t.Fatalf("%s, tolerance %d: error %v, want the file and line %d", c.path, c.tolerate, err, lines+1)
		}
		if (res != nil) != c.checked {
			t.Fatalf("%s, tolerance %d: result %v, want one: %v", c.path, c.tolerate, res, c.checked)
		}
		if res != nil && (res.Valid != whole.Valid || res.Stats.Ops != whole.Stats.Ops) {
			t.Fatalf("%s: %s over %d ops, want the whole file's %s over %d", c.path, res.Valid, res.Stats.Ops, whole.Valid, whole.Stats.Ops)
		}
	}
}
