package powerfs

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// FSType is the type of every powerfs mount as /proc/self/mountinfo shows
// it ("fuse." + the mount's name); Leftovers finds stale mounts by it.
const FSType = "fuse.faultline-powerfs"

const mountName = "faultline-powerfs"

// Loss says what a power failure drops.
type Loss string

const (
	// LoseUnsynced drops every change not yet fsynced.
	LoseUnsynced Loss = "unsynced"
	// LoseTorn lets a random prefix of each file's unsynced changes reach
	// the disk, the last of them possibly cut in the middle, and drops the
	// rest: each file ends in a torn suffix.
	LoseTorn Loss = "torn"
)

// ParseLoss reads a Loss by name.
func ParseLoss(s string) (Loss, error) {
	switch l := Loss(s); l {
	case LoseUnsynced, LoseTorn:
		return l, nil
	}
	return "", fmt.Errorf("power loss %q: want %s or %s", s, LoseUnsynced, LoseTorn)
}

// Disk is one mounted powerfs: Dir shows Backing's files, with unsynced
// changes held in memory until fsync or a power failure.
type Disk struct {
	Dir     string // the mount point
	Backing string // what survives a power failure

	server *fuse.Server

	mu     sync.Mutex
	caches map[uint64]*fileCache // by backing inode number
	closed bool
}

// Mount mounts a powerfs on dir (created if missing) over backing (created
// if missing). The caller must Close it on every path.
func Mount(dir, backing string) (*Disk, error) {
	for _, p := range []string{dir, backing} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			return nil, fmt.Errorf("powerfs: %w", err)
		}
	}
	backing, err := filepath.Abs(backing)
	if err != nil {
		return nil, fmt.Errorf("powerfs: %w", err)
	}
	d := &Disk{Dir: dir, Backing: backing, caches: map[uint64]*fileCache{}}
	lroot, err := fs.NewLoopbackRoot(backing)
	if err != nil {
		return nil, fmt.Errorf("powerfs: backing %s: %w", backing, err)
	}
	root := &node{LoopbackNode: lroot.(*fs.LoopbackNode), disk: d}
	root.RootData.RootNode = root
	// No attribute or entry caching in the kernel: a file's size changes
	// behind its back when a power failure drops unsynced writes.
	var zero time.Duration
	d.server, err = fs.Mount(dir, root, &fs.Options{
		EntryTimeout: &zero, AttrTimeout: &zero, NegativeTimeout: &zero,
		MountOptions: fuse.MountOptions{
			Name: mountName, FsName: "powerfs:" + backing,
			DirectMount: true, DisableReadDirPlus: true, DisableXAttrs: true,
			MaxBackground: 64,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("powerfs: mount %s: %w", dir, err)
	}
	if err := fuseCloseOnExec(); err != nil {
		_ = d.Close()
		return nil, fmt.Errorf("powerfs: mount %s: %w", dir, err)
	}
	return d, nil
}

// fuseCloseOnExec marks this process's /dev/fuse descriptors close-on-exec
// (go-fuse opens them without it). A node started later must not inherit
// one: the kernel aborts a FUSE connection only when the last descriptor
// of its device closes, so a node holding one, killed while its exit
// flushes a file on the mount, would wait for a server that can no longer
// answer, and never die (seen in Docker: the container could not be
// removed).
func fuseCloseOnExec() error {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return err
	}
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err != nil || target != "/dev/fuse" {
			continue
		}
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC); err != nil {
			return fmt.Errorf("close-on-exec for /dev/fuse descriptor %d: %w", fd, err)
		}
	}
	return nil
}

// PowerFail drops what a power failure loses, per loss, and reports each
// file that lost something, in path order. The caller kills every process
// using the disk first: a process that survived a power failure would be a
// contradiction, and its open files would keep the kernel's cached pages.
func (d *Disk) PowerFail(loss Loss, rng *rand.Rand) ([]FileLoss, error) {
	d.mu.Lock()
	caches := make([]*fileCache, 0, len(d.caches))
	for _, c := range d.caches {
		caches = append(caches, c)
	}
	d.mu.Unlock()
	slices.SortFunc(caches, func(a, b *fileCache) int { return int(a.ino - b.ino) })
	var losses []FileLoss
	var errs []error
	for _, c := range caches {
		if c.unsyncedOps() == 0 {
			continue
		}
		fl, errno := c.fail(loss == LoseTorn, rng)
		fl.Path = d.backingPath(c)
		if errno != 0 {
			errs = append(errs, fmt.Errorf("powerfs: failing %s: %w", fl.Path, errno))
		}
		losses = append(losses, fl)
		d.release(c, false)
	}
	slices.SortFunc(losses, func(a, b FileLoss) int {
		if a.Path < b.Path {
			return -1
		}
		if a.Path > b.Path {
			return 1
		}
		return 0
	})
	return losses, errors.Join(errs...)
}

