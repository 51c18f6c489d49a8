package store

import (
	"io/fs"
	"path/filepath"
)

// WriteResults writes runDir/results.json. The result's type is the
// check's (check.Result); the store adds the format version.
func WriteResults(runDir string, result any) error {
	return WriteDocument(filepath.Join(runDir, ResultsFile), result)
}

// ReadResultsFS reads <runDir>/results.json from fsys into result. A missing
// file returns an error matching fs.ErrNotExist; errors name the file.
func ReadResultsFS(fsys fs.FS, runDir string, result any) error {
	return ReadDocumentFS(fsys, joinFS(runDir, ResultsFile), result)
}
