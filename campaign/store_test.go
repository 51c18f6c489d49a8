package campaign

import (
	"os"
	"path/filepath"
	"testing"
)

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
