package nemesis

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/faultline/faultline/sut/runtime"
)

// Corrupt damages a node's disk while it is down: the node is stopped, one
// file of its data directory gets bits flipped, a sector zeroed or its tail
// cut off, and the node is started again at once. A correct system either
// refuses to start (the node stays down for the hold, the rest of the
// cluster serves) or recovers without losing anything acknowledged. The
// start-up outcome is recorded in the fault's end event. The heal puts back
// the data directory as it was before the damage (a disk replaced from a
// backup) when the node refused to start, so every node serves again.
const Corrupt Kind = "corrupt"

// Modes of corrupt: how the chosen file is damaged.
const (
	CorruptFlipBits   = "flip-bits"   // 1-3 bits flipped at random offsets
	CorruptZeroSector = "zero-sector" // one 512-byte sector zeroed
	CorruptTruncate   = "truncate"    // the file cut at a random length
)

// OpDataDir is DataDirs.WithDataDir: the runtime reaches a stopped node's
// data directory.
const OpDataDir RuntimeOp = "data-dir"

// Start-up outcomes of a corrupted node.
const (
	OutcomeRefused   = "refused"   // the node would not start on the damaged data
	OutcomeRecovered = "recovered" // the node started and serves
)

type corruptKind struct{}

// corruption is a corrupt fault's plan and, once started, what it did.
type corruption struct {
	Seed    uint64 // draws the file and the damage, once the files are known
	File    string // relative to the data directory
	Offset  int64
	Length  int64  // bytes damaged, or bytes cut off by truncate
	Outcome string // OutcomeRefused or OutcomeRecovered
	Err     string // why the node refused to start (startupReason)
}

func (corruptKind) name() Kind { return Corrupt }
func (corruptKind) needs() Needs {
	return Needs{Runtime: []RuntimeOp{OpKill, OpDataDir}}
}

// overlap: alone. A node stopped, damaged and restarted while another
// fault kills, pauses or removes it would leave neither fault's outcome
// meaningful.
func (corruptKind) overlap() Overlap { return OverlapNone }

func (corruptKind) modes(p *planner, v view) []string {
	if len(v.nodes) == 0 || p.noDataDirs {
		return nil
	}
	return []string{CorruptFlipBits, CorruptZeroSector, CorruptTruncate}
}

func (corruptKind) plan(p *planner, mode string, v view) fault {
	return fault{Kind: Corrupt, Mode: mode, Targets: []string{p.pick(v.nodes)}, Params: &corruption{Seed: p.rng.Uint64()}}
}

func (corruptKind) start(ctx context.Context, n *Nemesis, f fault) error {
	c := f.Params.(*corruption)
	id := f.Targets[0]
	dd, ok := n.env.Cluster.(runtime.DataDirs)
	if !ok {
		return fmt.Errorf("corrupt %s: this runtime cannot reach a stopped node's data directory (the process runtime can)", id)
	}
	n.markNode(setCorrupted, id)
	if err := n.env.Cluster.Stop(ctx, id); err != nil {
		return fmt.Errorf("corrupt %s: stop: %w", id, err)
	}
	err := dd.WithDataDir(ctx, id, func(dir string) error {
		backup, err := backupDataDir(dir)
		if err != nil {
			return err
		}
		corruptBackups.put(n, id, backup)
		return c.damage(dir, f.Mode)
	})
	if err != nil {
		return fmt.Errorf("corrupt %s: %w", id, err)
	}
	if err := n.env.Cluster.Restart(ctx, id); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("corrupt %s: restart cut short: %w", id, err)
		}
		c.Outcome, c.Err = OutcomeRefused, startupReason(err.Error())
		n.log.Info("corrupted node refused to start", "node", id, "file", c.File, "err", c.Err)
		return nil
	}
	corruptBackups.setRecovered(n, id)
	c.Outcome = OutcomeRecovered
	n.log.Info("corrupted node started", "node", id, "file", c.File)
	return nil
}

