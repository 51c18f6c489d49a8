package powerfs

import (
	"context"
	"path/filepath"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// node is a loopback node whose regular files go through the disk's
// caches: namespace operations pass through to the backing directory,
// file data and sizes wait for fsync.
type node struct {
	*fs.LoopbackNode
	disk *Disk
}

var (
	_ fs.NodeWrapChilder    = (*node)(nil)
	_ fs.NodeOpener         = (*node)(nil)
	_ fs.NodeCreater        = (*node)(nil)
	_ fs.NodeGetattrer      = (*node)(nil)
	_ fs.NodeSetattrer      = (*node)(nil)
	_ fs.NodeFsyncer        = (*node)(nil)
	_ fs.NodeUnlinker       = (*node)(nil)
	_ fs.NodeRenamer        = (*node)(nil)
	_ fs.NodeLookuper       = (*node)(nil)
	_ fs.NodeCopyFileRanger = (*node)(nil)
)

// WrapChild makes every node below the root a powerfs node.
func (n *node) WrapChild(ctx context.Context, ops fs.InodeEmbedder) fs.InodeEmbedder {
	return &node{LoopbackNode: ops.(*fs.LoopbackNode), disk: n.disk}
}

// backingPath is the node's path in the backing directory.
func (n *node) backingPath() string {
	return filepath.Join(n.RootData.Path, n.Path(n.RootData.RootNode.EmbeddedInode()))
}

// showSize replaces the backing size in attributes by the size a reader
// sees, for a file with a cache.
func (n *node) showSize(ino uint64, size *uint64) {
	if c := n.disk.lookup(ino); c != nil {
		*size = uint64(c.visibleSize())
	}
}

func (n *node) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	ch, errno := n.LoopbackNode.Lookup(ctx, name, out)
	if errno == 0 {
		n.showSize(out.Attr.Ino, &out.Attr.Size)
	}
	return ch, errno
}

// Open opens the file through its cache. O_TRUNC becomes a pending
// truncation, not a durable one.
func (n *node) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	c, errno := n.disk.cacheFor(n.backingPath())
	if errno != 0 {
		return nil, 0, errno
	}
	if flags&syscall.O_TRUNC != 0 && flags&syscall.O_ACCMODE != syscall.O_RDONLY {
		c.truncate(0)
	}
	return &handle{cache: c, disk: n.disk}, 0, 0
}

// Create creates the backing file (the name is durable at once, like any
// namespace change) and opens it through its cache.
func (n *node) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	ch, lf, _, errno := n.LoopbackNode.Create(ctx, name, flags&^syscall.O_TRUNC, mode, out)
	if errno != 0 {
		return nil, nil, 0, errno
	}
	if r, ok := lf.(fs.FileReleaser); ok {
		r.Release(ctx)
	}
	c, errno := n.disk.cacheFor(filepath.Join(n.backingPath(), name))
	if errno != 0 {
		return nil, nil, 0, errno
	}
	if flags&syscall.O_TRUNC != 0 {
		c.truncate(0)
	}
	out.Attr.Size = uint64(c.visibleSize())
	return ch, &handle{cache: c, disk: n.disk}, 0, 0
}

func (n *node) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	if h, ok := f.(*handle); ok {
		return h.getattr(out)
	}
	if errno := n.LoopbackNode.Getattr(ctx, nil, out); errno != 0 {
		return errno
	}
	n.showSize(out.Ino, &out.Size)
	return 0
}

// Setattr makes a size change pending and passes the rest through.
func (n *node) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if size, ok := in.GetSize(); ok {
		c, opened := n.cacheOf(f)
		if c == nil {
			return opened
		}
		c.truncate(int64(size))
		if f == nil {
			n.disk.release(c, true)
		}
		in.Valid &^= fuse.FATTR_SIZE
	}
	if errno := n.LoopbackNode.Setattr(ctx, nil, in, out); errno != 0 {
		return errno
	}
	return n.Getattr(ctx, f, out)
}

