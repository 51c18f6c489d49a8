package serve

import (
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
	if err := os.CopyFS(dst, os.DirFS(fixtureStore)); err != nil {
		t.Fatalf("copying fixtures: %v", err)
	}
	return dst
}
