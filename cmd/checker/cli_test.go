package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/campaign"
	"github.com/faultline/faultline/campaign/sweep"
	"github.com/faultline/faultline/store"
	"github.com/faultline/faultline/sut/bugs"
)

// runCLI runs the command line in-process and returns exit code and output.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := dispatch(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestHelpAndUsage(t *testing.T) {
	code, out, _ := runCLI(t, "help")
	if code != 0 || !strings.Contains(out, "Usage: checker <command>") || !strings.Contains(out, "run") || !strings.Contains(out, "check") {
		t.Fatalf("help: code %d\n%s", code, out)
	}
	for _, cmd := range []string{"run", "check", "bugs", "gc"} {
		code, out, _ := runCLI(t, cmd, "-h")
		if code != 0 || !strings.Contains(out, "Usage: checker "+cmd) {
			t.Errorf("%s -h: code %d\n%s", cmd, code, out)
		}
		code, out2, _ := runCLI(t, "help", cmd)
		if code != 0 || out2 != out {
			t.Errorf("help %s differs from %s -h", cmd, cmd)
		}
	}
	code, out, _ = runCLI(t, "run", "--help")
	if code != 0 {
		t.Fatalf("run --help: exit %d", code)
	}
	for _, flag := range []string{"--runtime", "--nodes", "--duration", "--workload", "--concurrency", "--rate", "--keys",
		"--nemesis", "--interval", "--seed", "--read", "--read-mode", "--bug", "--store", "--name", "--check-timeout", "--replay",
		"--max-clock-drift", "--snapshot-every", "--check-memory"} {
		if !strings.Contains(out, "  "+flag+" ") && !strings.Contains(out, "  "+flag+"\n") {
			t.Errorf("run usage lacks %s", flag)
		}
	}
	if code, _, errOut := runCLI(t, "frobnicate"); code != exitCannotGo || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Fatalf("unknown command: code %d, %q", code, errOut)
	}
	if code, _, _ := runCLI(t); code != exitCannotGo {
		t.Fatalf("no command: code %d", code)
	}
}

func TestRunFlagErrorsNameTheFlag(t *testing.T) {
	cases := map[string][]string{
		"-nodes":        {"--nodes", "many"},
		"--nodes":       {"--nodes", "2"},
		"--duration":    {"--duration", "-5s"},
		"--workload":    {"--workload", "queue"},
		"--nemesis":     {"--nemesis", "partition,flood"},
		"--read-mode":   {"--read-mode", "fast"},
		"--read":        {"--read", "dirty"},
		"--bug":         {"--bug", "no-such-bug"},
		"--runtime":     {"--runtime", "vm"},
		"-frobnicate":   {"--frobnicate"},
		"--name":        {"--name", "a/b"},
		"--replay":      {"--replay", "/nonexistent/run"},
		"unexpected":    {"extra-arg"},
		"--concurrency": {"--concurrency", "0"},
	}
	for want, args := range cases {
		code, _, errOut := runCLI(t, append([]string{"run"}, args...)...)
		if code != exitCannotGo {
			t.Errorf("%v: exit %d, want %d", args, code, exitCannotGo)
		}
		if !strings.Contains(errOut, want) {
			t.Errorf("%v: error %q does not name %s", args, errOut, want)
		}
	}
}

