package system_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/faultline/faultline/sut/runtime"
	"github.com/faultline/faultline/sut/system"
)

// startEtcd starts a real three-node etcd cluster (built from etcd's module
// on first use, then cached) under the process runtime.
func startEtcd(t *testing.T, ctx context.Context) runtime.Cluster {
	t.Helper()
	rt := runtime.NewProcess(runtime.Options{Log: slog.New(slog.DiscardHandler), WorkDir: t.TempDir(), StartTimeout: 2 * time.Minute})
	c, err := rt.Start(ctx, runtime.Spec{Campaign: "etcd-test", Nodes: []string{"n1", "n2", "n3"}, System: system.Etcd(system.EtcdOptions{}), LogDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

func addrs(c runtime.Cluster) map[string]string {
	m := map[string]string{}
	for _, id := range c.Nodes() {
		m[id] = c.ClientAddr(id)
	}
	return m
}

func TestEtcdClientOperations(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := startEtcd(t, ctx)
	sys := system.Etcd(system.EtcdOptions{})
	cl := sys.NewClient(addrs(c), system.ClientOptions{Timeout: 5 * time.Second, ClientID: "test", MaxAttempts: 3})
	defer cl.Close()

	if _, found, _, err := cl.Read(ctx, "k", false); err != nil || found {
		t.Fatalf("read of an absent key: found=%v err=%v", found, err)
	}
	if _, err := cl.Write(ctx, "k", 1); err != nil {
		t.Fatal(err)
	}
	if ok, _, err := cl.Cas(ctx, "k", 2, 3); err != nil || ok {
		t.Fatalf("cas 2->3 on 1: swapped=%v err=%v, want a definite mismatch", ok, err)
	}
	if ok, _, err := cl.Cas(ctx, "k", 1, 3); err != nil || !ok {
		t.Fatalf("cas 1->3 on 1: swapped=%v err=%v", ok, err)
	}
	v, found, _, err := cl.Read(ctx, "k", false)
	if err != nil || !found || fmt.Sprint(v) != "3" {
		t.Fatalf("linearizable read = %v %v %v, want 3", v, found, err)
	}
	// A serializable read answers from one member's state: any state the
	// key has been in, the latest or not.
	v, found, _, err = cl.Read(ctx, "k", true)
	if err != nil || (found && fmt.Sprint(v) != "3" && fmt.Sprint(v) != "1") {
		t.Fatalf("serializable read = %v %v %v, want absent, 1 or 3", v, found, err)
	}
	for _, x := range []int{5, 6} {
		if _, err := cl.Append(ctx, "l", x); err != nil {
			t.Fatal(err)
		}
	}
	v, _, _, err = cl.Read(ctx, "l", false)
	if err != nil {
		t.Fatal(err)
	}
	if l, ok := v.([]any); !ok || len(l) != 2 {
		t.Fatalf("list after two appends = %v", v)
	}
}

func TestEtcdAdminStatusAndRefusals(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := startEtcd(t, ctx)
	sys := system.Etcd(system.EtcdOptions{})
	admin := sys.NewAdmin(addrs(c), 3*time.Second)
	for {
		st, err := admin.Status(ctx, "n1")
		if err == nil && st.Leader != "" {
			if len(st.Config.Voters) != 3 || !slices.Contains(c.Nodes(), st.Leader) || st.Commit == 0 {
				t.Fatalf("status of n1 = %+v, want three voters and a leader among them", st)
			}
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("n1 never named a leader (last: %+v, %v)", st, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
	var missing *system.MissingError
	if err := admin.SetClock(ctx, "n1", 100, 1); !errors.As(err, &missing) || missing.Capability != system.ClockSkew {
		t.Errorf("SetClock on etcd = %v, want a missing clock-skew capability", err)
	}
	if err := c.Partition(ctx, runtime.Grudge{"n1": {"n2"}}); err == nil {
		t.Error("the process runtime partitioned etcd, whose peer traffic it cannot attribute")
	}
}

// TestEtcdMemberAddedBeforeItStarts walks etcd's order of adding a member
// through the runtime's reservation: reserve n4's addresses, add it as a
// learner, start it with the member list etcd returned, promote it; then
// remove it.
func TestEtcdMemberAddedBeforeItStarts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := startEtcd(t, ctx)
	admin := system.Etcd(system.EtcdOptions{}).NewAdmin(addrs(c), 3*time.Second)
	r, ok := c.(runtime.Reserver)
	if !ok {
		t.Fatalf("the process cluster %T cannot reserve a node", c)
	}
	pre, ok := admin.(system.PreAdder)
	if !ok {
		t.Fatalf("etcd's admin %T does not add members before they start", admin)
	}
	peer, err := r.ReserveNode(ctx, "n4")
	if err != nil {
		t.Fatal(err)
	}
	peers, err := pre.PreAdd(ctx, "n4", peer)
	if err != nil {
		t.Fatal(err)
	}
	if len(peers) != 4 || peers["n4"] != peer {
		t.Fatalf("PreAdd returned peers %v, want n1..n3 and n4 at %s", peers, peer)
	}
	if err := r.StartReserved(ctx, "n4", peers); err != nil {
		t.Fatal(err)
	}
	admin.SetAddr("n4", c.ClientAddr("n4"))
	if err := admin.AddMember(ctx, "n4", peer); err != nil {
		t.Fatal(err)
	}
	voters := func() []string {
		st, err := admin.Status(ctx, "n1")
		if err != nil {
			t.Fatal(err)
		}
		return st.Config.Voters
	}
	if got := voters(); !slices.Equal(got, []string{"n1", "n2", "n3", "n4"}) {
		t.Fatalf("voters after adding n4: %v", got)
	}
	if err := admin.RemoveMember(ctx, "n4"); err != nil {
		t.Fatal(err)
	}
	if got := voters(); !slices.Equal(got, []string{"n1", "n2", "n3"}) {
		t.Fatalf("voters after removing n4: %v", got)
	}
}
