package check

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/anishathalye/porcupine"
)

// The memory guard. Porcupine's search remembers every (linearized set,
// state) pair it has seen, and on a key with many operations of unknown
// outcome that cache can grow without bound (one key, a dozen clients and
// thousands of info writes is enough). The guard counts what the cache can
// have grown by, and once a search's share of the budget is spent the model
// refuses every further step: the search ends at once, and the key is
// unknown, with the reason "memory budget". It never turns into a pass
// (refusing steps only removes orders, so a linearization found is real)
// nor into an out-of-memory kill.

// DefaultMemoryBudget is half of the machine's memory (or of the cgroup's
// limit, when lower), or 4 GiB when neither can be read.
func DefaultMemoryBudget() int64 {
	total := meminfoTotal()
	if limit := cgroupLimit(); limit > 0 && (total == 0 || limit < total) {
		total = limit
	}
	if total <= 0 {
		return 4 << 30
	}
	return total / 2
}

func meminfoTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

func cgroupLimit() int64 {
	b, err := os.ReadFile("/sys/fs/cgroup/memory.max")
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0 // "max": no limit
	}
	return n
}

// ParseBytes reads a memory size: a number of bytes, or one with a unit
// (KiB, MiB, GiB, TiB, or K, M, G, T for the same powers of 1024; KB, MB,
// GB, TB for powers of 1000), e.g. "512MiB" or "1.5G".
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.TrimSpace(t[i:])
	}
	units := map[string]float64{"": 1, "B": 1,
		"K": 1 << 10, "KiB": 1 << 10, "M": 1 << 20, "MiB": 1 << 20, "G": 1 << 30, "GiB": 1 << 30, "T": 1 << 40, "TiB": 1 << 40,
		"KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}
	mult, ok := units[unit]
	v, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || v <= 0 || v*mult >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is not a memory size (e.g. 512MiB, 2GiB, 1.5G)", s)
	}
	return int64(v * mult), nil
}

// FormatBytes writes n in binary units, e.g. "1.5 GiB".
func FormatBytes(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return strconv.FormatFloat(v, 'g', 4, 64) + " " + units[i]
}

// searchGuard bounds one key's search.
type searchGuard struct {
	limit   int64 // bytes this search may let the cache grow by
	perStep int64 // what one accepted step can add to the cache
	used    atomic.Int64
	tripped atomic.Bool
}

// cacheEntryOverhead is what Porcupine's cache spends per entry besides the
// bitset: the entry in its bucket slice (with the slice's spare capacity),
// the map slot, the hash, and a new model state for the set and append
// models.
const cacheEntryOverhead = 192

// newSearchGuard gives a search over ops operations limit bytes.
func newSearchGuard(limit int64, ops int) *searchGuard {
	bitset := int64(8 * ((ops + 63) / 64))
	return &searchGuard{limit: limit, perStep: bitset + bitset/8 + cacheEntryOverhead}
}

// guard returns model with a Step that spends the guard's budget.
func (g *searchGuard) guard(model porcupine.Model) porcupine.Model {
	step := model.Step
	model.Step = func(state, in, out any) (bool, any) {
		if g.tripped.Load() {
			return false, state
		}
		ok, next := step(state, in, out)
		if ok && g.used.Add(g.perStep) > g.limit {
			g.tripped.Store(true)
			return false, state
		}
		return ok, next
	}
	return model
}

// searchLimit is one search's share of the budget: the workers search at
// once, and half of the budget is left to the garbage collector, which lets
// the heap grow to about twice what is live.
func searchLimit(budget int64, workers int) int64 {
	return budget / int64(2*max(workers, 1))
}

// ByteSize is a memory size flag (--check-memory): ParseBytes's forms; 0
// means DefaultMemoryBudget.
type ByteSize int64

// Set implements flag.Value.
func (b *ByteSize) Set(s string) error {
	n, err := ParseBytes(s)
	if err != nil {
		return err
	}
	*b = ByteSize(n)
	return nil
}

func (b *ByteSize) String() string {
	if b == nil || *b == 0 {
		return ""
	}
	return FormatBytes(int64(*b))
}
