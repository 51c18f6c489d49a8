package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckJepsenHistory(t *testing.T) {
	code, out, errOut := runCLI(t, "check", "--from", "jepsen", "../../interop/testdata/jepsen-register.edn")
	if code != exitValid || !strings.Contains(out, "verdict: valid (register workload, 7 operations over 2 keys)") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runCLI(t, "check", "../../interop/testdata/jepsen-append.edn", "--from", "jepsen")
	if code != exitInvalid || !strings.Contains(out, "stale-read") {
		t.Fatalf("append fixture: exit %d\n%s", code, out)
	}
	code, _, errOut = runCLI(t, "check", "--from", "knossos", "x.edn")
	if code != exitCannotGo || !strings.Contains(errOut, `--from must be jepsen or porcupine, got "knossos"`) {
		t.Fatalf("bad --from: exit %d %s", code, errOut)
	}
	code, _, errOut = runCLI(t, "check", "--from", "jepsen", "testdata/stale.jsonl")
	if code != exitCannotGo || !strings.Contains(errOut, "testdata/stale.jsonl:1:") {
		t.Fatalf("JSONL read as EDN: exit %d %s", code, errOut)
	}
}

func TestExportAndCheckBack(t *testing.T) {
	dir := t.TempDir()
	for _, format := range []string{"jepsen", "porcupine"} {
		out := filepath.Join(dir, "h."+format)
		if code, _, errOut := runCLI(t, "export", "--to", format, "--out", out, "testdata/stale.jsonl"); code != 0 {
			t.Fatalf("export %s: exit %d %s", format, code, errOut)
		}
		code, got, _ := runCLI(t, "check", "--from", format, out)
		_, want, _ := runCLI(t, "check", "testdata/stale.jsonl")
		if code != exitInvalid || got != want {
			t.Errorf("%s: exit %d; check of the export differs:\n%s\nwant\n%s", format, code, got, want)
		}
	}
	code, out, _ := runCLI(t, "export", "--to", "jepsen", "testdata/valid.jsonl")
	if code != 0 || !strings.HasPrefix(out, "{:index 0, :time ") {
		t.Fatalf("export to stdout: exit %d\n%s", code, out)
	}
	if code, _, errOut := runCLI(t, "export", "testdata/valid.jsonl"); code != exitCannotGo || !strings.Contains(errOut, "--to must be") {
		t.Fatalf("export without --to: exit %d %s", code, errOut)
	}
}

func TestCheckBareFileReport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "report")
	code, out, errOut := runCLI(t, "check", "--from", "jepsen", "--report", dir, "../../interop/testdata/jepsen-register-stale.edn")
	if code != exitInvalid || !strings.Contains(out, "report: "+filepath.Join(dir, "report.html")) {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, f := range []string{"history.jsonl", "results.json", "report.html", "junit.xml"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("report directory lacks %s: %v", f, err)
		}
	}
	// The directory is a run directory now: check re-reads it as one.
	if code, again, _ := runCLI(t, "check", dir); code != exitInvalid || !strings.Contains(again, "stale-read") {
		t.Errorf("re-check of the report directory: exit %d\n%s", code, again)
	}
	if code, _, errOut := runCLI(t, "check", "--report", dir, dir); code != exitCannotGo || !strings.Contains(errOut, "--report is for a bare history file") {
		t.Errorf("--report on a run directory: exit %d %s", code, errOut)
	}
}

func TestCheckPrintsHistoryWarnings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.jsonl")
	lines := []string{
		`{"time":1,"process":0,"type":"invoke","f":"write","key":"k","value":5}`,
		`{"time":2,"process":0,"type":"fail","f":"write","key":"k","value":5,"error":"Put http://n1:7001/kv/k: context deadline exceeded"}`,
		`{"time":3,"process":1,"type":"invoke","f":"read","key":"k","value":null}`,
		`{"time":4,"process":1,"type":"ok","f":"read","key":"k","value":5}`,
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, out, _ := runCLI(t, "check", path)
	for _, want := range []string{"history warnings: 2", "fail-looks-like-timeout: line 2:", "failed-write-read: line 2:"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
