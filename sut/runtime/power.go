package runtime

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/faultline/faultline/sut/runtime/powerfs"
)

// PowerFailer is a cluster whose nodes' data directories are powerfs mounts
// (Spec.PowerLoss): it can fail a node's power. A power failure kills the
// node and drops what its disk had not made durable; Restart then starts it
// on what survived.
type PowerFailer interface {
	// PowerFail kills node id and drops its unsynced writes per loss (torn
	// mode draws from seed). It reports each file that lost something.
	PowerFail(ctx context.Context, id string, loss powerfs.Loss, seed uint64) ([]powerfs.FileLoss, error)
}

// ErrNoPowerLoss is returned by PowerFail on a cluster started without
// Spec.PowerLoss.
var ErrNoPowerLoss = errors.New("the cluster was started without power-loss disks (Spec.PowerLoss)")

// durableDir is where a node's powerfs keeps what survives a power failure,
// next to its data directory.
const durableDir = "durable"

// mountPowerDisk mounts n's data directory over a fresh durable directory.
func (n *processNode) mountPowerDisk() error {
	backing := filepath.Join(n.dir, durableDir)
	if err := os.RemoveAll(backing); err != nil {
		return fmt.Errorf("node %s: wipe %s: %w", n.id, backing, err)
	}
	disk, err := powerfs.Mount(n.data, backing)
	if err != nil {
		return fmt.Errorf("node %s: %w", n.id, err)
	}
	n.disk = disk
	return nil
}

// unmountPowerDisk unmounts n's powerfs, if it has one. The node must be
// down.
func (n *processNode) unmountPowerDisk() error {
	if n.disk == nil {
		return nil
	}
	err := n.disk.Close()
	n.disk = nil
	if err != nil {
		return fmt.Errorf("node %s: %w", n.id, err)
	}
	return nil
}

func (c *processCluster) PowerFail(ctx context.Context, id string, loss powerfs.Loss, seed uint64) ([]powerfs.FileLoss, error) {
	n, err := c.lockedNode(id)
	if err != nil {
		return nil, err
	}
	defer n.ops.Unlock()
	if n.disk == nil {
		return nil, fmt.Errorf("power-fail node %s: %w", id, ErrNoPowerLoss)
	}
	if err := n.kill(ctx); err != nil {
		return nil, fmt.Errorf("power-fail node %s: %w", id, err)
	}
	losses, err := n.disk.PowerFail(loss, rand.New(rand.NewPCG(seed, uint64(len(id)))))
	if err != nil {
		return losses, fmt.Errorf("power-fail node %s: %w", id, err)
	}
	c.log.Info("power failure", "node", id, "loss", loss, "files", len(losses))
	return losses, nil
}

// RemoveLeftoverMounts unmounts the powerfs mounts of this machine whose
// checker is gone (killed mid-campaign) and names each one it removed.
// Mounts of campaigns still running are left alone.
func RemoveLeftoverMounts() ([]string, error) {
	removed, err := powerfs.RemoveLeftovers()
	out := make([]string, len(removed))
	for i, l := range removed {
		out[i] = fmt.Sprintf("powerfs mount %s (over %s)", l.Dir, l.Backing)
	}
	return out, err
}
