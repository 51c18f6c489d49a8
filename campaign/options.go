package campaign

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/check"
	"github.com/faultline/faultline/nemesis"
	"github.com/faultline/faultline/store"
	"github.com/faultline/faultline/sut/bugs"
	"github.com/faultline/faultline/sut/system"
)

// Options are the settings of one campaign: every flag of `checker run`.
// They are recorded verbatim as the "options" object of campaign.json, which
// is what --replay reads back.
type Options struct {
	// System is the system under test: raftd, etcd or http (--system).
	System string `json:"system"`
	// SystemBinary and SystemImage replace the built node program
	// (--system-binary, --system-image); SystemArgs is an http system's
	// command-line template (--system-args).
	SystemBinary string `json:"system_binary,omitempty"`
	SystemImage  string `json:"system_image,omitempty"`
	SystemArgs   string `json:"system_args,omitempty"`
	// SystemCapabilities lists what an http server implements
	// (--system-capabilities, e.g. "status,stale-read").
	SystemCapabilities string        `json:"system_capabilities,omitempty"`
	Runtime            string        `json:"runtime"` // auto, docker or process
	Nodes              int           `json:"nodes"`
	Duration           time.Duration `json:"duration"` // ns in JSON
	Workload           string        `json:"workload"` // register, set or append
	Concurrency        int           `json:"concurrency"`
	Rate               float64       `json:"rate"` // total ops/s, 0 = unlimited
	Keys               int           `json:"keys"`
	Nemesis            string        `json:"nemesis"` // all, none, or a comma list of kinds
	Interval           time.Duration `json:"interval"`
	// ConcurrentFaults is how many faults may be active at once, each lane
	// on its own seeded schedule (--concurrent-faults; 1: one at a time).
	ConcurrentFaults int `json:"concurrent_faults"`
	// Seed drives the workload generators and the nemesis schedule. 0 asks
	// Run to pick one from the clock; the seed actually used is recorded.
	Seed     int64    `json:"seed"`
	Read     string   `json:"read"`      // "" (linearizable) or the system's stale mode (raftd: local)
	ReadMode string   `json:"read_mode"` // raftd --read-mode: readindex, lease or log
	Bugs     []string `json:"bugs"`      // raftd --bug names
	Store    string   `json:"store"`
	Name     string   `json:"name"` // "" = <workload>-<nemesis>

	CheckTimeout time.Duration `json:"check_timeout"`
	// CheckMemory bounds the check's searches (0 = half the machine's
	// memory); a key over it is unknown, never a pass.
	CheckMemory     check.ByteSize `json:"check_memory,omitempty"`
	RecoveryTimeout time.Duration  `json:"recovery_timeout"` // bound on the wait for recovery after healing
	RequestTimeout  time.Duration  `json:"request_timeout"`  // per client request
	MaxClockDrift   float64        `json:"max_clock_drift"`  // raftd --max-clock-drift and the nemesis' rate bound
	SnapshotEvery   int            `json:"snapshot_every"`   // raftd --snapshot-every, 0 = raftd's default

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
		System:           DefaultSystem,
		Runtime:          DefaultRuntime,
		Nodes:            DefaultNodes,
		Duration:         DefaultDuration,
		Workload:         DefaultWorkload,
		Concurrency:      DefaultConcurrency,
		Keys:             DefaultKeys,
		Nemesis:          DefaultNemesis,
		Interval:         DefaultInterval,
		ConcurrentFaults: 1,
		ReadMode:         DefaultReadMode,
		Store:            DefaultStore,
		CheckTimeout:     DefaultCheckTimeout,
		RecoveryTimeout:  DefaultRecoveryTimeout,
		RequestTimeout:   DefaultRequestTimeout,
		MaxClockDrift:    DefaultMaxClockDrift,
	}
}

