package runtime

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/faultline/faultline/sut/system"
)

func TestProcessClusterLifecycle(t *testing.T) {
	ctx := testContext(t)
	logDir := t.TempDir()
	rt := NewProcess(Options{Log: testLogger(t)})
	c, err := rt.Start(ctx, Spec{Campaign: uniqueCampaign("proc"), Nodes: []string{"n1", "n2", "n3"}, System: peerSystem{}, LogDir: logDir})
	if err != nil {
		t.Fatal(err)
	}
	pc := c.(*processCluster)
	t.Cleanup(func() { _ = c.Close(context.Background()) })

	if got := strings.Join(c.Nodes(), ","); got != "n1,n2,n3" {
		t.Fatalf("Nodes() = %s", got)
	}
	for i, id := range c.Nodes() {
		wantIP := []string{"127.0.0.11:", "127.0.0.12:", "127.0.0.13:"}[i]
		if !strings.HasPrefix(c.ClientAddr(id), wantIP) {
			t.Errorf("ClientAddr(%s) = %s, want %s*", id, c.ClientAddr(id), wantIP)
		}
		if !strings.HasPrefix(c.PeerAddr(id), "127.0.0.1:") {
			t.Errorf("PeerAddr(%s) = %s, want the proxy on 127.0.0.1", id, c.PeerAddr(id))
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

	t.Run("symmetric partition isolates a node and is replaced by the next grudge", func(t *testing.T) {
		iso := Grudge{"n1": {"n2", "n3"}, "n2": {"n1"}, "n3": {"n1"}}
		if err := c.Partition(ctx, iso); err != nil {
			t.Fatal(err)
		}
		waitLinks(t, c, iso)
		if err := c.Partition(ctx, Grudge{"n3": {"n2"}}); err != nil {
			t.Fatal(err)
		}
		waitLinks(t, c, map[string][]string{"n3": {"n2"}})
		if err := c.Heal(ctx); err != nil {
			t.Fatal(err)
		}
		waitLinks(t, c, nil)
	})

	t.Run("partition rejects unknown nodes", func(t *testing.T) {
		err := c.Partition(ctx, Grudge{"n2": {"n9"}})
		if !errors.Is(err, ErrUnknownNode) || !strings.Contains(err.Error(), "n9") {
			t.Fatalf("Partition with n9 = %v, want ErrUnknownNode naming n9", err)
		}
	})

	t.Run("kill and restart keep the data", func(t *testing.T) {
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
		if err := syscall.Kill(before.PID, 0); !errors.Is(err, syscall.ESRCH) {
			t.Fatalf("process %d of n3 still exists after Kill: %v", before.PID, err)
		}
		if err := c.Kill(ctx, "n3"); err != nil {
			t.Fatalf("second Kill: %v", err)
		}
		if err := c.Restart(ctx, "n3"); err != nil {
			t.Fatal(err)
		}
		after, err := getStatus(c.ClientAddr("n3"), 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if after.Boots != before.Boots+1 || after.PID == before.PID {
			t.Fatalf("after restart: boots %d pid %d; before: boots %d pid %d", after.Boots, after.PID, before.Boots, before.PID)
		}
		waitLinks(t, c, nil)
	})

	t.Run("stop and restart", func(t *testing.T) {
		if err := c.Stop(ctx, "n2"); err != nil {
			t.Fatal(err)
		}
		if _, err := getStatus(c.ClientAddr("n2"), time.Second); err == nil {
			t.Fatal("n2 answers after Stop")
		}
		if err := c.Pause(ctx, "n2"); err == nil {
			t.Fatal("Pause of a stopped node succeeded")
		}
		if err := c.Restart(ctx, "n2"); err != nil {
			t.Fatal(err)
		}
		if st, err := getStatus(c.ClientAddr("n2"), 2*time.Second); err != nil || st.Boots != 2 {
			t.Fatalf("n2 after restart: %+v %v", st, err)
		}
		waitLinks(t, c, nil)
	})

	t.Run("restart moves off a port taken meanwhile", func(t *testing.T) {
		if err := c.Kill(ctx, "n2"); err != nil {
			t.Fatal(err)
		}
		old := c.ClientAddr("n2")
		squatter, err := net.Listen("tcp", old)
		if err != nil {
			t.Fatal(err)
		}
		defer squatter.Close()
		if err := c.Restart(ctx, "n2"); err != nil {
			t.Fatal(err)
		}
		if c.ClientAddr("n2") == old {
			t.Fatalf("n2 still at its taken address %s", old)
		}
		waitLinks(t, c, nil) // peers reach it through its unchanged proxy
	})

	t.Run("pause freezes and resume thaws", func(t *testing.T) {
		if err := c.Pause(ctx, "n1"); err != nil {
			t.Fatal(err)
		}
		if _, err := getStatus(c.ClientAddr("n1"), 500*time.Millisecond); err == nil {
			t.Fatal("paused n1 answered")
		}
		eventually(t, "n2 stops hearing paused n1", func() (bool, string) {
			st, err := getStatus(c.ClientAddr("n2"), time.Second)
			return err == nil && deaf(st, "n1"), "n2 still hears n1"
		})
		if err := c.Resume(ctx, "n1"); err != nil {
			t.Fatal(err)
		}
		if err := c.Resume(ctx, "n1"); err != nil {
			t.Fatalf("second Resume: %v", err)
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
		if err != nil || !st.Join || st.Boots != 1 {
			t.Fatalf("n4: %+v %v; want a joining first boot", st, err)
		}
		if !strings.HasPrefix(c.ClientAddr("n4"), "127.0.0.14:") {
			t.Errorf("ClientAddr(n4) = %s", c.ClientAddr("n4"))
		}
		// n4 dials every member; the proxies must know it as a source.
		if err := c.Partition(ctx, Grudge{"n1": {"n4"}}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "n1 drops n4 while n2 hears it", func() (bool, string) {
			s1, err1 := getStatus(c.ClientAddr("n1"), time.Second)
			s2, err2 := getStatus(c.ClientAddr("n2"), time.Second)
			return err1 == nil && err2 == nil && deaf(s1, "n4") && hears(s2, "n4"), "not yet"
		})
		if err := c.AddNode(ctx, "n4"); err == nil {
			t.Fatal("adding n4 twice succeeded")
		}
		data := pc.nodes["n4"].data
		if err := c.RemoveNode(ctx, "n4"); err != nil {
			t.Fatal(err)
		}
		if c.ClientAddr("n4") != "" || strings.Contains(strings.Join(c.Nodes(), ","), "n4") {
			t.Fatalf("n4 still listed: %v %q", c.Nodes(), c.ClientAddr("n4"))
		}
		if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("data of removed n4 still there: %v", err)
		}
		if err := c.Kill(ctx, "n4"); !errors.Is(err, ErrUnknownNode) {
			t.Fatalf("Kill(n4) after removal = %v", err)
		}
	})

	t.Run("logs", func(t *testing.T) {
		rc, err := c.Logs(ctx, "n3")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if strings.Count(string(b), "serving on") != 3 {
			t.Fatalf("n3 log should show three boots:\n%s", b)
		}
	})

	t.Run("close heals, kills and collects logs", func(t *testing.T) {
		if err := c.Pause(ctx, "n2"); err != nil {
			t.Fatal(err)
		}
		if err := c.Partition(ctx, Grudge{"n1": {"n3"}}); err != nil {
			t.Fatal(err)
		}
		var pids []int
		for _, id := range []string{"n1", "n3"} {
			st, err := getStatus(c.ClientAddr(id), 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			pids = append(pids, st.PID)
		}
		pids = append(pids, pc.nodes["n2"].cmd.Process.Pid)
		if err := c.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(ctx); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		for _, pid := range pids {
			if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("process %d survived Close: %v", pid, err)
			}
		}
		if _, err := os.Stat(pc.root); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("temporary root %s survived Close", pc.root)
		}
		for _, id := range []string{"n1", "n2", "n3", "n4"} {
			if st, err := os.Stat(filepath.Join(logDir, id+".log")); err != nil || st.Size() == 0 {
				t.Errorf("log of %s not collected: %v", id, err)
			}
		}
		if err := c.Kill(ctx, "n1"); !errors.Is(err, ErrClosed) {
			t.Errorf("Kill after Close = %v, want ErrClosed", err)
		}
		rc, err := c.Logs(ctx, "n1")
		if err != nil {
			t.Fatalf("Logs after Close: %v", err)
		}
		rc.Close()
	})
}

func TestProcessStartFailureSaysWhy(t *testing.T) {
	ctx := testContext(t)
	rt := NewProcess(Options{Log: testLogger(t)})
	_, err := rt.Start(ctx, Spec{Campaign: uniqueCampaign("bad"), Nodes: []string{"n1"}, System: badFlagSystem{}})
	if err == nil || !strings.Contains(err.Error(), "exited while starting") || !strings.Contains(err.Error(), "--no-such-flag") {
		t.Fatalf("Start with a bad flag = %v; want the exit and the log tail", err)
	}
}

// badFlagSystem starts peerserver with a flag it rejects.
type badFlagSystem struct{ peerSystem }

func (badFlagSystem) Args(n system.NodeArgs) []string {
	return append(peerSystem{}.Args(n), "--no-such-flag")
}
