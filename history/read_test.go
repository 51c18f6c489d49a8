package history

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const goodPrefix = `{"time":1,"process":3,"type":"invoke","f":"write","key":"k7","value":42}
{"time":2,"process":3,"type":"ok","f":"write","key":"k7","value":42,"node":"n1"}
`

func TestReadValidHistory(t *testing.T) {
	text := goodPrefix +
		`{"time":3,"process":4,"type":"invoke","f":"cas","key":"k7","value":[42,43]}
{"time":4,"process":4,"type":"fail","f":"cas","key":"k7","value":[42,43],"error":"precondition failed"}

{"time":5,"process":1,"type":"invoke","f":"read","key":"k7","value":null}
{"time":5,"process":"nemesis","type":"info","f":"partition-start","value":{"groups":[["n1"],["n2","n3"]]}}
{"time":6,"process":1,"type":"ok","f":"read","key":"k7","value":12345678901234567890}
{"time":7,"process":2,"type":"invoke","f":"append","key":"l","value":"x"}
{"time":8,"process":2,"type":"info","f":"append","key":"l","value":"x","error":"timeout"}
{"time":9,"process":5,"type":"invoke","f":"add","key":"s","value":1}`
	events, err := Read(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 10 {
		t.Fatalf("got %d events, want 10", len(events))
	}
	// Large integers survive as json.Number.
	if got := events[6].Value; got != json.Number("12345678901234567890") {
		t.Errorf("read value = %#v, want json.Number", got)
	}
	if !events[5].Process.Nemesis || events[5].Type != Info {
		t.Errorf("nemesis event decoded as %+v", events[5])
	}
	if events[1].Node != "n1" || events[3].Error != "precondition failed" {
		t.Errorf("extra fields lost: %+v %+v", events[1], events[3])
	}
}

func TestReadErrorsNameTheLine(t *testing.T) {
	cases := []struct {
		name, line, want string
	}{
		{"malformed JSON", `{"time":3,"process":1,`, "malformed JSON"},
		{"not an object", `[1,2]`, "malformed JSON"},
		{"two values", `{"time":3,"process":1,"type":"invoke","f":"read","key":"a"} {}`, "more than one value"},
		{"unknown type", `{"time":3,"process":1,"type":"done","f":"read","key":"a"}`, `unknown type "done"`},
		{"unknown f", `{"time":3,"process":1,"type":"invoke","f":"incr","key":"a"}`, `unknown f "incr"`},
		{"missing fields", `{"process":1,"type":"invoke","key":"a"}`, "missing field(s) [time f]"},
		{"bad process", `{"time":3,"process":"bob","type":"invoke","f":"read","key":"a"}`, "process must be"},
		{"bad time", `{"time":3.5,"process":1,"type":"invoke","f":"read","key":"a"}`, "field time"},
		{"completion without invoke", `{"time":3,"process":9,"type":"ok","f":"read","key":"a","value":1}`, "without a pending invoke"},
		{"second invoke", `{"time":3,"process":1,"type":"invoke","f":"read","key":"a"}` + "\n" +
			`{"time":4,"process":1,"type":"invoke","f":"read","key":"a"}`, "while its read invoked at event 2"},
		{"invoke after info", `{"time":3,"process":1,"type":"invoke","f":"read","key":"a"}` + "\n" +
			`{"time":4,"process":1,"type":"info","f":"read","key":"a"}` + "\n" +
			`{"time":5,"process":1,"type":"invoke","f":"read","key":"a"}`, "after its info completion at event 3"},
		{"f mismatch", `{"time":3,"process":1,"type":"invoke","f":"read","key":"a"}` + "\n" +
			`{"time":4,"process":1,"type":"ok","f":"write","key":"a"}`, `completion f "write" does not match`},
		{"key mismatch", `{"time":3,"process":1,"type":"invoke","f":"read","key":"a"}` + "\n" +
			`{"time":4,"process":1,"type":"ok","f":"read","key":"b"}`, `completion key "b" does not match`},
		{"time backwards", `{"time":1,"process":1,"type":"invoke","f":"read","key":"a"}`, "goes backwards"},
		{"nemesis not info", `{"time":3,"process":"nemesis","type":"invoke","f":"kill-start"}`, "nemesis events are info"},
		{"missing key", `{"time":3,"process":1,"type":"invoke","f":"read"}`, "has no key"},
		{"write without value", `{"time":3,"process":1,"type":"invoke","f":"write","key":"a"}`, `write invocation on key "a" has no value`},
		{"bad cas value", `{"time":3,"process":1,"type":"invoke","f":"cas","key":"a","value":5}`, "cas value must be [expected, new]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text := goodPrefix + c.line + "\n"
			events, err := Read(strings.NewReader(text))
			if err == nil {
				t.Fatal("no error")
			}
			wantLine := 2 + strings.Count(c.line, "\n") + 1
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line != wantLine || pe.File != DefaultName || pe.Truncated {
				t.Fatalf("error %v (%#v), want a ParseError at line %d", err, pe, wantLine)
			}
			prefix := DefaultName + ":" + itoa(wantLine) + ": "
			if !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q, want prefix %q containing %q", err, prefix, c.want)
			}
			if len(events) != wantLine-1 {
				t.Errorf("returned %d events with the error, want the %d before the bad line", len(events), wantLine-1)
			}
		})
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestReadFileNamesPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.jsonl")
	if err := os.WriteFile(path, []byte(goodPrefix+"{oops}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	events, err := ReadFile(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+":3: malformed JSON") {
		t.Fatalf("error = %v", err)
	}
	if len(events) != 2 {
		t.Fatalf("got %d events before the error, want 2", len(events))
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "absent.jsonl")); err == nil {
		t.Fatal("reading an absent file succeeded")
	}
}

func TestRecorderRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.jsonl")
	rec, err := NewRecorder(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []Event{
		{Process: Client(0), Type: Invoke, F: FWrite, Key: "k1", Value: json.Number("1")},
		{Process: Client(0), Type: Ok, F: FWrite, Key: "k1", Value: json.Number("1"), Node: "n2", Latency: 7},
		{Process: NemesisProcess, Type: Info, F: "kill-start", Value: map[string]any{"node": "n1"}},
		{Process: Client(1), Type: Invoke, F: FCas, Key: "k1", Value: []any{json.Number("1"), "two"}},
		{Process: Client(1), Type: Info, F: FCas, Key: "k1", Value: []any{json.Number("1"), "two"}, Error: "timeout"},
		{Process: Client(2), Type: Invoke, F: FRead, Key: "k1"},
		{Process: Client(2), Type: Ok, F: FRead, Key: "k1", Value: []any{"a", json.Number("2")}},
		{Process: NemesisProcess, Type: Info, F: "kill-end"},
	}
	for i := range want {
		got, idx, err := rec.Record(want[i])
		if err != nil || idx != i {
			t.Fatalf("Record %d: index %d, err %v", i, idx, err)
		}
		want[i].Time = got.Time
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
	}
}

func TestReadPrefixAfterCrash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.jsonl")
	rec, err := NewRecorder(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		rec.Record(Event{Process: Client(i), Type: Invoke, F: FRead, Key: "k"})
	}
	// Simulate a crash mid-write: half of one more line reaches the file.
	line, _ := json.Marshal(Event{Time: rec.Now(), Process: Client(0), Type: Ok, F: FRead, Key: "k", Value: json.Number("5")})
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(line[:len(line)/2])
	f.Close()

	events, err := ReadFile(path)
	var pe *ParseError
	if !errors.As(err, &pe) || !pe.Truncated || pe.Line != 4 || !strings.Contains(err.Error(), "truncated last line") {
		t.Fatalf("error = %v, want a truncated-last-line error at line 4", err)
	}
	if len(events) != 3 {
		t.Fatalf("got %d events, want the 3 intact ones", len(events))
	}
	// The intact prefix pairs into three never-completed operations.
	ops, err := Pair(events)
	if err != nil || len(ops) != 3 || ops[0].Completed() {
		t.Fatalf("Pair(prefix) = %+v, %v", ops, err)
	}
}

func TestReadAcceptsLastLineWithoutNewline(t *testing.T) {
	events, err := Read(strings.NewReader(strings.TrimSuffix(goodPrefix, "\n")))
	if err != nil || len(events) != 2 {
		t.Fatalf("got %d events, %v", len(events), err)
	}
}
