package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Logs returns the node's log so far; after Close it reads the collected
// copy in Spec.LogDir.
func (c *processCluster) Logs(ctx context.Context, id string) (io.ReadCloser, error) {
	c.mu.Lock()
	path, ok := c.logPaths[id]
	closed := c.closed
	c.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("logs of node %q: %w", id, ErrUnknownNode)
	}
	if closed {
		if c.spec.LogDir == "" {
			return nil, ErrClosed
		}
		path = filepath.Join(c.spec.LogDir, id+".log")
	}
	return os.Open(path)
}

// Close resumes paused nodes, heals, kills every node, copies the logs into
// Spec.LogDir and deletes the temporary root.
func (c *processCluster) Close(ctx context.Context) error {
	c.closeOnce.Do(func() { c.closeErr = c.close(ctx) })
	return c.closeErr
}

func (c *processCluster) close(ctx context.Context) error {
	c.mu.Lock()
	c.closed = true
	nodes := make([]*processNode, 0, len(c.nodes))
	for _, n := range c.nodes {
		nodes = append(nodes, n)
	}
	c.grudge = nil
	logPaths := make(map[string]string, len(c.logPaths))
	for id, p := range c.logPaths {
		logPaths[id] = p
	}
	c.mu.Unlock()

	var errs []error
	for _, n := range nodes {
		n.ops.Lock()
		if err := c.resume(n); err != nil {
			errs = append(errs, err)
		}
		n.proxy.setBlocked(nil)
		if err := n.kill(ctx); err != nil {
			errs = append(errs, err)
		}
		n.proxy.close()
		if err := n.unmountPowerDisk(); err != nil {
			errs = append(errs, err)
		}
		n.ops.Unlock()
	}
	if c.spec.LogDir != "" {
		if err := collectLogs(c.spec.LogDir, logPaths); err != nil {
			errs = append(errs, err)
		}
	}
	if err := os.RemoveAll(c.root); err != nil {
		errs = append(errs, fmt.Errorf("remove %s: %w", c.root, err))
	}
	c.log.Info("cluster closed", "error", errors.Join(errs...))
	return errors.Join(errs...)
}

// collectLogs copies each node's log file to dir/<id>.log.
func collectLogs(dir string, logPaths map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("log dir: %w", err)
	}
	var errs []error
	for _, id := range sortedKeys(logPaths) {
		if err := copyFile(logPaths[id], filepath.Join(dir, id+".log")); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("collect log of %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}
