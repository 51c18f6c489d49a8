package report

import (
	"io"
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
	if err := os.CopyFS(dst, os.DirFS(filepath.Join("testdata", "store"))); err != nil {
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
