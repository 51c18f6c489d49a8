package bench

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// clockTicksPerSecond is USER_HZ, the unit of /proc/<pid>/stat times; it is
// 100 on every Linux platform Go supports.
const clockTicksPerSecond = 100

// parseStatCPU reads utime+stime from the contents of /proc/<pid>/stat.
// The command name (field 2) may hold spaces and parentheses, so fields
// are counted from its closing parenthesis: utime and stime are fields 14
// and 15 of the line, 12 and 13 after the name.
func parseStatCPU(stat []byte) (time.Duration, error) {
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc stat %.40q: no command name", s)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc stat %.40q: %d fields after the command name, want at least 13", s, len(f))
	}
	utime, err := strconv.ParseInt(f[11], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("/proc stat: utime %q: %w", f[11], err)
	}
	stime, err := strconv.ParseInt(f[12], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("/proc stat: stime %q: %w", f[12], err)
	}
	return time.Duration(utime+stime) * time.Second / clockTicksPerSecond, nil
}