// cacheOf returns the cache behind f, or opens one by path (the caller
// then releases it).
func (n *node) cacheOf(f fs.FileHandle) (*fileCache, syscall.Errno) {
	if h, ok := f.(*handle); ok {
		return h.cache, 0
	}
	return n.disk.cacheFor(n.backingPath())
}

// Fsync makes the file's pending changes durable. A directory's fsync is
// passed through by its directory handle before it reaches here.
func (n *node) Fsync(ctx context.Context, f fs.FileHandle, flags uint32) syscall.Errno {
	if h, ok := f.(*handle); ok {
		return h.cache.sync()
	}
	c, errno := n.disk.cacheFor(n.backingPath())
	if errno != 0 {
		return errno
	}
	defer n.disk.release(c, true)
	return c.sync()
}

// Unlink removes the name; a file left without any name loses its cache.
func (n *node) Unlink(ctx context.Context, name string) syscall.Errno {
	var st syscall.Stat_t
	statErr := syscall.Lstat(filepath.Join(n.backingPath(), name), &st)
	if errno := n.LoopbackNode.Unlink(ctx, name); errno != 0 {
		return errno
	}
	if statErr == nil && st.Nlink == 1 {
		n.disk.forget(st.Ino)
	}
	return 0
}

// Rename passes through; a file replaced by the rename loses its cache.
func (n *node) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	var st syscall.Stat_t
	replaced := false
	if p, ok := newParent.(*node); ok && flags&fs.RENAME_EXCHANGE == 0 {
		replaced = syscall.Lstat(filepath.Join(p.backingPath(), newName), &st) == nil &&
			st.Mode&syscall.S_IFMT == syscall.S_IFREG && st.Nlink == 1
	}
	if errno := n.LoopbackNode.Rename(ctx, name, newParent, newName, flags); errno != 0 {
		return errno
	}
	if replaced {
		n.disk.forget(st.Ino)
	}
	return 0
}

// CopyFileRange is refused so that the kernel copies through read and
// write, which go through the caches.
func (n *node) CopyFileRange(ctx context.Context, fhIn fs.FileHandle, offIn uint64, out *fs.Inode, fhOut fs.FileHandle, offOut uint64, len uint64, flags uint64) (uint32, syscall.Errno) {
	return 0, syscall.ENOSYS
}

// handle is an open file: reads and writes go to its cache.
type handle struct {
	cache *fileCache
	disk  *Disk
}

var (
	_ fs.FileReader   = (*handle)(nil)
	_ fs.FileWriter   = (*handle)(nil)
	_ fs.FileReleaser = (*handle)(nil)
	_ fs.FileFsyncer  = (*handle)(nil)
	_ fs.FileFlusher  = (*handle)(nil)
)

func (h *handle) Read(ctx context.Context, buf []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	n, errno := h.cache.read(buf, off)
	if errno != 0 {
		return nil, errno
	}
	return fuse.ReadResultData(buf[:n]), 0
}

func (h *handle) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	h.cache.write(data, off)
	return uint32(len(data)), 0
}

func (h *handle) Fsync(ctx context.Context, flags uint32) syscall.Errno { return h.cache.sync() }

// Flush (close(2)) makes nothing durable, as on a real disk.
func (h *handle) Flush(ctx context.Context) syscall.Errno { return 0 }

func (h *handle) Release(ctx context.Context) syscall.Errno {
	h.disk.release(h.cache, true)
	return 0
}

func (h *handle) getattr(out *fuse.AttrOut) syscall.Errno {
	var st syscall.Stat_t
	if err := syscall.Fstat(h.cache.fd, &st); err != nil {
		return errnoOf(err)
	}
	out.FromStat(&st)
	out.Size = uint64(h.cache.visibleSize())
	return 0
}

var _ fs.NodeStatxer = (*node)(nil)

func (n *node) Statx(ctx context.Context, f fs.FileHandle, flags uint32, mask uint32, out *fuse.StatxOut) syscall.Errno {
	if errno := n.LoopbackNode.Statx(ctx, nil, flags, mask, out); errno != 0 {
		return errno
	}
	n.showSize(out.Ino, &out.Size)
	return 0
}
