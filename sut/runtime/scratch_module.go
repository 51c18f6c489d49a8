package runtime

import (
	"bytes"
	"context"

	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// scratchModule returns a directory holding a Go module that requires
// module ("path@version"), so that a command of that module can be built
// with the ordinary toolchain and module proxy. It is made once per user
// (under the user cache directory, next to the binary cache) and reused;
// concurrent callers each prepare their own copy and the first rename wins.
func scratchModule(ctx context.Context, module string) (string, error) {
	path, version, ok := strings.Cut(module, "@")
	if !ok || path == "" || version == "" {
		return "", fmt.Errorf("program module %q: want path@version", module)
	}
	root := filepath.Join(filepath.Dir(cacheDir()), "modules")
	final := filepath.Join(root, strings.NewReplacer("/", "_", "@", "@").Replace(module))
	if _, err := os.Stat(filepath.Join(final, "go.sum")); err == nil {
		return final, nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("scratch module: %w", err)
	}
	tmp, err := os.MkdirTemp(root, ".prepare-*")
	if err != nil {
		return "", fmt.Errorf("scratch module: %w", err)
	}
	defer os.RemoveAll(tmp)
	gomod := "module faultline.local/build\n\ngo 1.24\n"
	if err := os.WriteFile(filepath.Join(tmp, "go.mod"), []byte(gomod), 0o644); err != nil {
		return "", fmt.Errorf("scratch module: %w", err)
	}
	cmd := exec.CommandContext(ctx, goTool(), "get", module)
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go get %s (in %s): %w\n%s", module, tmp, err, strings.TrimSpace(out.String()))
	}
	if err := os.Rename(tmp, final); err != nil {
		if _, statErr := os.Stat(filepath.Join(final, "go.sum")); statErr == nil {
			return final, nil // another process finished first
		}
		return "", fmt.Errorf("scratch module: %w", err)
	}
	return final, nil
}
