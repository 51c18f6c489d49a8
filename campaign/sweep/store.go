package sweep

import (
	"bytes"
	"path/filepath"

	"github.com/faultline/faultline/store"
)

// Files of a sweep directory, store/sweeps/<timestamp>/ (the store owns
// the namespace: store.SweepsDir, store.CreateSweep, store.PointSweepLatest).
const (
	SweepsDir  = store.SweepsDir
	LatestLink = store.LatestLink // store/sweeps/latest -> <timestamp>
	MatrixFile = "sweep.json"     // store/sweeps/<timestamp>/sweep.json
	PageFile   = "index.html"     // store/sweeps/<timestamp>/index.html
	// ServedPage is the same page again under the name `checker serve`
	// opens for each directory it lists, so a link to the sweep directory
	// opens the sweep page.
	ServedPage = store.ReportFile
)

// write (re)writes sweep.json and index.html, each through a temporary
// file and a rename so a reader never sees half a page.
func (s *Sweep) write() error {
	if err := store.WriteDocument(filepath.Join(s.Dir, MatrixFile), s.Matrix); err != nil {
		return err
	}
	var page bytes.Buffer
	if err := WritePage(&page, s.Matrix); err != nil {
		return err
	}
	if err := store.WriteFile(filepath.Join(s.Dir, PageFile), page.Bytes()); err != nil {
		return err
	}
	if err := store.WriteFile(filepath.Join(s.Dir, ServedPage), page.Bytes()); err != nil {
		return err
	}
	var junit bytes.Buffer
	if err := WriteJUnit(&junit, s.Matrix); err != nil {
		return err
	}
	return store.WriteFile(filepath.Join(s.Dir, JUnitFile), junit.Bytes())
}

// ReadMatrix reads a sweep.json back (for tools and tests).
func ReadMatrix(path string) (*Matrix, error) {
	var m Matrix
	if err := store.ReadDocument(path, &m); err != nil {
		return nil, err
	}
	return &m, nil
}
