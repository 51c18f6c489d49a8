package campaign

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/nemesis"
	"github.com/faultline/faultline/sut/bugs"
	"github.com/faultline/faultline/sut/system"
)

// Options are the settings of one campaign: every flag of `checker run`.
// They are recorded verbatim as the "options" object of campaign.json, which
// is what --replay reads back.
type Options struct {
	// System is the system under test: raftd, etcd or http (--system).
	System      string        `json:"system"`
	Runtime     string        `json:"runtime"` // auto, docker or process
	Nodes       int           `json:"nodes"`
	Duration    time.Duration `json:"duration"` // ns in JSON
	Workload    string        `json:"workload"` // register, set or append
	Concurrency int           `json:"concurrency"`
	Rate        float64       `json:"rate"` // total ops/s, 0 = unlimited
	Keys        int           `json:"keys"`
	Nemesis     string        `json:"nemesis"` // all, none, or a comma list of kinds
	Interval    time.Duration `json:"interval"`
	// Seed drives the workload generators and the nemesis schedule. 0 asks
	// Run to pick one from the clock; the seed actually used is recorded.
	Seed     int64    `json:"seed"`
	Read     string   `json:"read"`      // "" (linearizable) or the system's stale mode (raftd: local)
	ReadMode string   `json:"read_mode"` // raftd --read-mode: readindex, lease or log
	Bugs     []string `json:"bugs"`      // raftd --bug names
	Store    string   `json:"store"`
	Name     string   `json:"name"` // "" = <workload>-<nemesis>

	CheckTimeout    time.Duration `json:"check_timeout"`
	RecoveryTimeout time.Duration `json:"recovery_timeout"` // bound on the wait for recovery after healing
	RequestTimeout  time.Duration `json:"request_timeout"`  // per client request
	MaxClockDrift   float64       `json:"max_clock_drift"`  // raftd --max-clock-drift and the nemesis' rate bound
	SnapshotEvery   int           `json:"snapshot_every"`   // raftd --snapshot-every, 0 = raftd's default

	// Log receives the campaign's log lines (nil = slog.Default()). They are
	// also written to campaign.log in the run directory.
	Log *slog.Logger `json:"-"`
}

// Default values of `checker run`.
const (
	DefaultSystem          = "raftd"
	DefaultRuntime         = "auto"
	DefaultNodes           = 5
	DefaultDuration        = 60 * time.Second
	DefaultWorkload        = "register"
	DefaultConcurrency     = 10
	DefaultKeys            = 10
	DefaultNemesis         = "all"
	DefaultInterval        = 5 * time.Second
	DefaultReadMode        = "readindex"
	DefaultStore           = "store"
	DefaultCheckTimeout    = 60 * time.Second
	DefaultRecoveryTimeout = 30 * time.Second
	DefaultRequestTimeout  = time.Second
	DefaultMaxClockDrift   = 0.2 // raftd's own default
)

// DefaultOptions returns the options `checker run` uses with no flags (the
// seed stays 0: picked from the clock by Run).
func DefaultOptions() Options {
	return Options{
		System:          DefaultSystem,
		Runtime:         DefaultRuntime,
		Nodes:           DefaultNodes,
		Duration:        DefaultDuration,
		Workload:        DefaultWorkload,
		Concurrency:     DefaultConcurrency,
		Keys:            DefaultKeys,
		Nemesis:         DefaultNemesis,
		Interval:        DefaultInterval,
		ReadMode:        DefaultReadMode,
		Store:           DefaultStore,
		CheckTimeout:    DefaultCheckTimeout,
		RecoveryTimeout: DefaultRecoveryTimeout,
		RequestTimeout:  DefaultRequestTimeout,
		MaxClockDrift:   DefaultMaxClockDrift,
	}
}

// Limits that keep a campaign within what one machine can host.
const (
	MinNodes       = 3 // the nemesis keeps at least three voters
	MaxNodes       = 15
	MaxKeys        = 100000
	MaxConcurrency = 1000
)

