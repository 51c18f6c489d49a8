package system

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/sut/client"
)

// RaftdOptions are the raftd settings a campaign chooses; the runtime fills
// in everything that depends on where a node runs (id, addresses, data).
type RaftdOptions struct {
	// ReadMode is raftd's --read-mode: "readindex" (raftd's default when
	// empty), "lease" or "log".
	ReadMode string
	// Bugs are planted bug names (sut/bugs), one --bug each.
	Bugs []string
	// MaxClockDrift is --max-clock-drift, the bound on clock-rate drift as a
	// fraction (0.2 = 20%); zero leaves raftd's default.
	MaxClockDrift float64
	// SnapshotEvery is --snapshot-every (entries between snapshots); zero
	// leaves raftd's default.
	SnapshotEvery int
	// WithoutFaultInjection leaves out --fault-injection: a node as
	// deployed, for raftd's own tests and bench (campaigns need it on).
	WithoutFaultInjection bool
	// Extra arguments are appended verbatim, after everything else.
	Extra []string
	// Binary is a prebuilt raftd binary. Empty means the runtime builds
	// ./cmd/raftd from the module it runs in. The docker runtime needs a
	// static (CGO_ENABLED=0) linux binary.
	Binary string
}

// Raftd is the reference Raft KV server as a System, built from this
// module's ./cmd/raftd. Fault injection (/fault/...) is enabled unless
// WithoutFaultInjection: the nemesis needs it for clock and slow faults.
func Raftd(opts RaftdOptions) System { return raftdSystem{opts: opts} }

type raftdSystem struct{ opts RaftdOptions }

// NameRaftd is raftd's system name.
const NameRaftd = "raftd"

func (raftdSystem) Name() string       { return NameRaftd }
func (raftdSystem) HealthPath() string { return "/admin/status" }

// Version is "source": raftd is built from the checked-out tree, whose
// revision campaign.json records separately.
func (s raftdSystem) Version() string {
	if s.opts.Binary != "" {
		return "binary"
	}
	return "source"
}

// Capabilities: raftd offers every capability.
func (raftdSystem) Capabilities() Capabilities { return AllCapabilities }

func (raftdSystem) StaleReadMode() string { return "local" }

func (raftdSystem) NewClient(addrs map[string]string, opt ClientOptions) Client {
	return NewProtocolClient(addrs, opt)
}

func (raftdSystem) NewAdmin(addrs map[string]string, timeout time.Duration) Admin {
	return client.New(addrs, client.Options{Timeout: timeout, ClientID: "nemesis"})
}

// Program says how the runtimes obtain the raftd binary.
func (s raftdSystem) Program() Program {
	return Program{Package: "./cmd/raftd", Binary: s.opts.Binary}
}

// Args builds raftd's command line; the order is fixed so that logs and
// campaign.json are reproducible.
func (s raftdSystem) Args(n NodeArgs) []string {
	args := []string{
		"--id", n.ID,
		"--listen", n.Listen,
		"--peers", FormatPeers(n.Peers),
		"--data", n.Data,
	}
	if s.opts.ReadMode != "" {
		args = append(args, "--read-mode", s.opts.ReadMode)
	}
	for _, b := range s.opts.Bugs {
		args = append(args, "--bug", b)
	}
	if !s.opts.WithoutFaultInjection {
		args = append(args, "--fault-injection")
	}
	if n.Join {
		args = append(args, "--join")
	}
	if s.opts.MaxClockDrift > 0 {
		args = append(args, "--max-clock-drift", strconv.FormatFloat(s.opts.MaxClockDrift, 'g', -1, 64))
	}
	if s.opts.SnapshotEvery > 0 {
		args = append(args, "--snapshot-every", strconv.Itoa(s.opts.SnapshotEvery))
	}
	if n.Cluster != "" {
		args = append(args, "--cluster", n.Cluster)
	}
	return append(args, s.opts.Extra...)
}

// FormatPeers renders a peer map as raftd's --peers value, "id=addr,...",
// sorted by id so the same cluster always gets the same command line.
func FormatPeers(peers map[string]string) string {
	ids := make([]string, 0, len(peers))
	for id := range peers {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = id + "=" + peers[id]
	}
	return strings.Join(parts, ",")
}

// ParsePeers is the inverse of FormatPeers; the error names the bad entry.
func ParsePeers(s string) (map[string]string, error) {
	peers := map[string]string{}
	if s == "" {
		return peers, nil
	}
	for i, part := range strings.Split(s, ",") {
		id, addr, ok := strings.Cut(part, "=")
		if !ok || id == "" || addr == "" {
			return nil, fmt.Errorf("peers entry %d %q: want id=host:port", i+1, part)
		}
		if _, dup := peers[id]; dup {
			return nil, fmt.Errorf("peers entry %d %q: id %q listed twice", i+1, part, id)
		}
		peers[id] = addr
	}
	return peers, nil
}