func (corruptKind) heal(ctx context.Context, n *Nemesis, _ fault) error {
	_, err := healCorrupted(ctx, n)
	return err
}

func (corruptKind) sweep(ctx context.Context, n *Nemesis) ([]string, error) {
	return healCorrupted(ctx, n)
}

func (corruptKind) value(f fault) map[string]any {
	v := targetsValue(f)
	c, _ := f.Params.(*corruption)
	if c == nil || c.File == "" {
		return v
	}
	v["file"], v["offset"], v["length"] = c.File, c.Offset, c.Length
	if c.Outcome != "" {
		v["outcome"] = c.Outcome
	}
	if c.Err != "" {
		v["error"] = c.Err
	}
	return v
}

func (corruptKind) describe(f fault) string {
	s := fmt.Sprintf("corrupt %s %s", f.Mode, strings.Join(f.Targets, " "))
	if c, _ := f.Params.(*corruption); c != nil && c.File != "" {
		s += fmt.Sprintf(" (%s at %d", c.File, c.Offset)
		if c.Outcome != "" {
			s += ": " + c.Outcome
		}
		s += ")"
	}
	return s
}

// setCorrupted holds the nodes whose data a corrupt fault damaged and whose
// backup is not yet put back or dropped.
const setCorrupted damageSet = "corrupted"

// healCorrupted makes every corrupted node serve again: a node that did not
// start on its damaged data (it refused, or the fault was cut short) gets its
// data directory back as it was before the damage and is started; a node
// that recovered keeps its data. Either way the backup goes. A node stopped
// before any backup was taken is stopped for good and started again.
func healCorrupted(ctx context.Context, n *Nemesis) ([]string, error) {
	var did []string
	var errs []error
	for _, id := range n.nodesIn(setCorrupted) {
		b, ok := corruptBackups.get(n, id)
		switch {
		case ok && !b.recovered:
			if err := restoreDataDir(ctx, n, id, b.dir); err != nil {
				errs = append(errs, fmt.Errorf("corrupt %s: restore its data: %w", id, err))
				continue
			}
			did = append(did, "restored the data of "+id)
		case !ok:
			// The stop may still be under way: finish it, so that the
			// restart below does not find a node on its way down.
			if err := n.env.Cluster.Stop(ctx, id); err != nil {
				errs = append(errs, fmt.Errorf("corrupt %s: stop: %w", id, err))
				continue
			}
		}
		if err := n.env.Cluster.Restart(ctx, id); err != nil {
			errs = append(errs, fmt.Errorf("corrupt %s: restart: %w", id, err))
			continue
		}
		if ok {
			os.RemoveAll(b.dir)
			corruptBackups.drop(n, id)
		}
		n.unmarkNode(setCorrupted, id)
	}
	return did, errors.Join(errs...)
}

// restoreDataDir stops id and replaces its data directory with backup.
func restoreDataDir(ctx context.Context, n *Nemesis, id, backup string) error {
	if err := n.env.Cluster.Stop(ctx, id); err != nil {
		return err
	}
	dd, ok := n.env.Cluster.(runtime.DataDirs)
	if !ok {
		return errors.New("the runtime cannot reach the data directory")
	}
	return dd.WithDataDir(ctx, id, func(dir string) error {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
		return copyTree(backup, dir)
	})
}

