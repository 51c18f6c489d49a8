package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/faultline/faultline/sut/runtime/powerfs"
)

// TestSoakLosesNothing runs a short soak against real raftd processes: two
// kill -9 cycles with the writer running, every acknowledged write read back.
// The figures for the README come from `raftd soak --kills 100`.
func TestSoakLosesNothing(t *testing.T) {
	runShortSoak(t, "--kills", "kills: 2")
}

// TestSoakPowerLosesNothing is the same with two power failures: each node's
// data on a powerfs mount, killed and stripped of every write it did not
// fsync (the second one torn). Correct raftd fsyncs before it acknowledges,
// so nothing acknowledged may go. The figures come from `raftd soak --power`.
func TestSoakPowerLosesNothing(t *testing.T) {
	if err := powerfs.Usable(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but FUSE is unusable: %v", err)
		}
		t.Skip(err)
	}
	runShortSoak(t, "--power", "power failures: 2")
}

// runShortSoak runs two failure cycles of the kind the flag names and wants
// nothing acknowledged lost, wrong or unreadable, and the report to say what
// it did (wantLine).
func runShortSoak(t *testing.T, cyclesFlag, wantLine string) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a raftd cluster")
	}
	o, err := parseSoakFlags([]string{cyclesFlag, "2", "--seed", "7", "--settle", "300ms", "--dir", t.TempDir(), "--binary", raftdBin}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	res, err := soak(context.Background(), o, &out, &out)
	if err != nil {
		t.Fatalf("soak: %v\n%s", err, out.String())
	}
	res.print(&out)
	if res.kills != 2 || res.acknowledged == 0 || len(res.lost)+len(res.wrong)+len(res.unreadable) > 0 {
		t.Fatalf("soak result:\n%s", out.String())
	}
	for _, want := range []string{wantLine, "lost: 0"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("report does not print %q:\n%s", want, out.String())
		}
	}
}

func TestSoakFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--power", "-1"}, "--power"},
		{[]string{"--kills", "0"}, "--kills"},
		{[]string{"--nodes", "2"}, "--nodes"},
		{[]string{"--max-down", "-1s"}, "--max-down"},
	} {
		if _, err := parseSoakFlags(tc.args, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseSoakFlags(%v) = %v, want an error naming %s", tc.args, err, tc.want)
		}
	}
}
