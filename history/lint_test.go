package history

import (
	"strings"
	"testing"
)

func TestLintTimeoutAsFail(t *testing.T) {
	events := []Event{
		{Time: 1, Process: Client(0), Type: Invoke, F: FWrite, Key: "k", Value: 1},
		{Time: 2, Process: Client(0), Type: Fail, F: FWrite, Key: "k", Value: 1, Error: "Post http://n1/kv/k: context deadline exceeded"},
		{Time: 3, Process: Client(0), Type: Invoke, F: FWrite, Key: "k", Value: 2},
		{Time: 4, Process: Client(0), Type: Fail, F: FWrite, Key: "k", Value: 2, Error: "no leader"},
	}
	ws, err := Lint(events)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 1 || ws[0].Kind != LintTimeoutAsFail || ws[0].Event != 1 || !strings.Contains(ws[0].Message, "line 2:") {
		t.Fatalf("warnings = %+v, want one timeout-as-fail at event 1", ws)
	}
}

func TestLintFailedWriteRead(t *testing.T) {
	events := []Event{
		{Time: 1, Process: Client(0), Type: Invoke, F: FWrite, Key: "k", Value: 5},
		{Time: 2, Process: Client(0), Type: Fail, F: FWrite, Key: "k", Value: 5, Error: "refused"},
		{Time: 3, Process: Client(1), Type: Invoke, F: FRead, Key: "k"},
		{Time: 4, Process: Client(1), Type: Ok, F: FRead, Key: "k", Value: 5},
		// A failed append whose element someone else appended too is no warning.
		{Time: 5, Process: Client(2), Type: Invoke, F: FAppend, Key: "l", Value: 7},
		{Time: 6, Process: Client(2), Type: Fail, F: FAppend, Key: "l", Value: 7},
		{Time: 7, Process: Client(3), Type: Invoke, F: FAppend, Key: "l", Value: 7},
		{Time: 8, Process: Client(3), Type: Info, F: FAppend, Key: "l", Value: 7},
		{Time: 9, Process: Client(4), Type: Invoke, F: FRead, Key: "l"},
		{Time: 10, Process: Client(4), Type: Ok, F: FRead, Key: "l", Value: []any{7}},
	}
	ws, err := Lint(events)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 1 || ws[0].Kind != LintFailedWriteRead || ws[0].Event != 1 || !strings.Contains(ws[0].Message, "read at line 4") {
		t.Fatalf("warnings = %+v, want one failed-write-read about event 1", ws)
	}
}

func TestLintCleanHistory(t *testing.T) {
	events := []Event{
		{Time: 1, Process: Client(0), Type: Invoke, F: FCas, Key: "k", Value: []any{1, 2}},
		{Time: 2, Process: Client(0), Type: Fail, F: FCas, Key: "k", Value: []any{1, 2}, Error: "precondition failed"},
		{Time: 3, Process: Client(1), Type: Invoke, F: FRead, Key: "k"},
		{Time: 4, Process: Client(1), Type: Ok, F: FRead, Key: "k", Value: nil},
	}
	ws, err := Lint(events)
	if err != nil || len(ws) != 0 {
		t.Fatalf("warnings = %+v, err %v; want none", ws, err)
	}
}
