package sweep

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Files and directories of a sweep in the store.
const (
	SweepsDir  = "sweeps"     // store/sweeps/
	MatrixFile = "sweep.json" // store/sweeps/<timestamp>/sweep.json
	PageFile   = "index.html" // store/sweeps/<timestamp>/index.html
	LatestLink = "latest"     // store/sweeps/latest -> <timestamp>
	// ServedPage is the same page again under the name `checker serve`
	// opens for each directory it lists: the server lists
	// store/sweeps/<timestamp>/ among the runs (as "sweeps"), and its row
	// then opens the sweep page.
	ServedPage = "report.html"
)

// timestampLayout names sweep directories like run directories: sortable,
// UTC, no colons.
const timestampLayout = "20060102T150405Z"

// createSweepDir makes store/sweeps/<timestamp>/, with "-2", "-3", ...
// suffixes when two sweeps start in the same second.
func createSweepDir(store string, now time.Time) (string, error) {
	parent := filepath.Join(store, SweepsDir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("--store: %w", err)
	}
	base := now.UTC().Format(timestampLayout)
	for i := 1; i < 1000; i++ {
		stamp := base
		if i > 1 {
			stamp += "-" + strconv.Itoa(i)
		}
		dir := filepath.Join(parent, stamp)
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return "", fmt.Errorf("--store: %w", err)
		}
	}
	return "", fmt.Errorf("--store: too many sweeps named %s", base)
}

// pointLatest makes store/sweeps/latest a relative symlink to dir,
// replacing an earlier one atomically.
func pointLatest(store, dir string) error {
	link := filepath.Join(store, SweepsDir, LatestLink)
	tmp := fmt.Sprintf("%s.tmp-%d-%d", link, os.Getpid(), time.Now().UnixNano())
	if err := os.Symlink(filepath.Base(dir), tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, link); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// write (re)writes sweep.json and index.html, each through a temporary
// file and a rename so a reader never sees half a page.
func (s *Sweep) write() error {
	b, err := json.MarshalIndent(s.Matrix, "", "  ")
	if err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(s.Dir, MatrixFile), append(b, '\n')); err != nil {
		return err
	}
	var page bytes.Buffer
	if err := WritePage(&page, s.Matrix); err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(s.Dir, PageFile), page.Bytes()); err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(s.Dir, ServedPage), page.Bytes()); err != nil {
		return err
	}
	var junit bytes.Buffer
	if err := WriteJUnit(&junit, s.Matrix); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(s.Dir, JUnitFile), junit.Bytes())
}

func writeAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// ReadMatrix reads a sweep.json back (for tools and tests).
func ReadMatrix(path string) (*Matrix, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Matrix
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &m, nil
}
