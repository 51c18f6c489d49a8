package main

import (
	"strings"
	"testing"
)

func TestSweepUsageListsItsFlags(t *testing.T) {
	code, out, _ := runCLI(t, "sweep", "-h")
	if code != 0 || !strings.Contains(out, "Usage: checker sweep") {
		t.Fatalf("sweep -h: exit %d\n%s", code, out)
	}
	for _, flag := range []string{"--seeds", "--seed", "--duration", "--runtime", "--bugs", "--store", "--nodes", "--controls", "--system", "--system-binary", "--system-args"} {
		if !strings.Contains(out, "  "+flag+" ") && !strings.Contains(out, "  "+flag+"\n") {
			t.Errorf("sweep usage lacks %s", flag)
		}
	}
	if _, help, _ := runCLI(t, "help"); !strings.Contains(help, "sweep") {
		t.Errorf("checker help does not list sweep:\n%s", help)
	}
}

func TestSweepRefusesBadFlagsNamingThem(t *testing.T) {
	store := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--seeds", "0"}, "--seeds"},
		{[]string{"--bugs", "stale-local-read,nope"}, `unknown bug "nope"`},
		{[]string{"--runtime", "vm"}, "--runtime"},
		{[]string{"--nodes", "2"}, "--nodes"},
		{[]string{"--duration", "soon"}, "-duration"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"--system", "zookeeper"}, "--system must be one of"},
		{[]string{"--system", "etcd", "--bugs", "no-dedup"}, "planted bugs exist only in raftd"},
	} {
		code, _, errOut := runCLI(t, append([]string{"sweep", "--store", store}, c.args...)...)
		if code != exitCannotGo || !strings.Contains(errOut, c.want) {
			t.Errorf("sweep %v: exit %d, stderr %q; want exit %d naming %s", c.args, code, errOut, exitCannotGo, c.want)
		}
	}
}
