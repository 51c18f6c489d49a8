package history

import (
	"path/filepath"
	"testing"
)

func TestRecorderCountsWhatItWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), DefaultName)
	rec, err := NewRecorder(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	if c := rec.Counts(); c.Events != 0 || c.FirstInvoke != -1 {
		t.Fatalf("empty recorder counts %+v", c)
	}
	nem := Process{Nemesis: true}
	for _, e := range []Event{
		{Time: 100, Process: nem, Type: Info, F: "kill-start"},
		{Time: 250, Process: Process{ID: 0}, Type: Invoke, F: FRead, Key: "k1"},
		{Time: 300, Process: Process{ID: 0}, Type: Ok, F: FRead, Key: "k1"},
		{Time: 400, Process: Process{ID: 1}, Type: Invoke, F: FWrite, Key: "k1", Value: 3},
		{Time: 500, Process: Process{ID: 1}, Type: Info, F: FWrite, Key: "k1", Value: 3},
		{Time: 600, Process: Process{ID: 2}, Type: Invoke, F: FWrite, Key: "k1", Value: 4},
		{Time: 700, Process: Process{ID: 2}, Type: Fail, F: FWrite, Key: "k1", Value: 4},
		{Time: 800, Process: nem, Type: Info, F: "kill-end"},
	} {
		if _, _, err := rec.Record(e); err != nil {
			t.Fatal(err)
		}
	}
	want := Counts{Events: 8, Invoke: 3, Ok: 1, Fail: 1, Info: 1, Nemesis: 2, FirstInvoke: 250}
	if got := rec.Counts(); got != want {
		t.Fatalf("counts %+v, want %+v (nemesis info is not a client info)", got, want)
	}
	events, err := ReadFile(path)
	if err != nil || len(events) != want.Events {
		t.Fatalf("the file holds %d events (%v), the counts say %d", len(events), err, want.Events)
	}
}
