package campaign

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/store"
)

func TestDefaultOptionsAreValid(t *testing.T) {
	o := DefaultOptions()
	if err := o.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	if got := o.CampaignName(); got != "register-all" {
		t.Fatalf("default name = %q, want register-all", got)
	}
}

func TestValidateNamesTheFlag(t *testing.T) {
	cases := []struct {
		flag string
		mut  func(*Options)
	}{
		{"--runtime", func(o *Options) { o.Runtime = "kubernetes" }},
		{"--nodes", func(o *Options) { o.Nodes = 2 }},
		{"--nodes", func(o *Options) { o.Nodes = MaxNodes + 1 }},
		{"--duration", func(o *Options) { o.Duration = 0 }},
		{"--workload", func(o *Options) { o.Workload = "queue" }},
		{"--concurrency", func(o *Options) { o.Concurrency = 0 }},
		{"--rate", func(o *Options) { o.Rate = -1 }},
		{"--keys", func(o *Options) { o.Keys = 0 }},
		{"--nemesis", func(o *Options) { o.Nemesis = "partition,meteor" }},
		{"--interval", func(o *Options) { o.Interval = 0 }},
		{"--concurrent-faults", func(o *Options) { o.ConcurrentFaults = -1 }},
		{"--concurrent-faults", func(o *Options) { o.ConcurrentFaults = 99 }},
		{"--nemesis", func(o *Options) { o.Nemesis = "partition+meteor" }},
		{"--read", func(o *Options) { o.Read = "stale" }},
		{"--read-mode", func(o *Options) { o.ReadMode = "quorum" }},
		{"--bug", func(o *Options) { o.Bugs = []string{"no-such-bug"} }},
		{"--store", func(o *Options) { o.Store = " " }},
		{"--name", func(o *Options) { o.Name = "../escape" }},
		{"--name", func(o *Options) { o.Name = "latest" }},
		{"--check-timeout", func(o *Options) { o.CheckTimeout = -time.Second }},
		{"--check-memory", func(o *Options) { o.CheckMemory = -1 }},
		{"--recovery-timeout", func(o *Options) { o.RecoveryTimeout = 0 }},
		{"--request-timeout", func(o *Options) { o.RequestTimeout = 0 }},
		{"--max-clock-drift", func(o *Options) { o.MaxClockDrift = 1 }},
		{"--snapshot-every", func(o *Options) { o.SnapshotEvery = -5 }},
	}
	for _, c := range cases {
		o := DefaultOptions()
		c.mut(&o)
		err := o.Validate()
		if err == nil {
			t.Errorf("%s: bad value accepted", c.flag)
			continue
		}
		if !strings.Contains(err.Error(), c.flag) {
			t.Errorf("%s: error %q does not name the flag", c.flag, err)
		}
	}
}

func TestValidateAcceptsEdgeValues(t *testing.T) {
	o := DefaultOptions()
	o.Nemesis, o.Interval = "none", 0 // no faults: no interval needed
	o.Nodes, o.Read, o.ReadMode, o.Workload = 3, "local", "lease", "append"
	o.Bugs = []string{"stale-local-read", "no-dedup"}
	o.Name = "nightly_2026.11-27"
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	empty := DefaultOptions()
	empty.Runtime, empty.Nemesis, empty.ReadMode = "", "", ""
	if err := empty.Validate(); err != nil {
		t.Fatalf("empty runtime/nemesis/read mode should mean the defaults: %v", err)
	}
}

func TestCampaignName(t *testing.T) {
	o := DefaultOptions()
	o.Workload, o.Nemesis = "append", "partition,kill"
	if got := o.CampaignName(); got != "append-partition+kill" {
		t.Fatalf("got %q", got)
	}
	o.Nemesis = "partition:isolate-leader,kill"
	if got := o.CampaignName(); got != "append-partition_isolate-leader+kill" || !safeName.MatchString(got) {
		t.Fatalf("got %q, want a safe directory name", got)
	}
	o.Name = "mine"
	if got := o.CampaignName(); got != "mine" {
		t.Fatalf("got %q", got)
	}
}

func TestReproduceCommandQuotes(t *testing.T) {
	o := DefaultOptions()
	o.Seed = 42
	o.Store = "/tmp/my store"
	o.Bugs = []string{"no-dedup"}
	cmd := o.ReproduceCommand()
	for _, want := range []string{"checker run ", "--seed 42", "--bug no-dedup", "--store '/tmp/my store'", "--name register-all", "--duration 1m0s"} {
		if !strings.Contains(cmd, want) {
			t.Errorf("reproduce command %q lacks %q", cmd, want)
		}
	}
}

func TestLoadOptionsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	o := DefaultOptions()
	o.Seed, o.Nodes, o.Duration, o.Nemesis, o.Bugs = 7, 3, 12*time.Second, "partition,kill", []string{"ack-before-commit"}
	o.Rate, o.MaxClockDrift, o.SnapshotEvery, o.Read = 250.5, 0.05, 100, "local"
	o.CheckMemory = 3_000_000_001
	if err := store.WriteManifest(dir, store.Manifest{Name: "x", Seed: o.Seed, Options: o.manifestJSON()}); err != nil {
		t.Fatal(err)
	}
	got, err := LoadOptions(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, o) {
		t.Fatalf("round trip changed options:\n got %+v\nwant %+v", got, o)
	}
	// Durations are recorded in ns, as reports expect.
	b, _ := os.ReadFile(filepath.Join(dir, store.ManifestFile))
	var raw struct {
		Options map[string]any `json:"options"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	if d := raw.Options["duration"]; d != float64(12e9) {
		t.Fatalf("duration recorded as %v, want 12000000000", d)
	}
}

func TestLoadOptionsErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadOptions(dir); err == nil || !strings.Contains(err.Error(), store.ManifestFile) {
		t.Fatalf("missing campaign.json: %v", err)
	}
	path := filepath.Join(dir, store.ManifestFile)
	os.WriteFile(path, []byte(`{"options": {"nodes": 5,`), 0o644)
	if _, err := LoadOptions(dir); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("broken campaign.json: %v", err)
	}
	os.WriteFile(path, []byte(`{"name": "x"}`), 0o644)
	if _, err := LoadOptions(dir); err == nil || !strings.Contains(err.Error(), `no "options"`) {
		t.Fatalf("no options: %v", err)
	}
	bad := DefaultOptions()
	bad.Workload = "queue"
	if err := store.WriteManifest(dir, store.Manifest{Options: bad.manifestJSON()}); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOptions(dir); err == nil || !strings.Contains(err.Error(), "--workload") {
		t.Fatalf("invalid recorded options: %v", err)
	}
}
