package runtime

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"
)

// requireDocker skips the test when no engine answers, except in CI
// (CI=true), where a missing engine is a failure.
func requireDocker(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := DockerAvailable(ctx); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but no docker engine answers: %v", err)
		}
		t.Skipf("no docker engine: %v", err)
	}
}

// labelled lists containers and networks carrying label key=value.
func labelled(t *testing.T, label string) (containers, networks []string) {
	t.Helper()
	cli, err := newDockerClient()
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx := context.Background()
	cs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", label)})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs.Items {
		containers = append(containers, strings.Join(c.Names, ","))
	}
	ns, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: make(client.Filters).Add("label", label)})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ns.Items {
		networks = append(networks, n.Name)
	}
	return containers, networks
}

func TestDockerClusterLifecycle(t *testing.T) {
	requireDocker(t)
	ctx := testContext(t)
	logDir := t.TempDir()
	campaign := uniqueCampaign("dock")
	rt := NewDocker(Options{Log: testLogger(t)})
	began := time.Now()
	c, err := rt.Start(ctx, Spec{Campaign: campaign, Nodes: []string{"n1", "n2", "n3"}, System: peerSystem{}, LogDir: logDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("3 containers serving %v after Start", time.Since(began).Round(time.Millisecond))
	t.Cleanup(func() { _ = c.Close(context.Background()) })

	for _, id := range c.Nodes() {
		if !strings.HasPrefix(c.ClientAddr(id), "127.0.0.1:") {
			t.Errorf("ClientAddr(%s) = %s, want 127.0.0.1:port", id, c.ClientAddr(id))
		}
		if c.PeerAddr(id) != id+":8080" {
			t.Errorf("PeerAddr(%s) = %s", id, c.PeerAddr(id))
		}
	}
	waitLinks(t, c, nil)

	t.Run("one-way partition cuts only the directed link", func(t *testing.T) {
		if err := c.Partition(ctx, Grudge{"n2": {"n1"}}); err != nil {
			t.Fatal(err)
		}
		waitLinks(t, c, map[string][]string{"n2": {"n1"}})
		if err := c.Heal(ctx); err != nil {
			t.Fatal(err)
		}
		waitLinks(t, c, nil)
	})

	t.Run("kill and restart keep the data and the partition", func(t *testing.T) {
		if err := c.Partition(ctx, Grudge{"n3": {"n1"}}); err != nil {
			t.Fatal(err)
		}
		waitLinks(t, c, map[string][]string{"n3": {"n1"}})
		before, err := getStatus(c.ClientAddr("n3"), 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Kill(ctx, "n3"); err != nil {
			t.Fatal(err)
		}
		if _, err := getStatus(c.ClientAddr("n3"), time.Second); err == nil {
			t.Fatal("n3 answers after Kill")
		}
		if err := c.Restart(ctx, "n3"); err != nil {
			t.Fatal(err)
		}
		after, err := getStatus(c.ClientAddr("n3"), 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if after.Boots != before.Boots+1 {
			t.Fatalf("boots after restart %d, before %d: data not kept", after.Boots, before.Boots)
		}
		// The restarted container has a fresh network namespace: the
		// runtime must have put its rules back.
		waitLinks(t, c, map[string][]string{"n3": {"n1"}})
		if err := c.Heal(ctx); err != nil {
			t.Fatal(err)
		}
		waitLinks(t, c, nil)
	})

	t.Run("pause freezes, partition while paused applies on resume", func(t *testing.T) {
		if err := c.Pause(ctx, "n1"); err != nil {
			t.Fatal(err)
		}
		if _, err := getStatus(c.ClientAddr("n1"), 500*time.Millisecond); err == nil {
			t.Fatal("paused n1 answered")
		}
		if err := c.Partition(ctx, Grudge{"n1": {"n2"}}); err != nil {
			t.Fatal(err)
		}
		if err := c.Resume(ctx, "n1"); err != nil {
			t.Fatal(err)
		}
		waitLinks(t, c, map[string][]string{"n1": {"n2"}})
		if err := c.Heal(ctx); err != nil {
			t.Fatal(err)
		}
		waitLinks(t, c, nil)
	})

	t.Run("kill while paused, then restart", func(t *testing.T) {
		if err := c.Pause(ctx, "n3"); err != nil {
			t.Fatal(err)
		}
		if err := c.Kill(ctx, "n3"); err != nil {
			t.Fatal(err)
		}
		if err := c.Restart(ctx, "n3"); err != nil {
			t.Fatal(err)
		}
		if _, err := getStatus(c.ClientAddr("n3"), 2*time.Second); err != nil {
			t.Fatalf("n3 after kill-while-paused and restart: %v", err)
		}
		if err := c.Resume(ctx, "n3"); err != nil {
			t.Fatalf("Resume of a restarted node: %v", err)
		}
		waitLinks(t, c, nil)
	})

	t.Run("add and remove a node", func(t *testing.T) {
		if err := c.AddNode(ctx, "n4"); err != nil {
			t.Fatal(err)
		}
		st, err := getStatus(c.ClientAddr("n4"), 2*time.Second)
		if err != nil || !st.Join {
			t.Fatalf("n4: %+v %v", st, err)
		}
		eventually(t, "n1 hears the new node", func() (bool, string) {
			s1, err := getStatus(c.ClientAddr("n1"), time.Second)
			return err == nil && hears(s1, "n4"), "not yet"
		})
		if err := c.RemoveNode(ctx, "n4"); err != nil {
			t.Fatal(err)
		}
		if cs, _ := labelled(t, LabelNode+"=n4"); len(cs) > 0 {
			for _, name := range cs {
				if strings.Contains(name, campaign) {
					t.Fatalf("container of removed n4 still exists: %v", cs)
				}
			}
		}
		rc, err := c.Logs(ctx, "n4")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if !strings.Contains(string(b), "n4: boot 1") {
			t.Fatalf("kept log of n4: %q", b)
		}
	})

	t.Run("close leaves nothing behind", func(t *testing.T) {
		if err := c.Pause(ctx, "n2"); err != nil {
			t.Fatal(err)
		}
		if err := c.Partition(ctx, Grudge{"n1": {"n3"}}); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(ctx); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		cs, ns := labelled(t, LabelCampaign+"="+campaign)
		if len(cs)+len(ns) > 0 {
			t.Fatalf("left behind: containers %v networks %v", cs, ns)
		}
		for _, id := range []string{"n1", "n2", "n3", "n4"} {
			b, err := os.ReadFile(filepath.Join(logDir, id+".log"))
			if err != nil || !strings.Contains(string(b), id+": boot 1") {
				t.Errorf("log of %s not collected: %v %q", id, err, b)
			}
		}
	})
}

func TestDockerGC(t *testing.T) {
	requireDocker(t)
	ctx := testContext(t)
	campaign := uniqueCampaign("gc")
	c, err := NewDocker(Options{Log: testLogger(t)}).Start(ctx, Spec{Campaign: campaign, Nodes: []string{"n1", "n2"}, System: peerSystem{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Pause(ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	// The checker "crashed": nothing closes the cluster; gc must clean up.
	// GC itself would also remove other packages' clusters running at the
	// same time under go test ./..., so the test scopes it to its campaign;
	// GC is this with the label every campaign shares.
	removed, err := gcLabelled(ctx, testLogger(t), LabelCampaign+"="+campaign)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"container/" + campaign + "-n1", "container/" + campaign + "-n2", "network/"} {
		found := false
		for _, r := range removed {
			found = found || strings.HasPrefix(r, want)
		}
		if !found {
			t.Errorf("GC removed %v; missing %s", removed, want)
		}
	}
	if cs, ns := labelled(t, LabelCampaign+"="+campaign); len(cs)+len(ns) > 0 {
		t.Fatalf("after GC: containers %v networks %v", cs, ns)
	}
	if err := c.Close(ctx); err != nil && !errors.Is(err, ErrClosed) {
		t.Logf("Close after GC: %v", err)
	}
}
