package campaign

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCreateRunDirNeverReusesADirectory(t *testing.T) {
	store := t.TempDir()
	now := time.Date(2026, 11, 27, 3, 46, 5, 0, time.UTC)
	seen := map[string]bool{}
	for range 3 {
		dir, stamp, err := createRunDir(store, "register-all", now)
		if err != nil {
			t.Fatal(err)
		}
		if seen[dir] {
			t.Fatalf("run directory %s handed out twice", dir)
		}
		seen[dir] = true
		if !strings.HasPrefix(stamp, "20261127T034605Z") {
			t.Fatalf("stamp %q", stamp)
		}
		if st, err := os.Stat(filepath.Join(dir, NodesDir)); err != nil || !st.IsDir() {
			t.Fatalf("nodes/ missing in %s: %v", dir, err)
		}
	}
	if !seen[filepath.Join(store, "register-all", "20261127T034605Z-2")] {
		t.Fatalf("second run of the same second not suffixed: %v", seen)
	}
}

func TestPointLatestReplacesTheLink(t *testing.T) {
	store := t.TempDir()
	a, _, _ := createRunDir(store, "a", time.Now())
	b, _, _ := createRunDir(store, "b", time.Now())
	for _, dir := range []string{a, b} {
		if err := pointLatest(store, dir); err != nil {
			t.Fatal(err)
		}
		target, err := os.Readlink(filepath.Join(store, LatestLink))
		if err != nil {
			t.Fatal(err)
		}
		if filepath.IsAbs(target) {
			t.Fatalf("latest -> %s should be relative so the store can move", target)
		}
		if filepath.Join(store, target) != dir {
			t.Fatalf("latest -> %s, want %s", target, dir)
		}
	}
	entries, _ := os.ReadDir(store)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Fatalf("temporary link left behind: %s", e.Name())
		}
	}
}

func TestHistoryCounterFollowsAGrowingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), HistoryFile)
	c := newHistoryCounter(path)
	c.poll() // no file yet: nothing, no panic
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	write := func(s string) {
		if _, err := f.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"time":100,"process":"nemesis","type":"info","f":"kill-start","value":{}}` + "\n")
	write(`{"time":250,"process":0,"type":"invoke","f":"read","key":"k1","value":null}` + "\n")
	write(`{"time":300,"process":0,"type":"ok","f":"read","key":"k1","val`) // half a line
	c.poll()
	if c.FirstInvoke != 250 || c.Ok != 0 {
		t.Fatalf("after first poll: first invoke %d, ok %d", c.FirstInvoke, c.Ok)
	}
	write(`ue":null}` + "\n")
	write(`{"time":400,"process":1,"type":"invoke","f":"write","key":"k1","value":3}` + "\n")
	write(`{"time":500,"process":1,"type":"info","f":"write","key":"k1","value":3}` + "\n")
	write(`{"time":600,"process":2,"type":"invoke","f":"write","key":"k1","value":4}` + "\n")
	write(`{"time":700,"process":2,"type":"fail","f":"write","key":"k1","value":4}` + "\n")
	write(`{"time":800,"process":"nemesis","type":"info","f":"kill-end","value":{}}` + "\n")
	c.poll()
	if c.Ok != 1 || c.Info != 1 || c.Fail != 1 || c.FirstInvoke != 250 {
		t.Fatalf("counts ok %d fail %d info %d first %d; want 1 1 1 250 (nemesis info not counted)", c.Ok, c.Fail, c.Info, c.FirstInvoke)
	}
}

func TestClusterLabelIsDockerSafe(t *testing.T) {
	got := clusterLabel("Register_All+kill", "20261127T034605Z-2")
	if got != "register_all-kill-20261127t034605z-2" {
		t.Fatalf("got %q", got)
	}
}

func TestGitRevision(t *testing.T) {
	root := t.TempDir()
	git := filepath.Join(root, ".git")
	os.MkdirAll(filepath.Join(git, "refs", "heads"), 0o755)
	const loose, packed = "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222"
	os.WriteFile(filepath.Join(git, "HEAD"), []byte("ref: refs/heads/main\n"), 0o644)
	os.WriteFile(filepath.Join(git, "refs", "heads", "main"), []byte(loose+"\n"), 0o644)
	if got := gitRevision(root); got != loose {
		t.Fatalf("loose ref: %q", got)
	}
	os.Remove(filepath.Join(git, "refs", "heads", "main"))
	os.WriteFile(filepath.Join(git, "packed-refs"), []byte("# pack-refs with: peeled\n"+packed+" refs/heads/main\n"), 0o644)
	if got := gitRevision(root); got != packed {
		t.Fatalf("packed ref: %q", got)
	}
	os.WriteFile(filepath.Join(git, "HEAD"), []byte(loose+"\n"), 0o644)
	if got := gitRevision(root); got != loose {
		t.Fatalf("detached HEAD: %q", got)
	}
	if got := gitRevision(t.TempDir()); got != "" {
		t.Fatalf("no .git: %q", got)
	}
}
