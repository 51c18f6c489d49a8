package check

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/faultline/faultline/history"
)

func TestWriteResultsRoundTrip(t *testing.T) {
	res := mustCheck(t, histOf(
		ok(1, fW, "k7", 41, nil, 10000, 10100, "n1"),
		ok(1, fW, "k7", 42, nil, 11800, 11900, "n1"),
		ok(2, fR, "k7", nil, 41, 12400, 12450, "n3"),
		ok(1, fW, "k7", 43, nil, 13000, 13100, "n1"),
		ok(2, fR, "k7", nil, 43, 14000, 14100, "n1"),
	), Options{})
	path := filepath.Join(t.TempDir(), "results.json")
	if err := WriteResults(path, res); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"valid": false`, `"kind": "stale-read"`, `"stale_by": 500000000`, `"anomaly_counts"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("results.json lacks %s:\n%s", want, raw)
		}
	}
	back, err := ReadResults(path)
	if err != nil {
		t.Fatal(err)
	}
	res.verbose, res.failing, res.intervals = nil, nil, nil // in memory only
	if !reflect.DeepEqual(back, res) {
		t.Fatalf("round trip differs:\n got %+v\nwant %+v", back, res)
	}
	if err := WriteResults(filepath.Join(t.TempDir(), "missing", "results.json"), res); err == nil {
		t.Fatal("writing into a missing directory succeeded")
	}
}

func TestWriteKeyViews(t *testing.T) {
	events := histOf(
		ok(1, fW, "a/b", 1, nil, 0, 100, "n1"),
		ok(2, fW, "a/b", 2, nil, 0, 100, "n2"),
		ok(3, fR, "a/b", nil, 1, 200, 300, "n3"),
		ok(3, fR, "a/b", nil, 2, 400, 500, "n3"),
		ok(3, fR, "a/b", nil, 1, 600, 700, "n1"),
		ok(4, fW, "fine", 1, nil, 0, 100, "n1"),
		info(5, fW, "a/b", 77, 420, 480),
	)
	// Insert nemesis events at their times.
	events = append(events, history.Event{Time: 700 * ms, Process: history.NemesisProcess, Type: history.Info, F: "kill-start", Value: "n2"})
	events = append([]history.Event{{Time: 0, Process: history.NemesisProcess, Type: history.Info, F: "partition-start",
		Value: map[string]any{"groups": []any{[]any{"n1"}, []any{"n2", "n3"}}}}}, events...)
	events = insertAt(events, history.Event{Time: 350 * ms, Process: history.NemesisProcess, Type: history.Info, F: "partition-end"})
	res := mustCheck(t, events, Options{})
	if res.Valid != Invalid {
		t.Fatalf("verdict %s", res.Valid)
	}
	for _, fromDisk := range []bool{false, true} {
		dir := t.TempDir()
		r := res
		if fromDisk { // a Result read back from results.json has no verbose data
			path := filepath.Join(dir, "results.json")
			if err := WriteResults(path, res); err != nil {
				t.Fatal(err)
			}
			var err error
			if r, err = ReadResults(path); err != nil {
				t.Fatal(err)
			}
		}
		if err := WriteKeyViews(dir, events, r, Options{}); err != nil {
			t.Fatal(err)
		}
		entries, err := os.ReadDir(filepath.Join(dir, "keys"))
		if err != nil || len(entries) != 1 || entries[0].Name() != KeyFileName("a/b") {
			t.Fatalf("keys/ holds %v (%v), want only %s", entries, err, KeyFileName("a/b"))
		}
		page, err := os.ReadFile(filepath.Join(dir, "keys", entries[0].Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"<html", "nemesis: partition", "nemesis: kill", "read() → 2", "node n3", "<script", "write(77) ?"} {
			if !strings.Contains(string(page), want) {
				t.Errorf("view lacks %q", want)
			}
		}
		if strings.Contains(string(page), `src="http`) || strings.Contains(string(page), `href="http`) {
			t.Error("view is not self-contained: it references the network")
		}
	}
}

func insertAt(events []history.Event, e history.Event) []history.Event {
	for i := range events {
		if events[i].Time > e.Time {
			return append(events[:i], append([]history.Event{e}, events[i:]...)...)
		}
	}
	return append(events, e)
}

func TestKeyFileName(t *testing.T) {
	cases := map[string]string{"k7": "k7.html", "user-1.x_y": "user-1.x_y.html"}
	for key, want := range cases {
		if got := KeyFileName(key); got != want {
			t.Errorf("KeyFileName(%q) = %q, want %q", key, got, want)
		}
	}
	seen := map[string]string{}
	for _, key := range []string{"a/b", "a_b", "a?b", "../etc", "", ".hidden", strings.Repeat("x", 300)} {
		name := KeyFileName(key)
		if strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") || len(name) > 120 {
			t.Errorf("KeyFileName(%q) = %q is not a safe file name", key, name)
		}
		if other, dup := seen[name]; dup {
			t.Errorf("keys %q and %q share file %q", key, other, name)
		}
		seen[name] = key
	}
}

// A history that went through the file (json.Number values, []any lists)
// checks like the in-memory one.
func TestCheckHistoryFromFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "history.jsonl")
	rec, err := history.NewRecorder(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range histOf(
		ok(1, fApp, "l", 1, nil, 0, 100, "n1"),
		ok(2, fApp, "l", "x", nil, 50, 150, "n2"),
		ok(3, fR, "l", nil, []any{1, "x"}, 200, 300, "n3"),
		ok(1, fApp, "l", 2, nil, 400, 500, "n1"),
		ok(3, fR, "l", nil, []any{1, "x"}, 600, 700, "n3"), // final read: 2 is lost
	) {
		if _, _, err := rec.Record(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	events, err := history.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	res := mustCheck(t, events, Options{})
	expectAnomalies(t, res, LostCommit)
	expectExplanation(t, res.Anomalies[0], "append of 2 to l, acknowledged at 0.5 s on n1, is lost")
	if err := WriteResults(filepath.Join(dir, "results.json"), res); err != nil {
		t.Fatal(err)
	}
	if err := WriteKeyViews(dir, events, res, Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "keys", "l.html")); err != nil {
		t.Fatal(err)
	}
}
