package store

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// RunRef is one run directory found by List.
type RunRef struct {
	ID    string // "<name>/<timestamp>", slash-separated
	Name  string
	Stamp string
}

// List finds every run directory store/<name>/<timestamp>/ in fsys (the
// store's root), newest timestamp first. Symlinks (store/latest among them)
// and dot-directories are not followed, and the sweeps/ namespace is not a
// run name: a sweep is never listed as a run.
func List(fsys fs.FS) ([]RunRef, error) {
	names, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("reading the store: %w", err)
	}
	var out []RunRef
	for _, n := range names {
		if !n.IsDir() || strings.HasPrefix(n.Name(), ".") || ReservedName(n.Name()) {
			continue
		}
		stamps, err := fs.ReadDir(fsys, n.Name())
		if err != nil {
			continue
		}
		for _, ts := range stamps {
			if !ts.IsDir() || strings.HasPrefix(ts.Name(), ".") {
				continue
			}
			out = append(out, RunRef{ID: n.Name() + "/" + ts.Name(), Name: n.Name(), Stamp: ts.Name()})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Stamp != out[j].Stamp {
			return out[i].Stamp > out[j].Stamp
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// ListSweeps lists the sweep directories store/sweeps/<timestamp>/ in fsys
// (the store's root), newest first; the sweeps/latest link is not one.
func ListSweeps(fsys fs.FS) ([]string, error) {
	entries, err := fs.ReadDir(fsys, SweepsDir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading the store's sweeps: %w", err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(out)))
	return out, nil
}
