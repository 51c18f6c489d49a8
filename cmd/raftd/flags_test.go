package main

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/faultline/faultline/sut/bugs"
	"github.com/faultline/faultline/sut/raft"
)

func TestFlagErrorsNameTheFlag(t *testing.T) {
	base := []string{"--id", "n1", "--data", "/tmp/x", "--peers", "n1=127.0.0.1:7001"}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--data", "/tmp/x", "--peers", "n1=127.0.0.1:1"}, "--id"},
		{[]string{"--id", "n1", "--peers", "n1=127.0.0.1:1"}, "--data"},
		{[]string{"--id", "n1", "--data", "d", "--peers", "n2=127.0.0.1:1"}, "--peers: must list this node"},
		{[]string{"--id", "n1", "--data", "d", "--peers", "n1"}, "--peers: entry 1"},
		{[]string{"--id", "n1", "--data", "d", "--peers", "n1=a:1,n1=b:2"}, "listed twice"},
		{[]string{"--id", "n1", "--data", "d", "--peers", "n1=nohost"}, "--peers: address of n1"},
		{append(base, "--read-mode", "psychic"), "--read-mode"},
		{append(base, "--bug", "not-a-bug"), "-bug"},
		{append(base, "--max-clock-drift", "1.5"), "--max-clock-drift"},
		{append(base, "--max-clock-drift", "soon"), "--max-clock-drift"},
		{append(base, "--max-clock-drift", "2s"), "--max-clock-drift"},
		{append(base, "--snapshot-every", "0"), "--snapshot-every"},
		{append(base, "--election-ticks", "1"), "--election-ticks"},
		{append(base, "--heartbeat-ticks", "0"), "--heartbeat-ticks"},
		{append(base, "--tick", "-5ms"), "--tick"},
		{append(base, "--tick", "often"), "-tick"},
		{append(base, "--request-timeout", "0s"), "--request-timeout"},
		{append(base, "--log-level", "chatty"), "--log-level"},
		{append(base, "stray"), "unexpected argument"},
	}
	for _, tc := range cases {
		_, err := parseFlags(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseFlags(%q) = %v, want an error naming %q", tc.args, err, tc.want)
		}
		var stderr bytes.Buffer
		if code := run(tc.args, io.Discard, &stderr); code != exitUsage {
			t.Errorf("run(%q) exit code %d, want %d", tc.args, code, exitUsage)
		}
	}
}

func TestFlagsFillTheConfig(t *testing.T) {
	o, err := parseFlags([]string{"--id", "n2", "--listen", "127.0.0.12:7002", "--data", "/d",
		"--peers", "n1=127.0.0.11:7001,n2=127.0.0.12:7002", "--read-mode", "lease",
		"--bug", "stale-local-read", "--bug", "no-dedup", "--fault-injection",
		"--max-clock-drift", "100ms", "--tick", "20ms", "--election-ticks", "10",
		"--snapshot-every", "50", "--cluster", "c1"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	c := o.config
	if c.ID != "n2" || c.Listen != "127.0.0.12:7002" || c.DataDir != "/d" || c.Cluster != "c1" ||
		c.ReadMode != raft.ReadLease || !c.FaultInjection || c.SnapshotEvery != 50 || len(c.Peers) != 2 {
		t.Fatalf("config = %+v", c)
	}
	if !c.Bugs.Has(bugs.StaleLocalRead) || !c.Bugs.Has(bugs.NoDedup) || len(c.Bugs) != 2 {
		t.Fatalf("bugs = %v", c.Bugs)
	}
	// 100ms of a 200ms election timeout.
	if c.MaxClockDrift != 0.5 {
		t.Fatalf("max clock drift = %v, want 0.5", c.MaxClockDrift)
	}
	if c.Seed == 0 {
		t.Fatal("the seed was not derived from the id")
	}

	j, err := parseFlags([]string{"--id", "n4", "--data", "/d4", "--join"}, io.Discard)
	if err != nil {
		t.Fatalf("--join without --peers: %v", err)
	}
	if !j.config.Join || j.config.Peers["n4"] == "" {
		t.Fatalf("join config = %+v", j.config)
	}
}

func TestBugsSubcommandListsTheCatalogue(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"bugs"}, &out, io.Discard); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != len(bugs.Catalogue)+1 {
		t.Fatalf("%d lines for %d bugs:\n%s", len(lines), len(bugs.Catalogue), out.String())
	}
	for i, b := range bugs.Catalogue {
		line := lines[i+1]
		for _, part := range []string{b.Name, b.What, b.Exposed, b.ClientSees} {
			if !strings.Contains(line, part) {
				t.Errorf("line for %s lacks %q: %s", b.Name, part, line)
			}
		}
	}
}
