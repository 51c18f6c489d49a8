package campaign

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/sut/system"
)

// Files of a run directory (DESIGN.md, "Contract: the store").
const (
	ManifestFile = "campaign.json"
	HistoryFile  = "history.jsonl"
	ResultsFile  = "results.json"
	NodesDir     = "nodes"
	StatusFile   = "status.jsonl" // inside NodesDir
	LatestLink   = "latest"
)

// Run statuses recorded in campaign.json.
const (
	StatusRunning     = "running"
	StatusComplete    = "complete"
	StatusInterrupted = "interrupted"
	StatusError       = "error"
)

// timestampLayout names run directories: sortable, UTC, no colons.
const timestampLayout = "20060102T150405Z"

// Manifest is campaign.json.
type Manifest struct {
	Name      string `json:"name"`
	Timestamp string `json:"timestamp"` // the run directory's name
	Status    string `json:"status"`
	Error     string `json:"error,omitempty"`
	// Command is the argv that started this process; Reproduce is a
	// `checker run` line that repeats the campaign with the same seed.
	Command   []string `json:"command"`
	Reproduce string   `json:"reproduce"`
	Seed      int64    `json:"seed"`
	Options   Options  `json:"options"`
	Versions  Versions `json:"versions"`
	// System is the system under test: name, version and capabilities.
	System  system.Info `json:"system"`
	Nodes   []string    `json:"nodes"`
	Runtime string      `json:"runtime,omitempty"` // the runtime picked (docker or process)
	// Cluster is the runtime's name for the cluster: the value of the
	// faultline.campaign label on docker containers and networks.
	Cluster   string     `json:"cluster,omitempty"`
	StartedAt time.Time  `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
	// HistoryStart is the wall-clock instant that history times count from.
	HistoryStart time.Time `json:"history_start"`
	// FirstOpNs is the time from the start of the campaign to the first
	// client operation's invocation, in ns (0 when none happened).
	FirstOpNs int64 `json:"first_op_ns,omitempty"`
	// Recovery is empty when the cluster recovered after healing; otherwise
	// it says what did not recover within --recovery-timeout.
	Recovery string `json:"recovery,omitempty"`
	// Phases records when each phase began, in ns since the campaign start.
	Phases []PhaseMark `json:"phases,omitempty"`
	// Verdict repeats results.json's verdict for quick listing.
	Verdict string `json:"verdict,omitempty"`
}

// PhaseMark is one phase transition.
type PhaseMark struct {
	Phase string `json:"phase"`
	AtNs  int64  `json:"at_ns"`
}

// Versions identifies the build that ran the campaign.
type Versions struct {
	Go       string `json:"go"`
	Module   string `json:"module,omitempty"`
	Version  string `json:"version,omitempty"`
	Revision string `json:"vcs_revision,omitempty"`
	Time     string `json:"vcs_time,omitempty"`
	Modified bool   `json:"vcs_modified,omitempty"`
	// SourceRevision is the git commit checked out in the source tree that
	// raftd is built from (read from .git; the binary's own stamp is
	// missing under `go run` and -buildvcs=false).
	SourceRevision string `json:"source_revision,omitempty"`
}

// BuildVersions reads the running binary's build information.
func BuildVersions() Versions {
	v := Versions{Go: goruntime.Version()}
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

// createRunDir makes store/<name>/<timestamp>/ (and its nodes/ directory).
// Two runs started in the same second get "-2", "-3", ... suffixes so no
// run ever overwrites another.
func createRunDir(store, name string, now time.Time) (dir, stamp string, err error) {
	parent := filepath.Join(store, name)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", "", fmt.Errorf("--store: %w", err)
	}
	base := now.UTC().Format(timestampLayout)
	for i := 1; i < 1000; i++ {
		stamp = base
		if i > 1 {
			stamp = base + "-" + strconv.Itoa(i)
		}
		dir = filepath.Join(parent, stamp)
		err = os.Mkdir(dir, 0o755)
		if err == nil {
			return dir, stamp, os.Mkdir(filepath.Join(dir, NodesDir), 0o755)
		}
		if !errors.Is(err, os.ErrExist) {
			return "", "", fmt.Errorf("--store: %w", err)
		}
	}
	return "", "", fmt.Errorf("--store: too many runs named %s/%s", name, base)
}

// pointLatest makes store/latest a relative symlink to the run directory,
// replacing any previous link atomically (symlink beside it, then rename).
func pointLatest(store, runDir string) error {
	rel, err := filepath.Rel(store, runDir)
	if err != nil {
		return err
	}
	link := filepath.Join(store, LatestLink)
	tmp := fmt.Sprintf("%s.tmp-%d-%d", link, os.Getpid(), time.Now().UnixNano())
	if err := os.Symlink(rel, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, link); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// writeJSONAtomic writes v as indented JSON to path through a temporary
// file and a rename, so a reader never sees half a file.
func writeJSONAtomic(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func (c *campaign) updateManifest(f func(*Manifest)) {
	c.manMu.Lock()
	defer c.manMu.Unlock()
	f(&c.man)
}

func (c *campaign) manifest() Manifest {
	c.manMu.Lock()
	defer c.manMu.Unlock()
	return c.man
}

func (c *campaign) writeManifest() error {
	m := c.manifest()
	return writeJSONAtomic(filepath.Join(c.runDir, ManifestFile), m)
}
