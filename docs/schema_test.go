package docs

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/faultline/faultline/history"
)

func historySchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	sch, err := jsonschema.NewCompiler().Compile("history.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// validateLines validates every complete line of a history against the
// schema (a last line without its newline is a write cut short, which the
// format allows).
func validateLines(t *testing.T, sch *jsonschema.Schema, name string, data []byte) int {
	t.Helper()
	if i := bytes.LastIndexByte(data, '\n'); i < len(data)-1 {
		data = data[:i+1]
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	n := 0
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(text))
		if err != nil {
			t.Errorf("%s:%d: not JSON: %v", name, line, err)
			continue
		}
		if err := sch.Validate(inst); err != nil {
			t.Errorf("%s:%d: refused by history.schema.json: %v", name, line, err)
		}
		n++
	}
	return n
}

// TestFixturesMatchTheSchema: the histories the tests check and report on,
// and one written by history.Recorder, are valid instances line by line, and
// history.Reader accepts them too.
func TestFixturesMatchTheSchema(t *testing.T) {
	sch := historySchema(t)
	files, _ := filepath.Glob("../report/testdata/store/*/*/history.jsonl")
	more, _ := filepath.Glob("../cmd/checker/testdata/*.jsonl")
	for _, f := range more {
		if !strings.Contains(f, "malformed") { // malformed on purpose
			files = append(files, f)
		}
	}
	if len(files) < 5 {
		t.Fatalf("fixtures not found: %v", files)
	}
	recorded := filepath.Join(t.TempDir(), history.DefaultName)
	writeRecorded(t, recorded)
	files = append(files, recorded)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n := validateLines(t, sch, f, data)
		events, err := history.ReadFile(f)
		var pe *history.ParseError
		if errors.As(err, &pe) && pe.Truncated {
			err = nil // the cut last line, not counted above either
		}
		if err != nil || len(events) != n {
			t.Errorf("%s: history.Reader read %d of %d lines: %v", f, len(events), n, err)
		}
	}
}

func writeRecorded(t *testing.T, path string) {
	t.Helper()
	rec, err := history.NewRecorder(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []history.Event{
		{Time: 1, Process: history.Client(0), Type: history.Invoke, F: history.FWrite, Key: "k", Value: 1},
		{Time: 2, Process: history.NemesisProcess, Type: history.Info, F: "partition-start", Value: map[string]any{"groups": [][]string{{"n1"}, {"n2", "n3"}}}},
		{Time: 3, Process: history.Client(0), Type: history.Ok, F: history.FWrite, Key: "k", Value: 1, Node: "n1", Latency: 2},
		{Time: 4, Process: history.Client(1), Type: history.Invoke, F: history.FCas, Key: "k", Value: []any{1, 2}},
		{Time: 5, Process: history.Client(1), Type: history.Info, F: history.FCas, Key: "k", Value: []any{1, 2}, Error: "timeout"},
		{Time: 6, Process: history.Client(2), Type: history.Invoke, F: history.FAppend, Key: "l", Value: 7},
		{Time: 7, Process: history.Client(2), Type: history.Fail, F: history.FAppend, Key: "l", Value: 7, Error: "not leader"},
		{Time: 8, Process: history.Client(3), Type: history.Invoke, F: history.FRead, Key: "l"},
		{Time: 9, Process: history.Client(3), Type: history.Ok, F: history.FRead, Key: "l", Value: []any{}},
		{Time: 10, Process: history.NemesisProcess, Type: history.Info, F: "partition-end"},
	} {
		if _, _, err := rec.Record(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestSchemaRefusesWhatTheReaderRefuses: lines that break the format are
// refused by the schema and by history.Reader alike.
func TestSchemaRefusesWhatTheReaderRefuses(t *testing.T) {
	sch := historySchema(t)
	for _, line := range []string{
		`{"process":0,"type":"invoke","f":"read","key":"k","value":null}`,
		`{"time":-1,"process":0,"type":"invoke","f":"read","key":"k","value":null}`,
		`{"time":1,"process":-2,"type":"invoke","f":"read","key":"k","value":null}`,
		`{"time":1,"process":"chaos","type":"info","f":"kill-start"}`,
		`{"time":1,"process":0,"type":"finish","f":"read","key":"k","value":null}`,
		`{"time":1,"process":0,"type":"invoke","f":"read","value":null}`,
		`{"time":1,"process":0,"type":"invoke","f":"increment","key":"k","value":1}`,
		`{"time":1,"process":0,"type":"invoke","f":"cas","key":"k","value":3}`,
		`{"time":1,"process":0,"type":"invoke","f":"write","key":"k"}`,
		`{"time":1,"process":"nemesis","type":"ok","f":"kill-start"}`,
		`{"time":1.5,"process":0,"type":"invoke","f":"read","key":"k","value":null}`,
		`[1,2,3]`,
	} {
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(line))
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if sch.Validate(inst) == nil {
			t.Errorf("schema accepts %s", line)
		}
		if _, err := history.Read(strings.NewReader(line + "\n")); err == nil {
			t.Errorf("history.Reader accepts %s", line)
		}
	}
}
