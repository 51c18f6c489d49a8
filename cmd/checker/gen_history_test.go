package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// gen-history writes a history that check reads as valid, the same bytes
// for the same flags.
func TestGenHistoryThenCheck(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "b.jsonl")
	for _, path := range []string{a, b} {
		code, out, errOut := runCLI(t, "gen-history", "--preset", "hard", "--ops", "2000", "--keys", "4", "--clients", "6", "--out", path)
		if code != 0 || !strings.Contains(out, "4000 events (2000 register operations over 4 keys, 6 clients, 10% info)") {
			t.Fatalf("gen-history: exit %d, %s %s", code, out, errOut)
		}
	}
	ab, _ := os.ReadFile(a)
	bb, _ := os.ReadFile(b)
	if string(ab) != string(bb) {
		t.Fatal("the same flags gave different files")
	}
	code, out, errOut := runCLI(t, "check", "--check-memory", "256MiB", a)
	if code != exitValid || !strings.Contains(out, "valid") {
		t.Fatalf("check: exit %d, %s %s", code, out, errOut)
	}
}

func TestGenHistoryAndCheckMemoryFlagErrors(t *testing.T) {
	out := filepath.Join(t.TempDir(), "h.jsonl")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"gen-history"}, "--out is required"},
		{[]string{"gen-history", "--out", out, "--preset", "huge"}, "--preset must be"},
		{[]string{"gen-history", "--out", out, "--ops", "1001"}, "--ops must be a positive multiple of --keys (1000)"},
		{[]string{"gen-history", "--out", out, "--info", "0.7", "--fail", "0.5"}, "add up to at most 1"},
		{[]string{"check", "--check-memory", "lots", out}, `invalid value "lots" for flag -check-memory`},
	} {
		code, _, errOut := runCLI(t, c.args...)
		if code != exitCannotGo || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 3 and %q", c.args, code, errOut, c.want)
		}
	}
}
