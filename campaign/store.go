package campaign

import (
	"os"
	"path/filepath"
	goruntime "runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/faultline/faultline/store"
)

// BuildVersions reads the running binary's build information.
func BuildVersions() store.Versions {
	v := store.Versions{Go: goruntime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	v.Module = bi.Main.Path
	v.Version = bi.Main.Version
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified, _ = strconv.ParseBool(s.Value)
		}
	}
	return v
}

// gitRevision reads the commit checked out at root from its .git directory,
// without running git: HEAD, then the ref it names, loose or packed.
func gitRevision(root string) string {
	if root == "" {
		return ""
	}
	gitDir := filepath.Join(root, ".git")
	head, err := os.ReadFile(filepath.Join(gitDir, "HEAD"))
	if err != nil {
		return ""
	}
	h := strings.TrimSpace(string(head))
	ref, ok := strings.CutPrefix(h, "ref: ")
	if !ok {
		return h // detached HEAD
	}
	if b, err := os.ReadFile(filepath.Join(gitDir, filepath.FromSlash(ref))); err == nil {
		return strings.TrimSpace(string(b))
	}
	packed, err := os.ReadFile(filepath.Join(gitDir, "packed-refs"))
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(packed), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[1] == ref {
			return f[0]
		}
	}
	return ""
}

func (c *campaign) updateManifest(f func(*store.Manifest)) {
	c.manMu.Lock()
	defer c.manMu.Unlock()
	f(&c.man)
}

func (c *campaign) manifest() store.Manifest {
	c.manMu.Lock()
	defer c.manMu.Unlock()
	return c.man
}

func (c *campaign) writeManifest() error {
	return store.WriteManifest(c.runDir, c.manifest())
}
