package runtime

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
)

// sourceFingerprint hashes what a build of the module depends on: every
// non-test Go file, go.mod and go.sum, plus the toolchain and target. Two
// equal fingerprints build the same binaries, so a build can be skipped
// when one was already made from the same source. Hashing a few hundred
// small files takes milliseconds; the go build it saves takes seconds.
func sourceFingerprint(root, goos string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s %s/%s\n", goruntime.Version(), goos, goruntime.GOARCH)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "store" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		isSource := strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go")
		if !isSource && name != "go.mod" && name != "go.sum" {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		fmt.Fprintf(h, "%s\x00", filepath.ToSlash(rel))
		_, err = io.Copy(h, f)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("fingerprinting the source in %s: %w", root, err)
	}
	return hex.EncodeToString(h.Sum(nil))[:20], nil
}

// fingerprintLink is the cache entry that maps a source fingerprint to the
// binary built from it.
func fingerprintLink(dir, pkg, goos, fingerprint string) string {
	return filepath.Join(dir, fmt.Sprintf("src-%s-%s-%s", filepath.Base(pkg), goos, fingerprint))
}

// cachedBuild returns the binary already built from this exact source, if
// the cache still has it.
func cachedBuild(link string) (builtBinary, bool) {
	target, err := os.Readlink(link)
	if err != nil {
		return builtBinary{}, false
	}
	hash, err := fileHash(target)
	if err != nil {
		return builtBinary{}, false
	}
	return builtBinary{Path: target, Hash: hash}, true
}

// rememberBuild records which binary this source produced. A failure only
// costs a rebuild next time.
func rememberBuild(link, target string) {
	tmp := link + ".tmp"
	_ = os.Remove(tmp)
	if os.Symlink(target, tmp) == nil {
		_ = os.Rename(tmp, link)
	}
}
