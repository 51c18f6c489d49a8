package report

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Fixture runs in testdata/store, written by hand.
const (
	invalidRun    = "register-partition/20261127T030000Z"
	validRun      = "register-none/20261127T020000Z"
	incompleteRun = "append-all/20261127T040000Z"
	garbageRun    = "garbage/20261127T010000Z"
)

// copyStore copies testdata/store into a fresh directory, so tests can write
// reports and plant files without touching the fixtures.
func copyStore(t testing.TB) string {
	t.Helper()
	dst := t.TempDir()
	src := filepath.Join("testdata", "store")
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatalf("copying fixtures: %v", err)
	}
	return dst
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// decodeText is decodeHistory of text named name, with the details of every operation
// fetched.
func decodeText(text, name string) (*History, error) {
	h, err := decodeHistory(func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(text)), nil }, name)
	if err != nil {
		return h, err
	}
	all := map[int]bool{}
	for i := range h.Len() {
		all[i] = true
	}
	return h, h.fetchDetails(all)
}
