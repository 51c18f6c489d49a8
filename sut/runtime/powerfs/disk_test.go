package powerfs

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// requireFUSE skips a test that needs to mount, or fails it in CI, where a
// missing /dev/fuse is a broken machine rather than a reason to skip.
func requireFUSE(t *testing.T) {
	t.Helper()
	err := Usable()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("FUSE needed in CI: %v", err)
	}
	t.Skip(err)
}

// mountDisk mounts a powerfs in a temporary directory and unmounts it when
// the test ends.
func mountDisk(t *testing.T) *Disk {
	t.Helper()
	requireFUSE(t)
	root := t.TempDir()
	d, err := Mount(filepath.Join(root, "mnt"), filepath.Join(root, "backing"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return d
}

func writeFile(t *testing.T, path string, data []byte, flag int, sync func(*os.File) error) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|flag, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if sync != nil {
		if err := sync(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func fsync(f *os.File) error     { return f.Sync() }
func fdatasync(f *os.File) error { return unix.Fdatasync(int(f.Fd())) }

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func powerFail(t *testing.T, d *Disk, loss Loss, seed uint64) []FileLoss {
	t.Helper()
	losses, err := d.PowerFail(loss, rand.New(rand.NewPCG(seed, 0)))
	if err != nil {
		t.Fatal(err)
	}
	return losses
}

func TestUnsyncedWriteIsVisibleUntilPowerFails(t *testing.T) {
	d := mountDisk(t)
	path := filepath.Join(d.Dir, "f")
	writeFile(t, path, []byte("durable"), 0, fsync)
	writeFile(t, path, []byte(" volatile"), os.O_APPEND, nil)

	// A crash keeps the page cache: a new open reads both writes.
	if got := readFile(t, path); string(got) != "durable volatile" {
		t.Fatalf("before power failure: %q", got)
	}
	if got := readFile(t, filepath.Join(d.Backing, "f")); string(got) != "durable" {
		t.Fatalf("backing before power failure: %q", got)
	}
	losses := powerFail(t, d, LoseUnsynced, 1)
	if got := readFile(t, path); string(got) != "durable" {
		t.Fatalf("after power failure: %q", got)
	}
	if len(losses) != 1 || losses[0].Path != "f" || losses[0].DroppedBytes != int64(len(" volatile")) {
		t.Fatalf("losses = %+v", losses)
	}
	if d.Unsynced() != 0 {
		t.Fatalf("unsynced after power failure: %d", d.Unsynced())
	}
}

func TestFsyncAndFdatasyncMakeDataDurable(t *testing.T) {
	for name, sync := range map[string]func(*os.File) error{"fsync": fsync, "fdatasync": fdatasync} {
		t.Run(name, func(t *testing.T) {
			d := mountDisk(t)
			path := filepath.Join(d.Dir, "f")
			writeFile(t, path, []byte("one"), 0, sync)
			writeFile(t, path, []byte("two"), os.O_APPEND, sync)
			powerFail(t, d, LoseUnsynced, 1)
			if got := readFile(t, path); string(got) != "onetwo" {
				t.Fatalf("after power failure: %q", got)
			}
		})
	}
}

func TestOverwriteInTheMiddleReadsBackAndIsLost(t *testing.T) {
	d := mountDisk(t)
	path := filepath.Join(d.Dir, "f")
	writeFile(t, path, []byte("aaaaaaaaaa"), 0, fsync)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("XY"), 3); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("Z"), 12); err != nil { // leaves a hole at 10, 11
		t.Fatal(err)
	}
	f.Close()
	if got := readFile(t, path); !bytes.Equal(got, []byte("aaaXYaaaaa\x00\x00Z")) {
		t.Fatalf("before power failure: %q", got)
	}
	powerFail(t, d, LoseUnsynced, 1)
	if got := readFile(t, path); string(got) != "aaaaaaaaaa" {
		t.Fatalf("after power failure: %q", got)
	}
}

func TestTruncateIsPendingUntilFsync(t *testing.T) {
	d := mountDisk(t)
	path := filepath.Join(d.Dir, "f")
	writeFile(t, path, []byte("0123456789"), 0, fsync)
	if err := os.Truncate(path, 4); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); string(got) != "0123" {
		t.Fatalf("after truncate: %q", got)
	}
	if st, err := os.Stat(path); err != nil || st.Size() != 4 {
		t.Fatalf("stat after truncate: %v, %v", st, err)
	}
	// A write after a truncation must not resurrect the truncated bytes.
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("x"), 6); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); !bytes.Equal(got, []byte("0123\x00\x00x")) {
		t.Fatalf("write after truncate: %q", got)
	}
	powerFail(t, d, LoseUnsynced, 1)
	if got := readFile(t, path); string(got) != "0123456789" {
		t.Fatalf("unsynced truncate after power failure: %q", got)
	}

	if err := f.Truncate(2); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	powerFail(t, d, LoseUnsynced, 1)
	if got := readFile(t, path); string(got) != "01" {
		t.Fatalf("synced truncate after power failure: %q", got)
	}
}