func TestReproduceArgsParseBackToTheSameOptions(t *testing.T) {
	o := campaign.DefaultOptions()
	o.Seed, o.Nodes, o.Duration, o.Workload, o.Nemesis = 99, 3, 20*time.Second, "append", "partition,kill"
	o.Read, o.ReadMode, o.Bugs, o.Rate, o.Store, o.Name = "local", "lease", []string{"no-dedup", "ack-before-commit"}, 12.5, "/tmp/x y", "nightly"
	o.SnapshotEvery, o.MaxClockDrift, o.RequestTimeout = 50, 0.05, 700*time.Millisecond
	o.CheckMemory = 1_500_000_007 // not a round size: the reproduce line must keep every byte
	args := o.ReproduceArgs()
	if args[0] != "run" {
		t.Fatalf("args start with %q", args[0])
	}
	got, err := parseRunOptions(args[1:], &runExtras{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, o) {
		t.Fatalf("reproduce args do not round-trip:\n got %+v\nwant %+v", got, o)
	}
}

func TestReplayTakesRecordedOptionsAndOverrides(t *testing.T) {
	dir := t.TempDir()
	rec := campaign.DefaultOptions()
	rec.Seed, rec.Nodes, rec.Nemesis, rec.Bugs, rec.Workload = 1234, 3, "partition", []string{"no-dedup"}, "append"
	writeManifest(t, dir, rec)

	got, err := parseRunOptions([]string{"--replay", dir}, &runExtras{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rec) {
		t.Fatalf("replay changed options:\n got %+v\nwant %+v", got, rec)
	}
	// Flags given with --replay override the recording; --bug replaces the list.
	got, err = parseRunOptions([]string{"--duration", "5s", "--replay", dir, "--bug", "stale-local-read"}, &runExtras{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Duration != 5*time.Second || got.Seed != 1234 || got.Workload != "append" || !reflect.DeepEqual(got.Bugs, []string{"stale-local-read"}) {
		t.Fatalf("override: %+v", got)
	}
}

func writeManifest(t *testing.T, dir string, o campaign.Options) {
	t.Helper()
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.WriteManifest(dir, store.Manifest{Name: "x", Seed: o.Seed, Options: b}); err != nil {
		t.Fatal(err)
	}
}

func TestBugsListsTheCatalogue(t *testing.T) {
	code, out, _ := runCLI(t, "bugs")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, b := range bugs.Catalogue {
		if !strings.Contains(out, b.Name) || !strings.Contains(out, "--bug "+b.Name+" --nemesis "+sweep.Exposures[b.Name].Nemesis) {
			t.Errorf("bug %s or its exposure missing", b.Name)
		}
	}
	if !strings.Contains(out, "removed-server-disrupts (liveness)") {
		t.Error("liveness bug not marked")
	}
}

func TestCheckExitCodes(t *testing.T) {
	code, out, errOut := runCLI(t, "check", "testdata/valid.jsonl")
	if code != exitValid || !strings.Contains(out, "verdict: valid") {
		t.Fatalf("valid history: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, "check", "testdata/stale.jsonl", "--workload", "register")
	if code != exitInvalid || !strings.Contains(out, "verdict: invalid") || !strings.Contains(out, "stale-read") {
		t.Fatalf("stale history: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "k7") {
		t.Errorf("explanation does not name the key:\n%s", out)
	}
	code, out, errOut = runCLI(t, "check", "--workload", "append", "testdata/append-lost.jsonl")
	if code != exitInvalid || !strings.Contains(out, "lost-commit") {
		t.Fatalf("append history with a lost element: exit %d\n%s%s", code, out, errOut)
	}
	code, _, errOut = runCLI(t, "check", "testdata/malformed.jsonl")
	if code != exitCannotGo || !strings.Contains(errOut, "malformed.jsonl:3") {
		t.Fatalf("malformed history: exit %d, %q (want the file:line)", code, errOut)
	}
}

func TestCheckBadArguments(t *testing.T) {
	cases := map[string][]string{
		"missing RUN_DIR": {},
		"--workload":      {"--workload", "queue", "testdata/valid.jsonl"},
		"--check-timeout": {"--check-timeout", "0s", "testdata/valid.jsonl"},
		"no such file":    {"testdata/none.jsonl"},
		"2 arguments":     {"testdata/valid.jsonl", "testdata/stale.jsonl"},
		"-frobnicate":     {"--frobnicate", "testdata/valid.jsonl"},
	}
	for want, args := range cases {
		code, _, errOut := runCLI(t, append([]string{"check"}, args...)...)
		if code != exitCannotGo || !strings.Contains(errOut, want) {
			t.Errorf("check %v: exit %d, %q (want %q)", args, code, errOut, want)
		}
	}
}

func TestCheckRunDirRewritesResults(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile("testdata/stale.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, store.HistoryFile), b, 0o644)
	o := campaign.DefaultOptions()
	o.Seed = 1
	writeManifest(t, dir, o)
	// A view of a key from an older check must not survive a re-check.
	os.MkdirAll(filepath.Join(dir, "keys"), 0o755)
	os.WriteFile(filepath.Join(dir, "keys", "old.html"), []byte("old"), 0o644)

	code, out, errOut := runCLI(t, "check", dir)
	if code != exitInvalid {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	var res struct {
		Valid     any `json:"valid"`
		Anomalies []struct {
			Kind string `json:"kind"`
		} `json:"anomalies"`
	}
	rb, err := os.ReadFile(filepath.Join(dir, store.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(rb, &res); err != nil {
		t.Fatal(err)
	}
	if res.Valid != false || len(res.Anomalies) == 0 {
		t.Fatalf("results.json: %s", rb)
	}
	if _, err := os.Stat(filepath.Join(dir, "keys", "old.html")); !os.IsNotExist(err) {
		t.Fatal("stale key view kept")
	}
	if _, err := os.Stat(filepath.Join(dir, "keys", "k7.html")); err != nil {
		t.Errorf("no view of the failing key: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "report.html")); err != nil {
		t.Errorf("report not rewritten: %v", err)
	}
}

func TestFormatSnapshot(t *testing.T) {
	s := campaign.Snapshot{Phase: campaign.PhaseRunning, Elapsed: 12 * time.Second, Total: time.Minute,
		Ok: 1234, Fail: 12, Info: 3, Fault: "partition halves", Leader: "n3", Term: 4}
	got := formatSnapshot(s)
	want := "12s/1m0s running | ok 1234 fail 12 info 3 | fault: partition halves | leader n3 (term 4)"
	if got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	if got := truncate("abcdefgh", 5); got != "abcd…" {
		t.Fatalf("truncate: %q", got)
	}
}

func TestPlainDisplayPrintsPhasesAndThrottles(t *testing.T) {
	var buf bytes.Buffer
	d := newDisplay(&buf)
	if d.live {
		t.Fatal("a buffer is not a terminal")
	}
	d.Update(campaign.Snapshot{Phase: campaign.PhaseStarting})
	d.Update(campaign.Snapshot{Phase: campaign.PhaseRunning})
	d.Update(campaign.Snapshot{Phase: campaign.PhaseRunning, Ok: 1}) // within plainEvery: not printed
	d.Update(campaign.Snapshot{Phase: campaign.PhaseHealing})
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines:\n%s", len(lines), buf.String())
	}
	if strings.Contains(buf.String(), "\r") {
		t.Fatal("carriage return in plain output")
	}
}

func TestServeBadFlags(t *testing.T) {
	code, _, errOut := runCLI(t, "serve", "--addr", "nonsense", "--store", t.TempDir())
	if code != exitCannotGo || !strings.Contains(errOut, "--addr") {
		t.Fatalf("exit %d, %q", code, errOut)
	}
	code, _, errOut = runCLI(t, "serve", "extra")
	if code != exitCannotGo || !strings.Contains(errOut, `unexpected argument "extra"`) {
		t.Fatalf("exit %d, %q", code, errOut)
	}
}

// TestRunWithoutDockerEngineExits3 covers a campaign that cannot start: the
// run directory still records why, and the exit code is 3.
func TestRunWithoutDockerEngineExits3(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
	storeDir := t.TempDir()
	code, _, errOut := runCLI(t, "run", "--runtime", "docker", "--duration", "2s", "--store", storeDir)
	if code != exitCannotGo || !strings.Contains(errOut, "could not run") || !strings.Contains(errOut, "--runtime docker") {
		t.Fatalf("exit %d, %q", code, errOut)
	}
	m, err := store.ReadManifest(filepath.Join(storeDir, store.LatestLink))
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != store.StatusError || !strings.Contains(m.Error, "docker") || m.EndedAt == nil {
		t.Fatalf("campaign.json: status %q error %q", m.Status, m.Error)
	}
	if _, err := os.Stat(filepath.Join(storeDir, store.LatestLink, store.ReportFile)); err != nil {
		t.Errorf("no report for the failed run: %v", err)
	}
}

func TestLiveDisplayRedrawsBelowLogLines(t *testing.T) {
	var buf bytes.Buffer
	d := &display{w: &buf, live: true}
	d.Update(campaign.Snapshot{Phase: campaign.PhaseRunning, Total: time.Minute, Ok: 1})
	d.Update(campaign.Snapshot{Phase: campaign.PhaseRunning, Total: time.Minute, Ok: 1}) // unchanged: not redrawn
	fmt.Fprint(d, "time=... msg=\"fault start\"\n")
	d.Finish()
	const clear = "\r\033[K"
	line := formatSnapshot(campaign.Snapshot{Phase: campaign.PhaseRunning, Total: time.Minute, Ok: 1})
	want := clear + line + clear + "time=... msg=\"fault start\"\n" + line + clear
	if got := buf.String(); got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

// An interrupted run's history, its last line cut mid-event, is checked up
// to the cut (as a bare file too), and stderr names the line left out; a
// corrupt line anywhere else still fails naming the file and line.
func TestCheckCutHistory(t *testing.T) {
	b, err := os.ReadFile("testdata/stale.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Count(string(b), "\n")
	dir := t.TempDir()
	cut := append(b, `{"time":99999999,"process":0,"ty`...)
	os.WriteFile(filepath.Join(dir, store.HistoryFile), cut, 0o644)
	o := campaign.DefaultOptions()
	o.Seed = 1
	writeManifest(t, dir, o)
	bare := filepath.Join(t.TempDir(), "cut.jsonl")
	os.WriteFile(bare, cut, 0o644)
	for _, path := range []string{dir, bare} {
		code, out, errOut := runCLI(t, "check", "--workload", "register", path)
		if code != exitInvalid || !strings.Contains(out, "stale-read") || !strings.Contains(errOut, fmt.Sprintf(":%d: truncated last line", lines+1)) {
			t.Fatalf("%s: exit %d\n%s%s", path, code, out, errOut)
		}
	}
	os.WriteFile(filepath.Join(dir, store.HistoryFile), append(append(b, "{\n"...), b...), 0o644)
	code, _, errOut := runCLI(t, "check", dir)
	if code != exitCannotGo || !strings.Contains(errOut, fmt.Sprintf("%s:%d:", store.HistoryFile, lines+1)) {
		t.Fatalf("corrupt run history: exit %d, %q (want the file:line)", code, errOut)
	}
}