// Sync makes every unsynced change durable, as the kernel writes its page
// cache back after a process dies: what a crash, unlike a power failure,
// leaves on the disk. The docker runtime calls it when a node ends by any
// way other than a power failure, since there the cache dies with the
// container.
func (d *Disk) Sync() error {
	d.mu.Lock()
	caches := make([]*fileCache, 0, len(d.caches))
	for _, c := range d.caches {
		caches = append(caches, c)
	}
	d.mu.Unlock()
	var errs []error
	for _, c := range caches {
		if errno := c.sync(); errno != 0 {
			errs = append(errs, fmt.Errorf("powerfs: syncing %s: %w", d.backingPath(c), errno))
		}
	}
	return errors.Join(errs...)
}

// Unsynced is how many changes wait for an fsync, over every file.
func (d *Disk) Unsynced() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, c := range d.caches {
		n += c.unsyncedOps()
	}
	return n
}

// backingPath names the file a cache stands for, relative to Backing
// ("(deleted)" once it has no name left).
func (d *Disk) backingPath(c *fileCache) string {
	p, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(c.fd))
	if err != nil {
		return "(unknown)"
	}
	if rel, err := filepath.Rel(d.Backing, p); err == nil {
		return rel
	}
	return p
}

// Close unmounts the disk. Unsynced changes are dropped, as if power
// failed: whoever wanted them durable had to sync. Processes that still use
// the disk get the mount detached from under them.
func (d *Disk) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	caches := d.caches
	d.caches = map[uint64]*fileCache{}
	d.mu.Unlock()
	if err := d.server.Unmount(); err != nil {
		// Busy: detach it. The server goes on answering the processes
		// still inside until they let go, so nothing waits for it here.
		if derr := unix.Unmount(d.Dir, unix.MNT_DETACH); derr != nil {
			return fmt.Errorf("powerfs: unmount %s: %w (detach: %v)", d.Dir, err, derr)
		}
		return nil
	}
	d.server.Wait()
	for _, c := range caches {
		c.closeFD()
	}
	return nil
}

// cacheFor returns the cache of the backing file at path, creating it, and
// counts one more open handle on it.
func (d *Disk) cacheFor(path string) (*fileCache, syscall.Errno) {
	fd, err := syscall.Open(path, syscall.O_RDWR|syscall.O_CLOEXEC|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, errnoOf(err)
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		syscall.Close(fd)
		return nil, errnoOf(err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	c, ok := d.caches[st.Ino]
	if ok {
		syscall.Close(fd)
	} else {
		c = newFileCache(st.Ino, fd, st.Size)
		d.caches[st.Ino] = c
	}
	c.mu.Lock()
	c.refs++
	c.mu.Unlock()
	return c, 0
}

// lookup returns the cache of a backing inode, if it has one.
func (d *Disk) lookup(ino uint64) *fileCache {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.caches[ino]
}

// release drops one handle (handle true) and frees the cache once nothing
// holds it: no handle and no unsynced change, or the file was deleted.
func (d *Disk) release(c *fileCache, handle bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if handle {
		c.refs--
	}
	if c.refs > 0 || (len(c.ops) > 0 && !c.forgotten) {
		return
	}
	if d.caches[c.ino] == c {
		delete(d.caches, c.ino)
	}
	c.closeFDLocked()
}

// forget is called when a backing inode lost its last name: its unsynced
// changes no longer matter, and the inode number may be reused.
func (d *Disk) forget(ino uint64) {
	d.mu.Lock()
	c := d.caches[ino]
	if c != nil {
		delete(d.caches, ino)
	}
	d.mu.Unlock()
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.forgotten = true
	c.ops = nil
	if c.refs == 0 {
		c.closeFDLocked()
	}
}

// Usable reports why this process cannot mount a powerfs, or nil when it
// can: mounting needs /dev/fuse and root.
func Usable() error {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return fmt.Errorf("no /dev/fuse: %w", err)
	}
	if os.Geteuid() != 0 {
		return errors.New("mounting a FUSE filesystem needs root")
	}
	return nil
}