// safeName is a run name that is one safe directory name ('+' and ',' are
// allowed: the default name of "partition,kill" is "register-partition+kill").
var safeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+,-]{0,99}$`)

// CampaignName is the store directory name of the campaign: Name, or
// <workload>-<nemesis> (e.g. "register-all") when Name is empty.
func (o Options) CampaignName() string {
	if o.Name != "" {
		return o.Name
	}
	// "partition:isolate-leader,kill" names "register-partition_isolate-leader+kill".
	n := o.Workload + "-" + strings.NewReplacer(",", "+", ":", "_").Replace(o.Nemesis)
	if o.Workload == "" || o.Nemesis == "" {
		n = "campaign"
	}
	return n
}

// normalized fills the options a form may leave empty (runtime, nemesis,
// read mode) with their defaults.
func (o Options) normalized() Options {
	if o.System == "" {
		o.System = DefaultSystem
	}
	if o.Runtime == "" {
		o.Runtime = DefaultRuntime
	}
	if o.Nemesis == "" {
		o.Nemesis = DefaultNemesis
	}
	if o.ReadMode == "" {
		o.ReadMode = DefaultReadMode
	}
	return o
}

// Validate checks every option and names the flag of the first bad one.
// Empty runtime, nemesis and read mode mean their defaults. It does not ask
// a runtime whether it is available; Run does.
func (o Options) Validate() error {
	o = o.normalized()
	switch o.Runtime {
	case "auto", "docker", "process":
	default:
		return fmt.Errorf("--runtime must be auto, docker or process, got %q", o.Runtime)
	}
	if o.Nodes < MinNodes || o.Nodes > MaxNodes {
		return fmt.Errorf("--nodes must be between %d and %d, got %d", MinNodes, MaxNodes, o.Nodes)
	}
	if o.Duration <= 0 {
		return fmt.Errorf("--duration must be positive, got %s", o.Duration)
	}
	switch o.Workload {
	case "register", "set", "append":
	default:
		return fmt.Errorf("--workload must be register, set or append, got %q", o.Workload)
	}
	if o.Concurrency < 1 || o.Concurrency > MaxConcurrency {
		return fmt.Errorf("--concurrency must be between 1 and %d, got %d", MaxConcurrency, o.Concurrency)
	}
	if o.Rate < 0 {
		return fmt.Errorf("--rate must be >= 0 (0 = unlimited), got %g", o.Rate)
	}
	if o.Keys < 1 || o.Keys > MaxKeys {
		return fmt.Errorf("--keys must be between 1 and %d, got %d", MaxKeys, o.Keys)
	}
	if _, err := nemesis.ParseKinds(o.Nemesis); err != nil {
		return err
	}
	if o.Nemesis != "none" && o.Interval <= 0 {
		return fmt.Errorf("--interval must be positive, got %s", o.Interval)
	}
	sys, err := o.SystemUnderTest()
	if err != nil {
		return err
	}
	if stale := sys.StaleReadMode(); o.Read != "" && o.Read != stale {
		return fmt.Errorf("--read must be empty (linearizable reads) or %s for system %s, got %q", orNone(stale), sys.Name(), o.Read)
	}
	switch o.ReadMode {
	case "readindex", "lease", "log":
	default:
		return fmt.Errorf("--read-mode must be readindex, lease or log, got %q", o.ReadMode)
	}
	if _, err := bugs.Parse(o.Bugs); err != nil {
		return fmt.Errorf("--bug: %w", err)
	}
	if strings.TrimSpace(o.Store) == "" {
		return fmt.Errorf("--store must name a directory")
	}
	if o.Name != "" && (!safeName.MatchString(o.Name) || o.Name == "latest") {
		return fmt.Errorf("--name %q: use 1-100 letters, digits, '.', '_', '+', ',' or '-', starting with a letter or digit, and not \"latest\"", o.Name)
	}
	if o.CheckTimeout <= 0 {
		return fmt.Errorf("--check-timeout must be positive, got %s", o.CheckTimeout)
	}
	if o.RecoveryTimeout <= 0 {
		return fmt.Errorf("--recovery-timeout must be positive, got %s", o.RecoveryTimeout)
	}
	if o.RequestTimeout <= 0 {
		return fmt.Errorf("--request-timeout must be positive, got %s", o.RequestTimeout)
	}
	if o.MaxClockDrift < 0 || o.MaxClockDrift >= 1 {
		return fmt.Errorf("--max-clock-drift must be in [0, 1), got %g", o.MaxClockDrift)
	}
	if o.SnapshotEvery < 0 {
		return fmt.Errorf("--snapshot-every must be >= 0 (0 = raftd's default), got %d", o.SnapshotEvery)
	}
	return nil
}

// ReproduceArgs is the `checker run` command line (program name excluded)
// that runs this campaign again with the same settings and seed. Every
// option is spelled out so a later change of defaults cannot alter it.
func (o Options) ReproduceArgs() []string {
	args := []string{"run",
		"--system", o.System,
		"--runtime", o.Runtime,
		"--nodes", strconv.Itoa(o.Nodes),
		"--duration", o.Duration.String(),
		"--workload", o.Workload,
		"--concurrency", strconv.Itoa(o.Concurrency),
		"--rate", strconv.FormatFloat(o.Rate, 'g', -1, 64),
		"--keys", strconv.Itoa(o.Keys),
		"--nemesis", o.Nemesis,
		"--interval", o.Interval.String(),
		"--seed", strconv.FormatInt(o.Seed, 10),
	}
	if o.Read != "" {
		args = append(args, "--read", o.Read)
	}
	args = append(args, "--read-mode", o.ReadMode)
	for _, b := range o.Bugs {
		args = append(args, "--bug", b)
	}
	args = append(args,
		"--store", o.Store,
		"--name", o.CampaignName(),
		"--check-timeout", o.CheckTimeout.String(),
		"--recovery-timeout", o.RecoveryTimeout.String(),
		"--request-timeout", o.RequestTimeout.String(),
		"--max-clock-drift", strconv.FormatFloat(o.MaxClockDrift, 'g', -1, 64),
	)
	if o.SnapshotEvery != 0 {
		args = append(args, "--snapshot-every", strconv.Itoa(o.SnapshotEvery))
	}
	return args
}

// SystemUnderTest is the system the options name, with raftd's settings.
func (o Options) SystemUnderTest() (system.System, error) {
	return system.New(system.Config{
		Name: o.normalized().System,
		Raftd: system.RaftdOptions{
			ReadMode:      o.ReadMode,
			Bugs:          o.Bugs,
			SnapshotEvery: o.SnapshotEvery,
			MaxClockDrift: o.MaxClockDrift,
		},
	})
}

func orNone(s string) string {
	if s == "" {
		return "nothing (this system has no stale reads)"
	}
	return s
}

// ReproduceCommand is ReproduceArgs as one shell-quoted line starting with
// "checker".
func (o Options) ReproduceCommand() string {
	parts := []string{"checker"}
	for _, a := range o.ReproduceArgs() {
		parts = append(parts, shellQuote(a))
	}
	return strings.Join(parts, " ")
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=,:+@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// LoadOptions reads the options recorded in runDir/campaign.json (what
// `checker run --replay RUN_DIR` starts from). The recorded seed is the one
// the run actually used.
func LoadOptions(runDir string) (Options, error) {
	path := filepath.Join(runDir, ManifestFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return Options{}, fmt.Errorf("replay: %w", err)
	}
	var m struct {
		Options *Options `json:"options"`
		Seed    *int64   `json:"seed"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return Options{}, fmt.Errorf("replay: %s: %w", path, err)
	}
	if m.Options == nil {
		return Options{}, fmt.Errorf("replay: %s: no \"options\" object", path)
	}
	o := *m.Options
	if m.Seed != nil && o.Seed == 0 {
		o.Seed = *m.Seed
	}
	if err := o.Validate(); err != nil {
		return Options{}, fmt.Errorf("replay: %s: recorded options are not valid: %w", path, err)
	}
	return o, nil
}
