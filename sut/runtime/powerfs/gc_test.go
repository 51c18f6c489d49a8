package powerfs

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// childMountEnv makes the test binary a child that mounts a powerfs and
// waits to be killed, as a checker killed mid-campaign would.
const childMountEnv = "POWERFS_TEST_CHILD_MOUNT"

func TestMain(m *testing.M) {
	if root := os.Getenv(childMountEnv); root != "" {
		if _, err := Mount(filepath.Join(root, "mnt"), filepath.Join(root, "backing")); err != nil {
			os.Stdout.WriteString("error: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Stdout.WriteString("mounted\n")
		time.Sleep(time.Hour)
	}
	os.Exit(m.Run())
}

func TestLeftoverMountOfAKilledServerIsRemoved(t *testing.T) {
	requireFUSE(t)
	root := t.TempDir()
	dir := filepath.Join(root, "mnt")
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childMountEnv+"="+root)
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "mounted" {
		_ = child.Process.Kill()
		_ = child.Wait()
		t.Fatalf("child: %q", line)
	}
	t.Cleanup(func() { _, _ = RemoveLeftovers() })

	live, err := Leftovers()
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(live, func(l Leftover) bool { return l.Dir == dir }) {
		t.Fatalf("a mount still served is listed as a leftover: %+v", live)
	}

	_ = child.Process.Kill()
	_ = child.Wait()
	removed, err := RemoveLeftovers()
	if err != nil {
		t.Fatal(err)
	}
	want := Leftover{Dir: dir, Backing: filepath.Join(root, "backing")}
	if !slices.Contains(removed, want) {
		t.Fatalf("removed %+v, want it to hold %+v", removed, want)
	}
	if mounted(t, dir) {
		t.Fatalf("%s still mounted", dir)
	}
}

func TestParseMountInfo(t *testing.T) {
	line := `712 29 0:95 / /tmp/a\040b/mnt rw,nosuid,nodev,relatime shared:1 - fuse.faultline-powerfs powerfs:/tmp/a\040b/backing rw,user_id=0,group_id=0`
	dir, source, ok := parseMountInfo(line)
	if !ok || dir != "/tmp/a b/mnt" || source != "powerfs:/tmp/a b/backing" {
		t.Fatalf("got %q %q %v", dir, source, ok)
	}
	other := `36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue`
	if _, _, ok := parseMountInfo(other); ok {
		t.Fatal("an ext3 mount parsed as powerfs")
	}
}