// damage picks a file (weighted by size, so the log is hit most) and
// damages it as mode says, recording what it did.
func (c *corruption) damage(dir, mode string) error {
	files, err := regularFiles(dir)
	if err != nil {
		return err
	}
	var total int64
	for _, f := range files {
		total += f.size
	}
	if total == 0 {
		return errors.New("the data directory holds no data to damage")
	}
	rng := rand.New(rand.NewPCG(c.Seed, 0xc0))
	at := rng.Int64N(total)
	var f dataFile
	for _, f = range files {
		if at < f.size {
			break
		}
		at -= f.size
	}
	c.File = f.rel
	path := filepath.Join(dir, f.rel)
	if mode == CorruptTruncate {
		c.Offset, c.Length = rng.Int64N(f.size), 0
		c.Length = f.size - c.Offset
		if err := os.Truncate(path, c.Offset); err != nil {
			return err
		}
		return syncPath(path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	switch mode {
	case CorruptZeroSector:
		c.Offset = rng.Int64N(int64(len(b))) / 512 * 512
		end := min(c.Offset+512, int64(len(b)))
		c.Length = end - c.Offset
		clear(b[c.Offset:end])
	default: // CorruptFlipBits
		flips := 1 + rng.IntN(3)
		c.Offset, c.Length = -1, int64(flips)
		for range flips {
			off := rng.Int64N(int64(len(b)))
			b[off] ^= 1 << rng.IntN(8)
			if c.Offset < 0 || off < c.Offset {
				c.Offset = off
			}
		}
	}
	return writeDurable(path, b)
}

type dataFile struct {
	rel  string
	size int64
}

// regularFiles lists the regular files under dir, sorted by path.
func regularFiles(dir string) ([]dataFile, error) {
	var out []dataFile
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		out = append(out, dataFile{rel: rel, size: info.Size()})
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].rel < out[j].rel })
	return out, err
}

// backupDataDir copies dir to a fresh temporary directory.
func backupDataDir(dir string) (string, error) {
	backup, err := os.MkdirTemp("", "faultline-corrupt-backup-")
	if err != nil {
		return "", err
	}
	if err := copyTree(dir, backup); err != nil {
		os.RemoveAll(backup)
		return "", fmt.Errorf("backing up %s: %w", dir, err)
	}
	return backup, nil
}

// copyTree copies the directories and regular files under src into dst,
// durably: every file and directory is fsynced.
func copyTree(src, dst string) error {
	var dirs []string
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			dirs = append(dirs, target)
			return os.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return writeDurable(target, b)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, dir := range dirs {
		if err := syncPath(dir); err != nil {
			return err
		}
	}
	return nil
}

// writeDurable makes path hold b and fsyncs it. What the corrupt kind
// writes into a node's data directory (the damage, or the restored copy)
// must be on disk: under powerfs an unsynced write is lost at the next
// power failure, which would undo a damage silently or, worse, leave a
// restored node with empty files the node itself had synced long ago.
func writeDurable(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncPath fsyncs a file or a directory (a directory's entries).
func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// startupReason is why a node would not start: the last line of the
// runtime's error, which ends with the tail of the node's own log (raftd's
// last line says why it refused), cut to 300 bytes.
func startupReason(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	line := strings.TrimSpace(lines[len(lines)-1])
	if len(line) > 300 {
		line = line[:300] + "..."
	}
	return line
}

// corruptBackups remembers, per nemesis and node, the copy of the data
// directory taken before the damage, until the heal puts it back or drops
// it. The nemesis's damage sets say which nodes; this says where.
var corruptBackups = backupBook{m: map[*Nemesis]map[string]dataBackup{}}

type dataBackup struct {
	dir       string
	recovered bool // the node started on the damaged data
}

type backupBook struct {
	mu sync.Mutex
	m  map[*Nemesis]map[string]dataBackup
}

func (b *backupBook) put(n *Nemesis, id, dir string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m[n] == nil {
		b.m[n] = map[string]dataBackup{}
	}
	if old, ok := b.m[n][id]; ok {
		os.RemoveAll(old.dir)
	}
	b.m[n][id] = dataBackup{dir: dir}
}

func (b *backupBook) setRecovered(n *Nemesis, id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e, ok := b.m[n][id]; ok {
		e.recovered = true
		b.m[n][id] = e
	}
}

func (b *backupBook) get(n *Nemesis, id string) (dataBackup, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.m[n][id]
	return e, ok
}

func (b *backupBook) drop(n *Nemesis, id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.m[n], id)
	if len(b.m[n]) == 0 {
		delete(b.m, n)
	}
}
