package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

func isNotFound(err error) bool { return cerrdefs.IsNotFound(err) }

// Close thaws every node, heals, writes every node's log to Spec.LogDir,
// removes every container of the campaign (also any the cluster lost track
// of, found by label) and the network. It is idempotent.
func (c *dockerCluster) Close(ctx context.Context) error {
	c.closeOnce.Do(func() { c.closeErr = c.close(ctx) })
	return c.closeErr
}

func (c *dockerCluster) close(ctx context.Context) error {
	c.mu.Lock()
	c.closed = true
	nodes := make([]*dockerNode, 0, len(c.nodes))
	for _, n := range c.nodes {
		nodes = append(nodes, n)
	}
	c.grudge = nil // what applyRules below enforces: no partition
	c.mu.Unlock()

	var mu sync.Mutex
	var errs []error
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.ops.Lock() // waits for a node still being created
			defer n.ops.Unlock()
			if n.container() == nil {
				return
			}
			if err := c.resume(ctx, n); err != nil && !isNotFound(err) {
				fail(err)
			}
			n.mu.Lock()
			healNeeded := n.ruled && !n.down
			n.mu.Unlock()
			if healNeeded {
				if err := c.applyRules(ctx, n); err != nil {
					fail(err)
				}
			}
			if c.spec.LogDir != "" {
				logs := append(c.removedLog(n.id), c.captureLog(ctx, n)...)
				if err := writeLog(c.spec.LogDir, n.id, logs); err != nil {
					fail(err)
				}
			}
		}()
	}
	wg.Wait()
	if c.spec.LogDir != "" {
		live := c.nodesAtClose(nodes)
		c.mu.Lock()
		removedIDs := sortedKeys(c.removedLogs)
		c.mu.Unlock()
		for _, id := range removedIDs {
			if !live[id] {
				if err := writeLog(c.spec.LogDir, id, c.removedLog(id)); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	removed, err := removeLabelled(ctx, c.cli, c.log, LabelCampaign+"="+c.spec.Campaign)
	if err != nil {
		errs = append(errs, err)
	}
	if err := c.network.Remove(ctx); err != nil && !isNotFound(err) {
		errs = append(errs, fmt.Errorf("remove network %s: %w", c.network.Name, err))
	}
	c.cli.Close()
	c.log.Info("cluster closed", "removed", removed, "error", errors.Join(errs...))
	return errors.Join(errs...)
}

// removedLog is a copy of the log kept when node id was removed.
func (c *dockerCluster) removedLog(id string) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.removedLogs[id]...)
}

func (c *dockerCluster) nodesAtClose(nodes []*dockerNode) map[string]bool {
	live := map[string]bool{}
	for _, n := range nodes {
		live[n.id] = true
	}
	return live
}

func writeLog(dir, id string, data []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("log dir: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, id+".log"), data, 0o644); err != nil {
		return fmt.Errorf("collect log of %s: %w", id, err)
	}
	return nil
}

func openCollectedLog(dir, id string) (*os.File, error) {
	if dir == "" {
		return nil, ErrClosed
	}
	return os.Open(filepath.Join(dir, id+".log"))
}

// GC removes every container and network labelled faultline=1 (leftovers
// of runs that could not clean up), thawing paused containers first, and
// the node images no container uses (each source change builds a new one;
// the next run rebuilds what it needs in a second or two). It returns what
// it removed, as "container/<name>", "network/<name>" and "image/<tag>".
func GC(ctx context.Context, log *slog.Logger) (removed []string, err error) {
	removed, err = gcLabelled(ctx, log, LabelFaultline+"=1")
	images, ierr := removeUnusedImages(ctx, log)
	return append(removed, images...), errors.Join(err, ierr)
}

// removeUnusedImages removes images labelled faultline.image; the engine
// refuses (and we skip) those a container still uses.
func removeUnusedImages(ctx context.Context, log *slog.Logger) ([]string, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cli, err := newDockerClient()
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	list, err := cli.ImageList(ctx, client.ImageListOptions{Filters: make(client.Filters).Add("label", LabelImage)})
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	var removed []string
	var errs []error
	for _, img := range list.Items {
		name := img.ID
		if len(img.RepoTags) > 0 {
			name = img.RepoTags[0]
		}
		if _, err := cli.ImageRemove(ctx, img.ID, client.ImageRemoveOptions{Force: false, PruneChildren: true}); err != nil {
			if !cerrdefs.IsConflict(err) && !isNotFound(err) {
				errs = append(errs, fmt.Errorf("remove image %s: %w", name, err))
			}
			continue
		}
		log.Info("gc: removed image", "image", name)
		removed = append(removed, "image/"+name)
	}
	return removed, errors.Join(errs...)
}

// gcLabelled is GC restricted to one label (key=value); every container and
// network we create carries both faultline=1 and its campaign's label.
func gcLabelled(ctx context.Context, log *slog.Logger, label string) (removed []string, err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cli, err := newDockerClient()
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	removed, err = removeLabelled(ctx, cli, log, label)
	nets, nerr := cli.NetworkList(ctx, client.NetworkListOptions{
		Filters: make(client.Filters).Add("label", label),
	})
	if nerr != nil {
		return removed, errors.Join(err, fmt.Errorf("list networks: %w", nerr))
	}
	for _, nw := range nets.Items {
		if _, rerr := cli.NetworkRemove(ctx, nw.ID, client.NetworkRemoveOptions{}); rerr != nil && !isNotFound(rerr) {
			err = errors.Join(err, fmt.Errorf("remove network %s: %w", nw.Name, rerr))
			continue
		}
		log.Info("gc: removed network", "network", nw.Name)
		removed = append(removed, "network/"+nw.Name)
	}
	return removed, err
}

// removeLabelled force-removes every container carrying label (key=value),
// thawing paused ones first, and returns "container/<name>" for each.
func removeLabelled(ctx context.Context, cli *client.Client, log *slog.Logger, label string) ([]string, error) {
	list, err := cli.ContainerList(ctx, client.ContainerListOptions{
		All: true, Filters: make(client.Filters).Add("label", label),
	})
	if err != nil {
		return nil, fmt.Errorf("list containers labelled %s: %w", label, err)
	}
	var removed []string
	var errs []error
	for _, ctr := range list.Items {
		name := ctr.ID[:12]
		if len(ctr.Names) > 0 {
			name = strings.TrimPrefix(ctr.Names[0], "/")
		}
		if ctr.State == "paused" {
			if _, err := cli.ContainerUnpause(ctx, ctr.ID, client.ContainerUnpauseOptions{}); err != nil && !isNotFound(err) {
				errs = append(errs, fmt.Errorf("unpause %s: %w", name, err))
			}
		}
		if _, err := cli.ContainerRemove(ctx, ctr.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("remove container %s: %w", name, err))
			continue
		}
		log.Info("removed container", "container", name)
		removed = append(removed, "container/"+name)
	}
	return removed, errors.Join(errs...)
}
