package powerfs

import (
	"math/rand/v2"
	"sync"
	"syscall"
)

// pendingOp is one change to a file that no fsync has made durable yet: a
// write of data at off, or (truncate) a new size.
type pendingOp struct {
	truncate bool
	off      int64 // write: where the data goes
	data     []byte
	size     int64 // truncate: the new size
}

// fileCache is the volatile state of one backing file (one inode, whatever
// its names): the changes made since its last fsync, in order, over what
// the backing file durably holds. Open handles of the file share it, so a
// node killed and restarted (a process crash, not a power failure) reads
// back what it wrote, exactly as the kernel's page cache would serve it.
type fileCache struct {
	ino uint64
	fd  int // the backing file, read-write, owned by the cache

	mu          sync.Mutex
	refs        int  // open handles
	forgotten   bool // the file has no name left
	fdClosed    bool
	ops         []pendingOp
	size        int64 // the size a reader sees now
	durableSize int64 // the backing file's size
}

func newFileCache(ino uint64, fd int, size int64) *fileCache {
	return &fileCache{ino: ino, fd: fd, size: size, durableSize: size}
}

func (c *fileCache) closeFD() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeFDLocked()
}

func (c *fileCache) closeFDLocked() {
	if !c.fdClosed {
		c.fdClosed = true
		syscall.Close(c.fd)
	}
}

// write records data at off; a write that continues the previous one
// extends it, so an append-only log stays one pending op.
func (c *fileCache) write(data []byte, off int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := len(c.ops); n > 0 {
		last := &c.ops[n-1]
		if !last.truncate && last.off+int64(len(last.data)) == off {
			last.data = append(last.data, data...)
			c.size = max(c.size, off+int64(len(data)))
			return
		}
	}
	c.ops = append(c.ops, pendingOp{off: off, data: append([]byte(nil), data...)})
	c.size = max(c.size, off+int64(len(data)))
}

// truncate records a new size.
func (c *fileCache) truncate(size int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ops = append(c.ops, pendingOp{truncate: true, size: size})
	c.size = size
}

// visibleSize is the size a reader sees.
func (c *fileCache) visibleSize() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size
}

// read fills buf with what a reader sees at off: the backing file's bytes
// with the pending changes laid over them in order.
func (c *fileCache) read(buf []byte, off int64) (int, syscall.Errno) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if off >= c.size {
		return 0, 0
	}
	n := int(min(int64(len(buf)), c.size-off))
	buf = buf[:n]
	got := 0
	for got < n && off+int64(got) < c.durableSize {
		m, err := syscall.Pread(c.fd, buf[got:], off+int64(got))
		if err != nil {
			return 0, errnoOf(err)
		}
		if m == 0 {
			break
		}
		got += m
	}
	clear(buf[got:])
	end := off + int64(n)
	for _, op := range c.ops {
		if op.truncate {
			if op.size < end {
				clear(buf[max(op.size-off, 0):])
			}
			continue
		}
		lo, hi := max(op.off, off), min(op.off+int64(len(op.data)), end)
		if lo < hi {
			copy(buf[lo-off:hi-off], op.data[lo-op.off:hi-op.off])
		}
	}
	return n, 0
}

// unsyncedOps is how many changes wait for an fsync.
func (c *fileCache) unsyncedOps() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.ops)
}

// sync makes every pending change durable: applied to the backing file in
// order, then fsynced. A failed sync keeps the changes (replaying a prefix
// in order gives the same result).
func (c *fileCache) sync() syscall.Errno {
	c.mu.Lock()
	defer c.mu.Unlock()
	if errno := c.applyLocked(c.ops); errno != 0 {
		return errno
	}
	if err := syscall.Fsync(c.fd); err != nil {
		return errnoOf(err)
	}
	c.ops = nil
	c.durableSize = c.size
	return 0
}

// applyLocked writes ops to the backing file without syncing it.
func (c *fileCache) applyLocked(ops []pendingOp) syscall.Errno {
	for _, op := range ops {
		if op.truncate {
			if err := syscall.Ftruncate(c.fd, op.size); err != nil {
				return errnoOf(err)
			}
			continue
		}
		for done := 0; done < len(op.data); {
			m, err := syscall.Pwrite(c.fd, op.data[done:], op.off+int64(done))
			if err != nil {
				return errnoOf(err)
			}
			done += m
		}
	}
	return 0
}

// FileLoss is what a power failure did to one file.
type FileLoss struct {
	Path         string `json:"path"`                 // backing path at the time of the failure
	DroppedOps   int    `json:"dropped_ops"`          // pending changes lost, whole or in part
	DroppedBytes int64  `json:"dropped_bytes"`        // bytes of pending writes lost
	KeptBytes    int64  `json:"kept_bytes,omitempty"` // torn mode: bytes of pending writes that reached the disk
	Torn         bool   `json:"torn,omitempty"`       // torn mode: a write was cut in the middle
}

// fail drops the pending changes as a power failure does. With torn, a
// random prefix of them reaches the disk first, its last write possibly
// cut in the middle: the file ends in a torn suffix.
func (c *fileCache) fail(torn bool, rng *rand.Rand) (FileLoss, syscall.Errno) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var loss FileLoss
	if len(c.ops) == 0 {
		return loss, 0
	}
	var kept []pendingOp
	lost := c.ops
	if torn {
		keep := rng.IntN(len(c.ops) + 1)
		kept, lost = c.ops[:keep:keep], c.ops[keep:]
		if len(lost) > 0 && !lost[0].truncate && len(lost[0].data) > 1 {
			cut := lost[0]
			cut.data = cut.data[:rng.IntN(len(cut.data))]
			kept = append(kept, cut)
			loss.Torn = true
		}
		if errno := c.applyLocked(kept); errno != 0 {
			return loss, errno
		}
		if err := syscall.Fsync(c.fd); err != nil {
			return loss, errnoOf(err)
		}
	}
	for _, op := range kept {
		loss.KeptBytes += int64(len(op.data))
	}
	loss.DroppedOps = len(lost)
	for _, op := range c.ops {
		loss.DroppedBytes += int64(len(op.data))
	}
	loss.DroppedBytes -= loss.KeptBytes
	c.ops = nil
	var st syscall.Stat_t
	if err := syscall.Fstat(c.fd, &st); err != nil {
		return loss, errnoOf(err)
	}
	c.size, c.durableSize = st.Size, st.Size
	return loss, 0
}

func errnoOf(err error) syscall.Errno {
	if errno, ok := err.(syscall.Errno); ok {
		return errno
	}
	return syscall.EIO
}
