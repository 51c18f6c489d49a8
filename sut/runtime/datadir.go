package runtime

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/moby/moby/client"
)

// DataDirs is implemented by a Cluster whose runtime can hand a stopped
// node's data directory to a fault as a directory on this machine (the
// corrupt nemesis damages files in it). The process runtime hands over the
// directory itself; the docker runtime a copy, written back afterwards.
type DataDirs interface {
	// WithDataDir runs fn on node id's data directory while the node is
	// down; what fn leaves there is what the node finds when it starts
	// again. It refuses a node that is running.
	WithDataDir(ctx context.Context, id string, fn func(dir string) error) error
}

func (c *processCluster) WithDataDir(ctx context.Context, id string, fn func(dir string) error) error {
	n, err := c.lockedNode(id)
	if err != nil {
		return err
	}
	defer n.ops.Unlock()
	if n.running() {
		return fmt.Errorf("node %s is running: stop it before touching its data directory", id)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return fn(n.data)
}

// containerDataDir is where raftd keeps its data inside a node's container.
const containerDataDir = "/data"

// WithDataDir copies the stopped container's data directory out through the
// engine's archive API, runs fn on the copy and copies every file back. The
// archive API only adds and overwrites: a file fn deletes stays in the
// container (fn's truncations and rewrites do land).
func (c *dockerCluster) WithDataDir(ctx context.Context, id string, fn func(dir string) error) error {
	n, running, _, err := c.lockedNode(ctx, id)
	if err != nil {
		return err
	}
	defer n.ops.Unlock()
	if running {
		return fmt.Errorf("node %s is running: stop it before touching its data directory", id)
	}
	tmp, err := os.MkdirTemp("", "faultline-datadir-"+id+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	res, err := c.cli.CopyFromContainer(ctx, n.name, client.CopyFromContainerOptions{SourcePath: containerDataDir + "/."})
	if err != nil {
		return fmt.Errorf("node %s: copy %s out: %w", id, containerDataDir, err)
	}
	err = untar(res.Content, tmp)
	res.Content.Close()
	if err != nil {
		return fmt.Errorf("node %s: copy %s out: %w", id, containerDataDir, err)
	}
	if err := fn(tmp); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := tarDir(tmp, &buf); err != nil {
		return err
	}
	if _, err := c.cli.CopyToContainer(ctx, n.name, client.CopyToContainerOptions{DestinationPath: containerDataDir, Content: &buf}); err != nil {
		return fmt.Errorf("node %s: copy %s back: %w", id, containerDataDir, err)
	}
	return nil
}

// untar writes the directories and regular files of a tar stream under dst;
// anything else, or a name that leaves dst, is an error.
func untar(r io.Reader, dst string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.Clean(h.Name)
		if name == "." {
			continue
		}
		if !filepath.IsLocal(name) {
			return fmt.Errorf("archive entry %q leaves the directory", h.Name)
		}
		path := filepath.Join(dst, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(path, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
			b, err := io.ReadAll(tr)
			if err != nil {
				return err
			}
			if err := os.WriteFile(path, b, 0o644); err != nil {
				return err
			}
		default:
			return fmt.Errorf("archive entry %q: type %c is neither a file nor a directory", h.Name, h.Typeflag)
		}
	}
}

// tarDir writes the directories and regular files under dir as a tar
// stream with names relative to dir.
func tarDir(dir string, w io.Writer) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil || rel == "." {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		h, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		h.Name = filepath.ToSlash(rel)
		if d.IsDir() {
			h.Name += "/"
			return tw.WriteHeader(h)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		_, err = tw.Write(b)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}