func TestOpenWithTruncIsPending(t *testing.T) {
	d := mountDisk(t)
	path := filepath.Join(d.Dir, "f")
	writeFile(t, path, []byte("old contents"), 0, fsync)
	writeFile(t, path, []byte("new"), os.O_TRUNC, nil)
	if got := readFile(t, path); string(got) != "new" {
		t.Fatalf("before power failure: %q", got)
	}
	powerFail(t, d, LoseUnsynced, 1)
	if got := readFile(t, path); string(got) != "old contents" {
		t.Fatalf("after power failure: %q", got)
	}
}

func TestRenameIsDurableButUnsyncedDataIsNot(t *testing.T) {
	d := mountDisk(t)
	tmp, final := filepath.Join(d.Dir, "tmp"), filepath.Join(d.Dir, "final")

	// The careless way: write, rename, no fsync. The new name survives,
	// its data does not (the zero-length file after a crash).
	writeFile(t, tmp, []byte("careless"), 0, nil)
	if err := os.Rename(tmp, final); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, final); string(got) != "careless" {
		t.Fatalf("before power failure: %q", got)
	}
	losses := powerFail(t, d, LoseUnsynced, 1)
	if got := readFile(t, final); len(got) != 0 {
		t.Fatalf("unsynced data survived a power failure: %q", got)
	}
	if len(losses) != 1 || losses[0].Path != "final" {
		t.Fatalf("losses name the file by its name at the failure: %+v", losses)
	}

	// The careful way: fsync the file, rename over the old one, fsync the
	// directory.
	writeFile(t, tmp, []byte("careful"), 0, fsync)
	if err := os.Rename(tmp, final); err != nil {
		t.Fatal(err)
	}
	dir, err := os.Open(d.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := dir.Sync(); err != nil {
		t.Fatalf("directory fsync: %v", err)
	}
	dir.Close()
	powerFail(t, d, LoseUnsynced, 1)
	if got := readFile(t, final); string(got) != "careful" {
		t.Fatalf("after power failure: %q", got)
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Fatalf("renamed-away name still there: %v", err)
	}
}

func TestReplacedAndDeletedFilesLoseNothingThatMatters(t *testing.T) {
	d := mountDisk(t)
	a, b := filepath.Join(d.Dir, "a"), filepath.Join(d.Dir, "b")
	writeFile(t, a, []byte("pending a"), 0, nil)
	writeFile(t, b, []byte("pending b"), 0, nil)
	if err := os.Remove(a); err != nil {
		t.Fatal(err)
	}
	writeFile(t, a, []byte("synced"), 0, fsync)
	if err := os.Rename(a, b); err != nil { // replaces b, pending data and all
		t.Fatal(err)
	}
	if losses := powerFail(t, d, LoseUnsynced, 1); len(losses) != 0 {
		t.Fatalf("losses of deleted files: %+v", losses)
	}
	if got := readFile(t, b); string(got) != "synced" {
		t.Fatalf("after power failure: %q", got)
	}
}

