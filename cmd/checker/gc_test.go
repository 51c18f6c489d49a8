package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/store"
	"github.com/faultline/faultline/sut/runtime"
)

// deadOwner is the owner record of a process that has exited: a child
// started, recorded, then killed and reaped (as a checker killed with
// SIGKILL leaves its runs).
func deadOwner(t *testing.T) store.Owner {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	owner, err := store.OwnerOf(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if !owner.Gone() {
		t.Fatalf("owner %s of a reaped child is not gone", owner)
	}
	return owner
}

// runningRun writes a run of storeDir still marked running by owner.
func runningRun(t *testing.T, storeDir, name string, owner store.Owner) string {
	t.Helper()
	dir, stamp, err := store.CreateRun(storeDir, name, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	m := store.Manifest{Name: name, Timestamp: stamp, Status: store.StatusRunning, Owner: &owner, StartedAt: time.Now().UTC()}
	if err := store.WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestGCSparesTheLiving: two runs at once, one whose checker is alive (this
// test) and one whose checker was killed. gc removes only the dead one's
// containers and networks and marks only its run abandoned.
func TestGCSparesTheLiving(t *testing.T) {
	requireDocker(t)
	storeDir := t.TempDir()
	live, dead := store.Self(), deadOwner(t)
	liveRun := runningRun(t, storeDir, "live", live)
	deadRun := runningRun(t, storeDir, "dead", dead)

	// Docker resources as the docker runtime labels them, narrowed to this
	// test by one more label so that nothing else on the machine is touched.
	scope := fmt.Sprintf("faultline.gctest=%d", time.Now().UnixNano())
	for _, r := range []struct {
		name  string
		owner store.Owner
	}{{"live", live}, {"dead", dead}} {
		net := fmt.Sprintf("faultline-gctest-%s-%d", r.name, time.Now().UnixNano())
		out, err := exec.Command("docker", "network", "create",
			"--label", runtime.LabelFaultline+"=1", "--label", runtime.LabelCampaign+"=gctest-"+r.name,
			"--label", runtime.LabelOwner+"="+r.owner.String(), "--label", scope, net).CombinedOutput()
		if err != nil {
			t.Fatalf("docker network create: %v: %s", err, out)
		}
		t.Cleanup(func() { exec.Command("docker", "network", "rm", net).Run() })
	}

	var stdout, stderr bytes.Buffer
	if code := collectGarbage(context.Background(), gcOptions{store: storeDir, only: scope}, &stdout, &stderr); code != 0 {
		t.Fatalf("gc exit %d: %s%s", code, stdout.String(), stderr.String())
	}
	t.Logf("gc:\n%s", stdout.String())
	out, err := exec.Command("docker", "network", "ls", "--format", "{{.Name}}", "--filter", "label="+scope).CombinedOutput()
	if err != nil {
		t.Fatalf("docker network ls: %v: %s", err, out)
	}
	left := strings.Fields(string(out))
	if len(left) != 1 || !strings.Contains(left[0], "-live-") {
		t.Errorf("networks left %v: want only the live run's", left)
	}
	if !strings.Contains(stdout.String(), "removed network/faultline-gctest-dead-") {
		t.Errorf("gc did not say it removed the dead run's network:\n%s", stdout.String())
	}
	if m, err := store.ReadManifest(liveRun); err != nil || m.Status != store.StatusRunning {
		t.Errorf("live run: %+v, %v: want it left running", m, err)
	}
	m, err := store.ReadManifest(deadRun)
	if err != nil || m.Status != store.StatusAbandoned || !strings.Contains(m.Error, "gone") {
		t.Errorf("dead run: %+v, %v: want it marked abandoned", m, err)
	}
	if !strings.Contains(stdout.String(), "marked "+filepath.Join(storeDir, "dead")) {
		t.Errorf("gc did not report the run it marked:\n%s", stdout.String())
	}
}

// TestGCAllAsksOnATerminal: the confirmation answers.
func TestGCAllConfirmation(t *testing.T) {
	for answer, want := range map[string]bool{"y\n": true, "yes\n": true, "n\n": false, "\n": false, "": false} {
		var out bytes.Buffer
		if got := confirm(strings.NewReader(answer), &out, "sure? "); got != want || out.String() != "sure? " {
			t.Errorf("answer %q: %v (prompt %q), want %v", answer, got, out.String(), want)
		}
	}
}
