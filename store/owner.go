package store

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Owner is the process that runs a campaign: its host, its pid and when the
// process started (which tells a live owner from a new process that
// happens to reuse the pid). Docker resources carry it as a label, in the
// form String returns.
type Owner struct {
	Host  string    `json:"host"`
	PID   int       `json:"pid"`
	Start time.Time `json:"start"` // the process' start time
}

var (
	selfOnce sync.Once
	self     Owner
)

// Self is the owner this process records.
func Self() Owner {
	selfOnce.Do(func() {
		host, _ := os.Hostname()
		self = Owner{Host: host, PID: os.Getpid()}
		if t, err := processStart(self.PID); err == nil {
			self.Start = t
		}
	})
	return self
}

// OwnerOf is the owner record of the process pid on this host.
func OwnerOf(pid int) (Owner, error) {
	host, _ := os.Hostname()
	t, err := processStart(pid)
	if err != nil {
		return Owner{}, err
	}
	return Owner{Host: host, PID: pid, Start: t}, nil
}

// LabelGone reports whether the owner a label value names (String's form)
// is gone; a value that names no owner is never gone.
func LabelGone(label string) bool {
	o, err := ParseOwner(label)
	return err == nil && o.Gone()
}

// String is the owner as a label value: host/pid/start (start in unix ms).
func (o Owner) String() string {
	return fmt.Sprintf("%s/%d/%d", o.Host, o.PID, o.Start.UnixMilli())
}

// ParseOwner reads a label value written by String.
func ParseOwner(s string) (Owner, error) {
	i := strings.LastIndexByte(s, '/')
	j := -1
	if i > 0 {
		j = strings.LastIndexByte(s[:i], '/')
	}
	if j <= 0 {
		return Owner{}, fmt.Errorf("owner %q: want host/pid/start", s)
	}
	pid, err1 := strconv.Atoi(s[j+1 : i])
	ms, err2 := strconv.ParseInt(s[i+1:], 10, 64)
	if err := errors.Join(err1, err2); err != nil || pid <= 0 {
		return Owner{}, fmt.Errorf("owner %q: want host/pid/start", s)
	}
	return Owner{Host: s[:j], PID: pid, Start: time.UnixMilli(ms)}, nil
}

// startSlack absorbs the rounding of a start time computed from /proc
// (boot time in whole seconds, start in clock ticks).
const startSlack = 2 * time.Second

// Gone reports whether the owner is known to have exited: it ran on this
// host and no process with its pid and start time exists. An owner on
// another host is never known to be gone.
func (o Owner) Gone() bool {
	host, _ := os.Hostname()
	if o.Host != host || o.PID <= 0 {
		return false
	}
	if err := syscall.Kill(o.PID, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	t, err := processStart(o.PID)
	if err != nil || o.Start.IsZero() {
		return false // alive as far as we can tell
	}
	d := t.Sub(o.Start)
	return d > startSlack || d < -startSlack
}

// processStart is when process pid started, from /proc (Linux).
func processStart(pid int) (time.Time, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return time.Time{}, err
	}
	// The command name (field 2) may hold spaces; fields after it are plain.
	s := string(b)
	k := strings.LastIndexByte(s, ')')
	if k < 0 {
		return time.Time{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	fields := strings.Fields(s[k+1:])
	const startField = 22 - 3 // starttime is field 22; fields[0] is field 3
	if len(fields) <= startField {
		return time.Time{}, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	ticks, err := strconv.ParseInt(fields[startField], 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	boot, err := bootTime()
	if err != nil {
		return time.Time{}, err
	}
	const userHZ = 100 // the unit of /proc times on Linux
	return boot.Add(time.Duration(ticks) * time.Second / userHZ), nil
}

func bootTime() (time.Time, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return time.Time{}, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			sec, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return time.Time{}, err
			}
			return time.Unix(sec, 0), nil
		}
	}
	return time.Time{}, errors.New("/proc/stat: no btime")
}
