package store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCreateRunNeverReusesADirectory(t *testing.T) {
	store := t.TempDir()
	now := time.Date(2026, 11, 27, 3, 46, 5, 0, time.UTC)
	seen := map[string]bool{}
	for range 3 {
		dir, stamp, err := CreateRun(store, "register-all", now)
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
	a, _, _ := CreateRun(store, "a", time.Now())
	b, _, _ := CreateRun(store, "b", time.Now())
	for _, dir := range []string{a, b} {
		if err := PointLatest(store, dir); err != nil {
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

func TestSweepsAreNotRuns(t *testing.T) {
	store := t.TempDir()
	run, _, err := CreateRun(store, "register-all", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	sweep, err := CreateSweep(store, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := PointLatest(store, run); err != nil {
		t.Fatal(err)
	}
	if err := PointSweepLatest(store, sweep); err != nil {
		t.Fatal(err)
	}
	refs, err := List(os.DirFS(store))
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 1 || filepath.Join(store, filepath.FromSlash(refs[0].ID)) != run {
		t.Fatalf("listed %+v, want only the run %s (no sweep, no latest)", refs, run)
	}
	for _, name := range []string{"latest", "sweeps"} {
		if _, _, err := CreateRun(store, name, time.Now()); err == nil {
			t.Errorf("a run named %q was created", name)
		}
	}
}