// Limits that keep a campaign within what one machine can host (and
// within what a person means: a 1 ms campaign or a 1 ns fault interval is a
// typo). The serve form shows the same bounds.
const (
	MinNodes       = 3 // the nemesis keeps at least three voters
	MaxNodes       = 15
	MaxKeys        = 100000
	MaxConcurrency = 1000
	MaxRate        = 100000 // operations per second
	MinDuration    = time.Second
	MaxDuration    = 24 * time.Hour
	MinInterval    = 100 * time.Millisecond
	MaxInterval    = time.Hour
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

// Normalized fills the options a form may leave empty (system, runtime,
// nemesis, read mode) with their defaults and writes a nemesis list in its
// canonical form (" kill , partition,kill" is "partition,kill"), so the
// run's name and record do not depend on how the list was typed. Run
// normalizes.
func (o Options) Normalized() Options {
	if o.System == "" {
		o.System = DefaultSystem
	}
	if o.Runtime == "" {
		o.Runtime = DefaultRuntime
	}
	o.Nemesis = strings.TrimSpace(o.Nemesis)
	if o.Nemesis == "" {
		o.Nemesis = DefaultNemesis
	}
	if o.ConcurrentFaults == 0 {
		o.ConcurrentFaults = 1 // a record from before the option
	}
	if o.Nemesis != "all" && o.Nemesis != "none" {
		if sel, err := nemesis.ParseSelection(o.Nemesis); err == nil && len(sel.Kinds)+len(sel.Composites) > 0 {
			o.Nemesis = sel.String()
		}
	}
	if o.ReadMode == "" {
		o.ReadMode = DefaultReadMode
	}
	return o
}

// Validate checks every option and returns a *FieldError naming the first
// bad one. It is the only validation of campaign settings: `checker run`,
// the serve form and the launch API all call it. Empty runtime, nemesis and
// read mode mean their defaults. It does not ask a runtime whether it is
// available; Run does.
func (o Options) Validate() error {
	o = o.Normalized()
	switch o.Runtime {
	case "auto", "docker", "process":
	default:
		return fieldErr("runtime", "must be auto, docker or process, got %q", o.Runtime)
	}
	if o.Nodes < MinNodes || o.Nodes > MaxNodes {
		return fieldErr("nodes", "must be between %d and %d, got %d", MinNodes, MaxNodes, o.Nodes)
	}
	if o.Duration < MinDuration || o.Duration > MaxDuration {
		return fieldErr("duration", "must be between %s and %s, got %s", MinDuration, MaxDuration, o.Duration)
	}
	switch o.Workload {
	case "register", "set", "append":
	default:
		return fieldErr("workload", "must be register, set or append, got %q", o.Workload)
	}
	if o.Concurrency < 1 || o.Concurrency > MaxConcurrency {
		return fieldErr("concurrency", "must be between 1 and %d, got %d", MaxConcurrency, o.Concurrency)
	}
	if o.Rate < 0 || o.Rate > MaxRate || math.IsNaN(o.Rate) {
		return fieldErr("rate", "must be between 0 (unlimited) and %d operations per second, got %g", MaxRate, o.Rate)
	}
	if o.Keys < 1 || o.Keys > MaxKeys {
		return fieldErr("keys", "must be between 1 and %d, got %d", MaxKeys, o.Keys)
	}
	if _, err := nemesis.ParseKinds(o.Nemesis); err != nil {
		return fieldErr("nemesis", "%s", strings.TrimPrefix(err.Error(), "--nemesis "))
	}
	if o.Nemesis != "none" && (o.Interval < MinInterval || o.Interval > MaxInterval) {
		return fieldErr("interval", "must be between %s and %s, got %s", MinInterval, MaxInterval, o.Interval)
	}
	if o.ConcurrentFaults < 1 || o.ConcurrentFaults > nemesis.MaxConcurrent {
		return fieldErr("concurrent_faults", "must be between 1 and %d, got %d", nemesis.MaxConcurrent, o.ConcurrentFaults)
	}
	if o.Seed < 0 {
		return fieldErr("seed", "must be 0 (pick one) or positive, got %d", o.Seed)
	}
	sys, err := o.SystemUnderTest()
	if err != nil {
		return flagErr(err)
	}
	if _, err := o.faultSelection(sys); err != nil {
		return fieldErr("nemesis", "%v", err)
	}
	if stale := sys.StaleReadMode(); o.Read != "" && o.Read != stale {
		return fieldErr("read", "must be empty (linearizable reads) or %s for system %s, got %q", orNone(stale), sys.Name(), o.Read)
	}
	switch o.ReadMode {
	case "readindex", "lease", "log":
	default:
		return fieldErr("read_mode", "must be readindex, lease or log, got %q", o.ReadMode)
	}
	if _, err := bugs.Parse(o.Bugs); err != nil {
		return fieldErr("bugs", "%v", err)
	}
	if strings.TrimSpace(o.Store) == "" {
		return fieldErr("store", "must name a directory")
	}
	if o.Name != "" && (!safeName.MatchString(o.Name) || store.ReservedName(o.Name)) {
		return fieldErr("name", "%q: use 1-100 letters, digits, '.', '_', '+', ',' or '-', starting with a letter or digit, and not \"latest\" or \"sweeps\"", o.Name)
	}
	if o.CheckTimeout <= 0 {
		return fieldErr("check_timeout", "must be positive, got %s", o.CheckTimeout)
	}
	if o.CheckMemory < 0 {
		return fieldErr("check_memory", "must not be negative, got %d bytes", int64(o.CheckMemory))
	}
	if o.RecoveryTimeout <= 0 {
		return fieldErr("recovery_timeout", "must be positive, got %s", o.RecoveryTimeout)
	}
	if o.RequestTimeout <= 0 {
		return fieldErr("request_timeout", "must be positive, got %s", o.RequestTimeout)
	}
	if o.MaxClockDrift < 0 || o.MaxClockDrift >= 1 {
		return fieldErr("max_clock_drift", "must be in [0, 1), got %g", o.MaxClockDrift)
	}
	if o.SnapshotEvery < 0 {
		return fieldErr("snapshot_every", "must be >= 0 (0 = raftd's default), got %d", o.SnapshotEvery)
	}
	return nil
}

// FieldError is a bad option. Field is the option's name in JSON (the
// "options" object of campaign.json, the launch API and form); Error names
// the command-line flag, e.g. "--nodes must be between 3 and 15, got 1".
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string {
	flag := "--" + strings.ReplaceAll(e.Field, "_", "-")
	if e.Field == "bugs" {
		flag = "--bug"
	}
	if strings.HasPrefix(e.Msg, "must") {
		return flag + " " + e.Msg
	}
	return flag + ": " + e.Msg
}

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// flagErr turns an error that starts with the flag at fault ("--system must
// be ...", "--system-args: ...") into a *FieldError for that option.
func flagErr(err error) *FieldError {
	msg := err.Error()
	flag, rest, ok := strings.Cut(strings.TrimPrefix(msg, "--"), " ")
	if !ok || !strings.HasPrefix(msg, "--") {
		return &FieldError{Field: "options", Msg: msg}
	}
	flag = strings.TrimSuffix(flag, ":")
	return &FieldError{Field: strings.ReplaceAll(flag, "-", "_"), Msg: rest}
}

// faultSelection is --nemesis for the system under test: "all" is every
// fault kind it supports, and a kind it cannot play is refused.
func (o Options) faultSelection(sys system.System) (nemesis.Selection, error) {
	sel, err := nemesis.ParseSelection(o.Nemesis)
	if err != nil {
		return sel, err
	}
	if sel, err = sel.ForSystem(sys.Name(), sys.Capabilities()); err != nil {
		return sel, err
	}
	return o.processPartitions(sys, sel)
}

// processPartitions: the process runtime tells a peer message's sender by
// its source IP, so it cannot partition a system whose nodes dial from
// 127.0.0.1 (etcd; system.DialsPeersFromListenIP). Under --runtime process
// "all" leaves partitions out for such a system, and partitions named
// explicitly are refused, pointing to Docker, where each node has its own
// network namespace. (--runtime auto picks the runtime only when the
// campaign starts; the runtime then refuses each partition.)
func (o Options) processPartitions(sys system.System, sel nemesis.Selection) (nemesis.Selection, error) {
	if o.Runtime != "process" || system.DialsPeersFromListenIP(sys) {
		return sel, nil
	}
	partitions := slices.Contains(sel.Kinds, nemesis.Partition)
	for _, c := range sel.Composites {
		for _, p := range c {
			partitions = partitions || p.Kind == nemesis.Partition
		}
	}
	switch {
	case !partitions:
		return sel, nil
	case sel.All:
		sel.Kinds = slices.DeleteFunc(slices.Clone(sel.Kinds), func(k nemesis.Kind) bool { return k == nemesis.Partition })
		return sel, nil
	}
	return sel, fmt.Errorf("partition of %s needs --runtime docker: %s dials its peers from 127.0.0.1, so the process runtime cannot tell their senders apart", sys.Name(), sys.Name())
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
		"--concurrent-faults", strconv.Itoa(o.ConcurrentFaults),
		"--seed", strconv.FormatInt(o.Seed, 10),
	}
	for _, f := range [][2]string{{"--system-binary", o.SystemBinary}, {"--system-image", o.SystemImage}, {"--system-args", o.SystemArgs}, {"--system-capabilities", o.SystemCapabilities}} {
		if f[1] != "" {
			args = append(args, f[0], f[1])
		}
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
	if o.CheckMemory != 0 {
		// Exact bytes: the readable form rounds to four digits.
		args = append(args, "--check-memory", strconv.FormatInt(int64(o.CheckMemory), 10))
	}
	if o.SnapshotEvery != 0 {
		args = append(args, "--snapshot-every", strconv.Itoa(o.SnapshotEvery))
	}
	return args
}

// SystemUnderTest is the system the options name, with raftd's settings.
func (o Options) SystemUnderTest() (system.System, error) {
	caps, err := system.ParseCapabilities(o.SystemCapabilities)
	if err != nil {
		return nil, err
	}
	return system.New(system.Config{
		Capabilities: caps,
		Name:         o.Normalized().System,
		Binary:       o.SystemBinary,
		Image:        o.SystemImage,
		Args:         o.SystemArgs,
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
	path := filepath.Join(runDir, store.ManifestFile)
	m, err := store.ReadManifest(runDir)
	if err != nil {
		return Options{}, fmt.Errorf("replay: %w", err)
	}
	if len(m.Options) == 0 || string(m.Options) == "null" {
		return Options{}, fmt.Errorf("replay: %s: no \"options\" object", path)
	}
	var o Options
	if err := json.Unmarshal(m.Options, &o); err != nil {
		return Options{}, fmt.Errorf("replay: %s: options: %w", path, err)
	}
	if o.Seed == 0 {
		o.Seed = m.Seed
	}
	if err := o.Validate(); err != nil {
		return Options{}, fmt.Errorf("replay: %s: recorded options are not valid: %w", path, err)
	}
	return o, nil
}

// manifestJSON is o as campaign.json's "options" object.
func (o Options) manifestJSON() json.RawMessage {
	b, err := json.Marshal(o)
	if err != nil {
		panic(fmt.Sprintf("campaign options do not encode: %v", err)) // only plain fields: cannot happen
	}
	return b
}
