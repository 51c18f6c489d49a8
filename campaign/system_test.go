package campaign

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/faultline/faultline/nemesis"
	"github.com/faultline/faultline/sut/system"
)

// TestSystemCapabilityRefusal: a fault the chosen system cannot take is
// refused before anything starts, naming the system, the capability and
// the kinds that remain; "all" keeps only those.
func TestSystemCapabilityRefusal(t *testing.T) {
	o := DefaultOptions()
	o.System, o.Nemesis = "etcd", "partition,clock"
	sys, err := o.SystemUnderTest()
	if err != nil {
		t.Fatal(err)
	}
	_, err = o.faultSelection(sys)
	var missing *system.MissingError
	if !errors.As(err, &missing) || missing.System != "etcd" || missing.Capability != system.ClockSkew {
		t.Fatalf("faultSelection() = %v, want etcd lacking clock-skew", err)
	}
	if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "--nemesis") || !strings.Contains(err.Error(), "clock-skew") {
		t.Fatalf("Validate() = %v, want the refusal under --nemesis", err)
	}
	for _, want := range []string{"etcd", "clock-skew", "partition", "kill", "pause"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not name %q", err, want)
		}
	}
	o.Nemesis = "all"
	sel, err := o.faultSelection(sys)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []nemesis.Kind{nemesis.Clock, nemesis.Slow} {
		if slices.Contains(sel.Kinds, k) {
			t.Errorf("--nemesis all on etcd plays %s, which etcd cannot take", k)
		}
	}
	if !slices.Contains(sel.Kinds, nemesis.Partition) || !slices.Contains(sel.Kinds, nemesis.Membership) {
		t.Errorf("--nemesis all on etcd = %v, lacks partition or membership", sel.Kinds)
	}
	// etcd changes one member per request: a swap is refused.
	o.Nemesis = "membership:swap"
	if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "member-replace") || !strings.Contains(err.Error(), "membership:add") {
		t.Errorf("Validate() of membership:swap on etcd = %v, want member-replace refused and membership:add left", err)
	}
}

func TestSystemOptionsAreChecked(t *testing.T) {
	for name, change := range map[string]func(*Options){
		"--system must be": func(o *Options) { o.System = "zookeeper" },
		"--read must be":   func(o *Options) { o.System, o.Read = "etcd", "local" },
		"--bug":            func(o *Options) { o.System, o.Bugs = "etcd", []string{"no-dedup"} },
	} {
		o := DefaultOptions()
		change(&o)
		if err := o.Validate(); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("Validate() = %v, want an error naming %s", err, name)
		}
	}
	o := DefaultOptions()
	o.System, o.Read = "etcd", "serializable"
	if err := o.Validate(); err != nil {
		t.Errorf("etcd with serializable reads: %v", err)
	}
}

// Under the process runtime etcd cannot be partitioned (it dials its peers
// from 127.0.0.1): partitions named are refused before anything starts,
// pointing to Docker, and "all" leaves them out; Docker keeps them.
func TestEtcdPartitionsNeedDocker(t *testing.T) {
	o := DefaultOptions()
	o.System, o.Runtime, o.Nemesis = "etcd", "process", "kill,partition"
	if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "--runtime docker") || !strings.Contains(err.Error(), "--nemesis") {
		t.Fatalf("Validate() = %v, want partitions of etcd refused under --runtime process", err)
	}
	o.Nemesis = "kill+partition:isolate-leader"
	if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "--runtime docker") {
		t.Fatalf("Validate() of a composite = %v, want the partition refused", err)
	}
	o.Nemesis = "all"
	sys, err := o.SystemUnderTest()
	if err != nil {
		t.Fatal(err)
	}
	sel, err := o.faultSelection(sys)
	if err != nil || slices.Contains(sel.Kinds, nemesis.Partition) || !slices.Contains(sel.Kinds, nemesis.Kill) {
		t.Fatalf("all on etcd under process = %v, %v; want kill and no partition", sel.Kinds, err)
	}
	o.Runtime, o.Nemesis = "docker", "partition"
	if err := o.Validate(); err != nil {
		t.Fatalf("partitions of etcd under docker: %v", err)
	}
	o.System, o.Runtime = "raftd", "process"
	if err := o.Validate(); err != nil {
		t.Fatalf("partitions of raftd under process: %v", err)
	}
}
