package powerfs

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Leftover is a powerfs mount whose server is gone (the checker that
// mounted it was killed): every access to it fails with ENOTCONN until it
// is unmounted.
type Leftover struct {
	Dir     string // mount point
	Backing string // the backing directory it showed
}

// Leftovers lists the powerfs mounts of this machine whose server is gone.
// Mounts still served (a campaign running now) are not leftovers.
func Leftovers() ([]Leftover, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("powerfs: listing mounts: %w", err)
	}
	defer f.Close()
	var out []Leftover
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		dir, source, ok := parseMountInfo(sc.Text())
		if !ok {
			continue
		}
		var st syscall.Stat_t
		if err := syscall.Stat(dir, &st); !errors.Is(err, syscall.ENOTCONN) {
			continue
		}
		out = append(out, Leftover{Dir: dir, Backing: strings.TrimPrefix(source, "powerfs:")})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("powerfs: listing mounts: %w", err)
	}
	return out, nil
}

// parseMountInfo returns the mount point and source of a powerfs line of
// /proc/self/mountinfo: "id parent maj:min root mountpoint opts [tags] -
// fstype source superopts".
func parseMountInfo(line string) (dir, source string, ok bool) {
	fields := strings.Fields(line)
	sep := -1
	for i, f := range fields {
		if f == "-" {
			sep = i
			break
		}
	}
	if sep < 5 || sep+2 >= len(fields) || fields[sep+1] != FSType {
		return "", "", false
	}
	return unescapeMountPath(fields[4]), unescapeMountPath(fields[sep+2]), true
}

// unescapeMountPath undoes mountinfo's octal escapes (\040 for a space).
func unescapeMountPath(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var v byte
			if _, err := fmt.Sscanf(s[i+1:i+4], "%03o", &v); err == nil {
				b.WriteByte(v)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// RemoveLeftovers unmounts every leftover powerfs mount (lazily, so a
// process still inside one does not block it) and returns what it removed.
func RemoveLeftovers() ([]Leftover, error) {
	left, err := Leftovers()
	if err != nil {
		return nil, err
	}
	var removed []Leftover
	var errs []error
	for _, l := range left {
		if err := unix.Unmount(l.Dir, unix.MNT_DETACH); err != nil {
			errs = append(errs, fmt.Errorf("powerfs: unmount leftover %s: %w", l.Dir, err))
			continue
		}
		removed = append(removed, l)
	}
	return removed, errors.Join(errs...)
}
