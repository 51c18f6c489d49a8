package main

import (
	"errors"
	"net/netip"
	"reflect"
	goruntime "runtime"
	"strings"
	"testing"

	"github.com/google/nftables"
	"golang.org/x/sys/unix"
)

func TestParseIPs(t *testing.T) {
	got, err := parseIPs("172.18.0.2, 172.18.0.3,fd00::1")
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Addr{netip.MustParseAddr("172.18.0.2"), netip.MustParseAddr("172.18.0.3"), netip.MustParseAddr("fd00::1")}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parseIPs = %v", got)
	}
	for _, bad := range []string{"", "172.18.0.2,n1", "1.2.3"} {
		if _, err := parseIPs(bad); err == nil {
			t.Errorf("parseIPs(%q) accepted", bad)
		}
	}
	if _, err := parseIPs("1.2.3.4,nope"); err == nil || !strings.Contains(err.Error(), "entry 2") {
		t.Errorf("error does not name the entry: %v", err)
	}
}

func TestRunRejectsBadUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"cut"}, {"drop", "--from", "1.2.3.4", "extra"}, {"heal", "now"}} {
		if err := run(args); err == nil {
			t.Errorf("run(%q) accepted", args)
		}
	}
}

func TestDropRuleNamesItsSource(t *testing.T) {
	for _, ip := range []string{"10.1.2.3", "fd00::7"} {
		addr := netip.MustParseAddr(ip)
		for _, all := range []bool{false, true} {
			rule := &nftables.Rule{Exprs: dropFrom(addr, all)}
			got, ok := ruleSource(rule)
			if !ok || got != addr {
				t.Errorf("ruleSource(dropFrom(%s, %v)) = %v %v", ip, all, got, ok)
			}
			if n := len(rule.Exprs); (all && n != 5) || (!all && n != 7) {
				t.Errorf("dropFrom(%s, all=%v) has %d expressions", ip, all, n)
			}
		}
	}
}

// TestTableInFreshNamespace runs the real netlink calls in a new, empty
// network namespace of one locked OS thread (root only; skipped otherwise).
// The thread is never unlocked, so Go discards it with its namespace.
func TestTableInFreshNamespace(t *testing.T) {
	done := make(chan error, 1)
	go func() {
		goruntime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			done <- errSkip{err}
			return
		}
		done <- exerciseTable()
	}()
	err := <-done
	var skip errSkip
	if errors.As(err, &skip) {
		t.Skipf("cannot make a network namespace: %v", skip.err)
	}
	if err != nil {
		t.Fatal(err)
	}
}

type errSkip struct{ err error }

func (e errSkip) Error() string { return e.err.Error() }

func exerciseTable() error {
	if err := deleteTable(); err != nil {
		return errors.New("heal without a table: " + err.Error())
	}
	a, b := netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.0.3")
	if err := replaceDropTable([]netip.Addr{a, b}, false); err != nil {
		return err
	}
	if got, err := droppedIPs(); err != nil || !reflect.DeepEqual(got, []netip.Addr{a, b}) {
		return errors.New("after drop: " + describe(got, err))
	}
	if err := replaceDropTable([]netip.Addr{b}, true); err != nil {
		return err
	}
	if got, err := droppedIPs(); err != nil || !reflect.DeepEqual(got, []netip.Addr{b}) {
		return errors.New("after replace: " + describe(got, err))
	}
	if err := deleteTable(); err != nil {
		return err
	}
	if got, err := droppedIPs(); err != nil || len(got) != 0 {
		return errors.New("after heal: " + describe(got, err))
	}
	return nil
}

func describe(ips []netip.Addr, err error) string {
	if err != nil {
		return err.Error()
	}
	var s []string
	for _, ip := range ips {
		s = append(s, ip.String())
	}
	return "[" + strings.Join(s, " ") + "]"
}
