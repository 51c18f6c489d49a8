package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Files and directories of a run directory.
const (
	ManifestFile = "campaign.json"
	HistoryFile  = "history.jsonl"
	ResultsFile  = "results.json"
	LogFile      = "campaign.log"
	ReportFile   = "report.html"
	JUnitFile    = "junit.xml"
	LintFile     = "lint.json" // history.LintReport: where the history is probably mis-recorded
	KeysDir      = "keys"
	NodesDir     = "nodes"
	StatusFile   = "status.jsonl" // inside NodesDir
)

// Names at the top of the store.
const (
	// LatestLink is store/latest (the newest run) and store/sweeps/latest
	// (the newest sweep).
	LatestLink = "latest"
	// SweepsDir is the sweeps' namespace: store/sweeps/<timestamp>/. It is
	// not a run name, so listings never take a sweep for a run.
	SweepsDir = "sweeps"
)

// TimestampLayout names run and sweep directories: sortable, UTC, no colons.
const TimestampLayout = "20060102T150405Z"

// ReservedName reports whether name cannot be a run name because the store
// uses it for something else.
func ReservedName(name string) bool { return name == LatestLink || name == SweepsDir }

// CreateRun makes store/<name>/<timestamp>/ and its nodes/ directory. Two
// runs started in the same second get "-2", "-3", ... suffixes, so no run
// ever overwrites another.
func CreateRun(storeDir, name string, now time.Time) (dir, stamp string, err error) {
	if ReservedName(name) {
		return "", "", fmt.Errorf("--name %q is reserved by the store", name)
	}
	dir, stamp, err = createStamped(filepath.Join(storeDir, name), now)
	if err != nil {
		return "", "", err
	}
	return dir, stamp, os.Mkdir(filepath.Join(dir, NodesDir), 0o755)
}

// CreateSweep makes store/sweeps/<timestamp>/.
func CreateSweep(storeDir string, now time.Time) (string, error) {
	dir, _, err := createStamped(filepath.Join(storeDir, SweepsDir), now)
	return dir, err
}

func createStamped(parent string, now time.Time) (dir, stamp string, err error) {
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", "", fmt.Errorf("--store: %w", err)
	}
	base := now.UTC().Format(TimestampLayout)
	for i := 1; i < 1000; i++ {
		stamp = base
		if i > 1 {
			stamp = base + "-" + strconv.Itoa(i)
		}
		dir = filepath.Join(parent, stamp)
		err = os.Mkdir(dir, 0o755)
		if err == nil {
			return dir, stamp, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return "", "", fmt.Errorf("--store: %w", err)
		}
	}
	return "", "", fmt.Errorf("--store: too many directories named %s in %s", base, parent)
}

// PointLatest makes store/latest a relative symlink to the run directory,
// replacing any previous link atomically (symlink beside it, then rename).
func PointLatest(storeDir, runDir string) error {
	return pointLink(filepath.Join(storeDir, LatestLink), storeDir, runDir)
}

// PointSweepLatest makes store/sweeps/latest point at the sweep directory.
func PointSweepLatest(storeDir, sweepDir string) error {
	parent := filepath.Join(storeDir, SweepsDir)
	return pointLink(filepath.Join(parent, LatestLink), parent, sweepDir)
}

func pointLink(link, base, target string) error {
	rel, err := filepath.Rel(base, target)
	if err != nil {
		return err
	}
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
