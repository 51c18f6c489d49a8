package main

import (
	"strings"
	"testing"
)

// Bad bench flags are refused before anything starts, naming the flag.
func TestBenchFlagErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "--system", "raftd,mongo"}, `--system must be one of raftd, etcd, http, got "mongo"`},
		{[]string{"bench", "--system", "raftd,raftd"}, `--system: "raftd" listed twice`},
		{[]string{"bench", "--system", "raftd,"}, "--system: empty entry"},
		{[]string{"bench", "--clients", "1,x"}, `--clients: "x" is not a positive integer`},
		{[]string{"bench", "--clients", "0"}, `--clients: "0" is not a positive integer`},
		{[]string{"bench", "--duration", "0s"}, "--duration: must be positive"},
		{[]string{"bench", "--nodes", "0"}, "--nodes: must be at least 1"},
		{[]string{"bench", "--keys", "0"}, "--keys: must be at least 1"},
		{[]string{"bench", "--rounds", "0"}, "--rounds: must be at least 1"},
		{[]string{"bench", "--rounds", "1000", "--duration", "1s"}, "--rounds: 1000 rounds leave less than 10ms"},
		{[]string{"bench", "--system-binary", "/bin/true"}, "--system-binary, --system-args and --system-capabilities describe the http system"},
		{[]string{"bench", "--system", "http", "--system-args", "--id {id}", "--system-capabilities", "teleport"}, "--system-capabilities"},
		{[]string{"bench", "extra"}, `unexpected argument "extra"`},
	} {
		code, _, errOut := runCLI(t, c.args...)
		if code != exitCannotGo || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d naming %q", c.args, code, errOut, exitCannotGo, c.want)
		}
	}
}

func TestBenchHelpListsItsFlags(t *testing.T) {
	code, out, _ := runCLI(t, "bench", "-h")
	if code != 0 {
		t.Fatalf("bench -h: exit %d", code)
	}
	flags := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		if name, ok := strings.CutPrefix(line, "  --"); ok {
			name, _, _ = strings.Cut(name, " ")
			flags["--"+name] = true
		}
	}
	for _, flag := range []string{"--system", "--clients", "--duration", "--nodes", "--json"} {
		if !flags[flag] {
			t.Errorf("bench -h lacks %s:\n%s", flag, out)
		}
	}
}
