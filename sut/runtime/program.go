package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"time"

	"github.com/faultline/faultline/sut/system"
)

// ModulePath is the Go module whose commands the runtimes build.
const ModulePath = "github.com/faultline/faultline"

// commandName names a built command after its package: the last element,
// with the parent's kept for a major-version suffix ("server-v3").
func commandName(pkg string) string {
	base := filepath.Base(pkg)
	if len(base) > 1 && base[0] == 'v' && strings.Trim(base[1:], "0123456789") == "" {
		return filepath.Base(filepath.Dir(pkg)) + "-" + base
	}
	return base
}

func programOf(n system.Node) system.Program {
	if ps, ok := n.(system.ProgramSource); ok {
		return ps.Program()
	}
	return system.Program{Package: "./cmd/" + n.Name()}
}

// FindModuleRoot walks up from dir to the directory whose go.mod declares
// ModulePath.
func FindModuleRoot(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := abs; ; d = filepath.Dir(d) {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && declaresModule(data, ModulePath) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod declaring module %s in %s or any parent (set the source root explicitly)", ModulePath, abs)
		}
	}
}

func declaresModule(gomod []byte, path string) bool {
	for _, line := range strings.Split(string(gomod), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "module" && strings.Trim(f[1], `"`) == path {
			return true
		}
	}
	return false
}

// builtBinary is one static binary in the content-addressed cache.
type builtBinary struct {
	Path string // executable, never rewritten once there
	Hash string // sha256 of its content, hex
}

// binaryCache builds Go commands at most once per process and keeps the
// results under names derived from their content, so concurrent test
// binaries and checker runs never overwrite a file another one executes.
type binaryCache struct {
	mu     sync.Mutex
	builds map[string]*pendingBuild
}

type pendingBuild struct {
	done chan struct{}
	bin  builtBinary
	err  error
}

var sharedBinaries = &binaryCache{builds: map[string]*pendingBuild{}}

// build compiles pkg (relative to root) for goos/GOARCH with CGO disabled.
func (c *binaryCache) build(ctx context.Context, root, pkg, goos string) (builtBinary, error) {
	key := root + "\x00" + pkg + "\x00" + goos
	c.mu.Lock()
	pb, ok := c.builds[key]
	if !ok {
		pb = &pendingBuild{done: make(chan struct{})}
		c.builds[key] = pb
		go func() {
			// A build outlives the context of whoever asked first: others
			// may be waiting on it.
			pb.bin, pb.err = goBuild(context.WithoutCancel(ctx), root, pkg, goos)
			close(pb.done)
		}()
	}
	c.mu.Unlock()
	select {
	case <-pb.done:
	case <-ctx.Done():
		return builtBinary{}, ctx.Err()
	}
	if pb.err != nil {
		// Let a later call try again (the source may have been fixed).
		c.mu.Lock()
		if c.builds[key] == pb {
			delete(c.builds, key)
		}
		c.mu.Unlock()
	}
	return pb.bin, pb.err
}

func cacheDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "faultline", "bin")
	}
	return filepath.Join(os.TempDir(), "faultline-cache", "bin")
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if root := os.Getenv("GOROOT"); root != "" {
		return filepath.Join(root, "bin", "go")
	}
	return "go" // fails with a clear "executable file not found"

}

func goBuild(ctx context.Context, root, pkg, goos string) (builtBinary, error) {
	dir := cacheDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return builtBinary{}, fmt.Errorf("binary cache: %w", err)
	}
	fingerprint, fpErr := sourceFingerprint(root, goos)
	link := fingerprintLink(dir, pkg, goos, fingerprint)
	if fpErr == nil {
		if bin, ok := cachedBuild(link); ok {
			return bin, nil
		}
	}
	tmp, err := os.CreateTemp(dir, ".build-*")
	if err != nil {
		return builtBinary{}, fmt.Errorf("binary cache: %w", err)
	}
	tmpPath := tmp.Name()
	tmp.Close()
	defer os.Remove(tmpPath)

	// No -trimpath: it would change every package's cache key and force a
	// rebuild of the standard library the first time, minutes on a loaded
	// CI machine; without it, go test's own compilations are reused.
	cmd := exec.CommandContext(ctx, goTool(), "build", "-o", tmpPath, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goruntime.GOARCH)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return builtBinary{}, fmt.Errorf("go build %s (in %s): %w\n%s", pkg, root, err, strings.TrimSpace(out.String()))
	}
	hash, err := fileHash(tmpPath)
	if err != nil {
		return builtBinary{}, err
	}
	final := filepath.Join(dir, fmt.Sprintf("%s-%s-%s", commandName(pkg), goos, hash[:16]))
	if _, err := os.Stat(final); errors.Is(err, os.ErrNotExist) {
		if err := os.Chmod(tmpPath, 0o755); err != nil {
			return builtBinary{}, err
		}
		// Rename is atomic: a reader sees no file or the whole binary.
		if err := os.Rename(tmpPath, final); err != nil {
			return builtBinary{}, fmt.Errorf("binary cache: %w", err)
		}
	}
	pruneBinaries(dir, fmt.Sprintf("%s-%s-", commandName(pkg), goos), final)
	if fpErr == nil {
		rememberBuild(link, final)
	}
	return builtBinary{Path: final, Hash: hash}, nil
}

// staleBinaryAge is how old a cached binary other than the newest must be
// before it is deleted: old enough that no run still starts it.
const staleBinaryAge = time.Hour

// pruneBinaries deletes earlier builds of the same command (every source
// change makes a new one) and leftovers of interrupted builds.
func pruneBinaries(dir, prefix, keep string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		path := filepath.Join(dir, name)
		if path == keep || !(strings.HasPrefix(name, prefix) || strings.HasPrefix(name, "src-"+prefix) || strings.HasPrefix(name, ".build-")) {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > staleBinaryAge {
			_ = os.Remove(path)
		}
	}
}

// fileHash is the hex sha256 of a file's content (one owner: sut/system,
// which names a user's binary by it).
func fileHash(path string) (string, error) { return system.FileSHA256(path) }

// resolveProgram returns the binary for a program: the prebuilt one, or a
// fresh static build from the module root.
func resolveProgram(ctx context.Context, p system.Program, root, goos string) (builtBinary, error) {
	if p.Binary != "" {
		hash, err := fileHash(p.Binary)
		if err != nil {
			return builtBinary{}, fmt.Errorf("prebuilt binary: %w", err)
		}
		return builtBinary{Path: p.Binary, Hash: hash}, nil
	}
	if p.Package == "" {
		return builtBinary{}, errors.New("program has neither a package to build nor a binary")
	}
	if p.Module != "" {
		scratch, err := scratchModule(ctx, p.Module)
		if err != nil {
			return builtBinary{}, err
		}
		return sharedBinaries.build(ctx, scratch, p.Package, goos)
	}
	if root == "" {
		var err error
		if root, err = FindModuleRoot("."); err != nil {
			return builtBinary{}, err
		}
	}
	return sharedBinaries.build(ctx, root, p.Package, goos)
}
