package history

import (
	"path/filepath"
	"strings"
	"testing"
)

// The recorder writes exactly what happened or refuses: text that is not
// UTF-8 in a key or value is refused with the field named (JSON would have
// written U+FFFD instead), and an error message keeps its invalid bytes
// visibly as \xNN. The history stays readable by the strict reader.
func TestRecorderKeepsTextExactOrRefuses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.jsonl")
	r, err := NewRecorder(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		e    Event
		want string
	}{
		{Event{Process: Process{ID: 1}, Type: Invoke, F: FWrite, Key: "a\xffb", Value: 1}, `field key "a\xffb"`},
		{Event{Process: Process{ID: 1}, Type: Invoke, F: FWrite, Key: "k", Value: "x\xfey"}, `field value: string "x\xfey"`},
		{Event{Process: Process{ID: 1}, Type: Invoke, F: FAppend, Key: "k", Value: []any{1, map[string]any{"\xc3": 2}}}, `field value[1]: member name`},
	} {
		if _, _, err := r.Record(tc.e); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Record(%+q) = %v, want a refusal naming %s", tc.e.Key, err, tc.want)
		}
	}
	ok := []Event{
		{Process: Process{ID: 1}, Type: Invoke, F: FWrite, Key: "a\x00b\ufffd", Value: "x\x00y"},
		{Process: Process{ID: 1}, Type: Info, F: FWrite, Key: "a\x00b\ufffd", Value: "x\x00y", Error: "timeout at \xff"},
	}
	for _, e := range ok {
		if _, _, err := r.Record(e); err != nil {
			t.Fatalf("Record(%+v): %v", e, err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	events, err := ReadFile(path)
	if err != nil {
		t.Fatalf("reading the history back: %v", err)
	}
	if len(events) != 2 || events[0].Key != "a\x00b\ufffd" || events[0].Value != "x\x00y" || events[1].Error != `timeout at \xff` {
		t.Fatalf("read back %+v", events)
	}
}
