package serve

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// fixtureStore holds the hand-written runs that report's tests use too.
var fixtureStore = filepath.Join("..", "report", "testdata", "store")

// Fixture runs in fixtureStore.
const (
	invalidRun    = "register-partition/20261127T030000Z"
	validRun      = "register-none/20261127T020000Z"
	incompleteRun = "append-all/20261127T040000Z"
	garbageRun    = "garbage/20261127T010000Z"
)

// copyStore copies the fixture store into a fresh directory, so tests can
// write reports and plant files without touching the fixtures.
func copyStore(t testing.TB) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(fixtureStore, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(fixtureStore, p)
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
