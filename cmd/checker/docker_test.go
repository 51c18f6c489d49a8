package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/store"
)

// requireDocker skips when no Docker engine answers, and fails instead
// under CI=true: CI must not pass by skipping the integration tests.
func requireDocker(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("docker campaign: skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true but no docker engine answers: %v: %s", err, out)
	}
	t.Skipf("no docker engine: %v", err)
}

// dockerLeftovers lists containers and networks of one campaign (by the
// labels the docker runtime puts on them).
func dockerLeftovers(t *testing.T, label string) []string {
	t.Helper()
	var left []string
	for _, kind := range []string{"container", "network"} {
		args := []string{kind, "ls", "-q", "--filter", "label=faultline.campaign=" + label}
		if kind == "container" {
			args = []string{"ps", "-aq", "--filter", "label=faultline.campaign=" + label}
		}
		out, err := exec.Command("docker", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("docker %v: %v: %s", args, err, out)
		}
		for _, id := range strings.Fields(string(out)) {
			left = append(left, kind+" "+id)
		}
	}
	return left
}

// runDockerCampaign runs `checker run` on docker and returns its exit code,
// stdout and the run's manifest.
func runDockerCampaign(t *testing.T, extra ...string) (int, string, store.Manifest) {
	t.Helper()
	storeDir := t.TempDir()
	args := append([]string{"run", "--runtime", "docker", "--nodes", "3", "--duration", "20s",
		"--nemesis", "partition,kill", "--interval", "3s", "--concurrency", "6", "--keys", "4",
		"--seed", "21", "--store", storeDir}, extra...)
	code, out, errOut := runCLI(t, args...)
	t.Logf("checker %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), out, tail(errOut, 3000))
	mp, err := store.ReadManifest(filepath.Join(storeDir, store.LatestLink))
	if err != nil {
		t.Fatalf("no campaign.json via store/latest: %v", err)
	}
	m := *mp
	if m.Runtime != "docker" {
		t.Fatalf("runtime %q", m.Runtime)
	}
	if m.Cluster == "" {
		t.Fatal("campaign.json lacks the cluster label")
	}
	if left := dockerLeftovers(t, m.Cluster); len(left) > 0 {
		t.Errorf("left behind after the run: %v", left)
	}
	return code, out, m
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

func TestDockerCampaignCorrectRaftdIsValid(t *testing.T) {
	requireDocker(t)
	t.Parallel()
	code, out, m := runDockerCampaign(t)
	if code != exitValid || !strings.Contains(out, "verdict: valid") {
		t.Fatalf("exit %d, status %s %s", code, m.Status, m.Error)
	}
	if !strings.Contains(out, "report: ") || m.FirstOpNs <= 0 {
		t.Fatalf("no report path or first-op time:\n%s", out)
	}
	t.Logf("first operation at %.2f s", float64(m.FirstOpNs)/1e9)
}

func TestDockerCampaignLocalReadsExitInvalid(t *testing.T) {
	requireDocker(t)
	t.Parallel()
	code, out, m := runDockerCampaign(t, "--read", "local", "--name", "local-reads")
	if code != exitInvalid || !strings.Contains(out, "stale-read") {
		t.Fatalf("exit %d (want 1 with stale reads), status %s %s", code, m.Status, m.Error)
	}
}

// TestDockerCampaignAckBeforeCommitIsCaught plants ack-before-commit: an
// isolated leader acknowledges appends it never commits. Whether a 20 s run
// shows them as lost commits (gone from every later read) or as stale reads
// (missing from a read, then committed after all) depends on the timing of
// the partitions; both are violations the bug causes, and either must fail
// the run. Exposure needs a partition to isolate the current leader, which
// a loaded machine can miss in 20 s: the bug must be caught within two
// seeds (in trials, 5 runs out of 6 caught it, each with one seed).
func TestDockerCampaignAckBeforeCommitIsCaught(t *testing.T) {
	requireDocker(t)
	t.Parallel()
	for attempt, seed := range []string{"21", "22"} {
		code, out, m := runDockerCampaign(t, "--bug", "ack-before-commit", "--workload", "append", "--nemesis", "partition",
			"--interval", "1s", "--name", "ack-before-commit", "--seed", seed)
		if strings.Contains(out, "phantom") || strings.Contains(out, "duplicate") {
			t.Fatalf("ack-before-commit cannot invent or repeat elements:\n%s", out)
		}
		if code == exitInvalid && (strings.Contains(out, "lost-commit") || strings.Contains(out, "stale-read")) {
			return
		}
		t.Logf("attempt %d (seed %s): exit %d, status %s %s: not caught", attempt+1, seed, code, m.Status, m.Error)
	}
	t.Fatal("ack-before-commit went undetected in two 20 s campaigns")
}
