package history_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/faultline/faultline/check/gen"
	"github.com/faultline/faultline/history"
)

// LintFile, which streams a file twice, gives exactly Lint's warnings on
// every fixture history of the repository (the reader's fuzz corpus
// included, where a bad line ends the history for both), and on generated
// histories where some writes were turned into fails, some with timeout
// errors, so that both kinds of warning occur.
func TestLintFileAgreesWithLint(t *testing.T) {
	var paths []string
	for _, pattern := range []string{"../cmd/checker/testdata/*.jsonl", "../report/testdata/store/*/*/history.jsonl"} {
		found, _ := filepath.Glob(pattern)
		paths = append(paths, found...)
	}
	dir := t.TempDir()
	paths = append(paths, fuzzCorpus(t, dir)...)
	paths = append(paths, generatedWithFails(t, dir)...)
	if len(paths) < 20 {
		t.Fatalf("fixtures missing: %v", paths)
	}
	warned := map[string]int{}
	for _, path := range paths {
		events, readErr := history.ReadFile(path)
		want, err := history.Lint(events) // the events before a bad line
		if err != nil {
			t.Fatalf("%s: Lint: %v", path, err)
		}
		got, fileErr := history.LintFile(path)
		if (readErr == nil) != (fileErr == nil) || readErr != nil && readErr.Error() != fileErr.Error() {
			t.Fatalf("%s: LintFile error %v, the reader's %v", path, fileErr, readErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\nLintFile %+v\nLint     %+v", path, got, want)
		}
		for _, w := range want {
			warned[w.Kind]++
		}
	}
	if warned[history.LintTimeoutAsFail] == 0 || warned[history.LintFailedWriteRead] == 0 {
		t.Fatalf("the fixtures exercise too little: %v", warned)
	}
	t.Logf("%d histories, warnings %v", len(paths), warned)
}

// fuzzCorpus writes the reader's fuzz inputs as files.
func fuzzCorpus(t *testing.T, dir string) []string {
	inputs, _ := filepath.Glob("testdata/fuzz/FuzzReader/*")
	var out []string
	for _, in := range inputs {
		b, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		_, lit, ok := strings.Cut(string(b), "[]byte(")
		if !ok {
			t.Fatalf("%s: not a fuzz input", in)
		}
		data, err := strconv.Unquote(strings.TrimSuffix(strings.TrimSpace(lit), ")"))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		path := filepath.Join(dir, "fuzz-"+filepath.Base(in)+".jsonl")
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, path)
	}
	return out
}

// generatedWithFails writes generated histories of each workload in which
// some write-like completions became fails.
func generatedWithFails(t *testing.T, dir string) []string {
	errs := []string{"refused", "context deadline exceeded", "no leader", "read: connection reset by peer", ""}
	var out []string
	for i, workload := range []string{"register", "set", "append"} {
		for seed := range uint64(3) {
			events, err := gen.Generate(gen.Config{Workload: workload, Keys: 3, OpsPerKey: 80, Clients: 5,
				InfoRate: 0.1, FailRate: 0.1, ValueRange: int(seed) * 4, Seed: seed*10 + uint64(i)})
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(seed, uint64(i)))
			for j := range events {
				e := &events[j]
				if e.Type == history.Invoke || e.Process.Nemesis || e.F == history.FRead || rng.IntN(6) != 0 {
					continue
				}
				e.Type, e.Error = history.Fail, errs[rng.IntN(len(errs))]
			}
			path := filepath.Join(dir, workload+strconv.Itoa(int(seed))+".jsonl")
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			for _, e := range events {
				if err := enc.Encode(e); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			out = append(out, path)
		}
	}
	return out
}

// A history cut mid-line is linted up to the cut, and the error names the line.
func TestLintFileCutHistory(t *testing.T) {
	text := `{"time":1,"process":0,"type":"invoke","f":"write","key":"k","value":5}
{"time":2,"process":0,"type":"fail","f":"write","key":"k","value":5,"error":"i/o timeout"}
{"time":3,"process":1,"type":"invoke","f":"read","key":"k","value":null}
{"time":4,"process":1,"type":"ok","f":"read","key":"k","value":5}
{"time":5,"process":1,"type":"inv`
	path := filepath.Join(t.TempDir(), "history.jsonl")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	ws, err := history.LintFile(path)
	var pe *history.ParseError
	if !errors.As(err, &pe) || !pe.Truncated || pe.Line != 5 {
		t.Fatalf("err = %v, want a truncated line 5", err)
	}
	if len(ws) != 2 || ws[0].Kind != history.LintTimeoutAsFail || ws[1].Kind != history.LintFailedWriteRead || !strings.Contains(ws[1].Message, "read at line 4") {
		t.Fatalf("warnings = %+v", ws)
	}
}