func TestTornPowerFailureKeepsAPrefix(t *testing.T) {
	d := mountDisk(t)
	path := filepath.Join(d.Dir, "log")
	writeFile(t, path, []byte("HEAD"), 0, fsync)
	var unsynced []byte
	for i := range 1000 {
		unsynced = append(unsynced, byte('a'+i%26))
	}
	partial := 0
	for seed := range uint64(20) {
		writeFile(t, path, unsynced, os.O_APPEND, nil)
		losses := powerFail(t, d, LoseTorn, seed)
		got := readFile(t, path)
		if !bytes.HasPrefix(got, []byte("HEAD")) || !bytes.HasPrefix(unsynced, got[4:]) {
			t.Fatalf("seed %d: not the synced data and a prefix of the rest: %q", seed, got)
		}
		if len(losses) != 1 || losses[0].KeptBytes+losses[0].DroppedBytes != int64(len(unsynced)) || losses[0].KeptBytes != int64(len(got)-4) {
			t.Fatalf("seed %d: losses %+v do not add up to the %d unsynced bytes", seed, losses, len(unsynced))
		}
		if n := len(got) - 4; n > 0 && n < len(unsynced) {
			partial++
		}
		// Back to the synced head for the next seed.
		if err := os.Truncate(path, 4); err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	if partial == 0 {
		t.Fatal("no seed out of 20 tore the unsynced write in the middle")
	}
}

func TestKillKeepsWhatTheCacheHolds(t *testing.T) {
	d := mountDisk(t)
	path := filepath.Join(d.Dir, "f")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("written")); err != nil {
		t.Fatal(err)
	}
	// Closing every handle (what a killed process does) drops nothing.
	f.Close()
	if d.Unsynced() != 1 {
		t.Fatalf("unsynced ops after close: %d", d.Unsynced())
	}
	if got := readFile(t, path); string(got) != "written" {
		t.Fatalf("after close: %q", got)
	}
}

func TestDirectoriesPassThrough(t *testing.T) {
	d := mountDisk(t)
	sub := filepath.Join(d.Dir, "sub", "deeper")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(sub, "f"), []byte("x"), 0, fsync)
	powerFail(t, d, LoseUnsynced, 1)
	entries, err := os.ReadDir(sub)
	if err != nil || len(entries) != 1 || entries[0].Name() != "f" {
		t.Fatalf("after power failure: %v, %v", entries, err)
	}
	if st, err := os.Stat(filepath.Join(d.Backing, "sub", "deeper", "f")); err != nil || st.Size() != 1 {
		t.Fatalf("backing: %v, %v", st, err)
	}
	if err := os.RemoveAll(filepath.Join(d.Dir, "sub")); err != nil {
		t.Fatal(err)
	}
}

func TestCloseUnmounts(t *testing.T) {
	requireFUSE(t)
	root := t.TempDir()
	d, err := Mount(filepath.Join(root, "mnt"), filepath.Join(root, "backing"))
	if err != nil {
		t.Fatal(err)
	}
	// A file still open must not keep the mount alive.
	f, err := os.Create(filepath.Join(d.Dir, "open"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if mounted(t, d.Dir) {
		t.Fatalf("%s still mounted after Close", d.Dir)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// mounted reports whether dir is a mount point of this process's view.
func mounted(t *testing.T, dir string) bool {
	t.Helper()
	var st, parent syscall.Stat_t
	if err := syscall.Stat(dir, &st); err != nil {
		return true // ENOTCONN and the like: still a (dead) mount
	}
	if err := syscall.Stat(filepath.Dir(dir), &parent); err != nil {
		t.Fatal(err)
	}
	return st.Dev != parent.Dev
}

// Sync is what the docker runtime does when a node ends without a power
// failure: the cache reaches the disk, and a later power failure loses
// none of it.
func TestSyncMakesTheCacheDurable(t *testing.T) {
	d := mountDisk(t)
	path := filepath.Join(d.Dir, "f")
	writeFile(t, path, []byte("written"), 0, nil)
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(d.Backing, "f")); string(got) != "written" {
		t.Fatalf("backing after sync: %q", got)
	}
	if losses := powerFail(t, d, LoseUnsynced, 1); len(losses) != 0 {
		t.Fatalf("power failure after sync lost %+v", losses)
	}
}

// No process started after a mount inherits its /dev/fuse descriptor: a
// killed node holding one would keep the connection alive and hang in its
// exit, waiting for a flush nobody answers.
func TestFUSEDescriptorIsCloseOnExec(t *testing.T) {
	mountDisk(t)
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, e := range entries {
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err != nil || target != "/dev/fuse" {
			continue
		}
		found++
		var fd int
		fmt.Sscan(e.Name(), &fd)
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil {
			t.Fatal(err)
		}
		if flags&unix.FD_CLOEXEC == 0 {
			t.Errorf("/dev/fuse descriptor %d is inherited by children", fd)
		}
	}
	if found == 0 {
		t.Fatal("no /dev/fuse descriptor open while mounted")
	}
}
