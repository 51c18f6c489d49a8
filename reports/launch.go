package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/nemesis"
	"github.com/faultline/faultline/sut/bugs"
)

// Launcher runs one campaign synchronously and returns its run directory.
// The server calls it for one queued request at a time. When ctx is
// cancelled (the server is shutting down) the campaign must heal its faults,
// mark its run interrupted and return. The cmd wires it to campaign.Run.
type Launcher interface {
	Launch(ctx context.Context, req LaunchRequest) (runDir string, err error)
}

// LauncherFunc adapts a function to the Launcher interface.
type LauncherFunc func(ctx context.Context, req LaunchRequest) (string, error)

// Launch implements Launcher.
func (f LauncherFunc) Launch(ctx context.Context, req LaunchRequest) (string, error) {
	return f(ctx, req)
}

// LaunchRequest holds the options of `checker run` that a person may set from
// the form or the API. Zero values are replaced by the defaults of `checker
// run` in Normalize, except Seed, where 0 lets the campaign pick one.
type LaunchRequest struct {
	Name        string        `json:"name"`
	Runtime     string        `json:"runtime"`
	Nodes       int           `json:"nodes"`
	Duration    time.Duration `json:"duration"`
	Workload    string        `json:"workload"`
	Concurrency int           `json:"concurrency"`
	Rate        float64       `json:"rate"`
	Keys        int           `json:"keys"`
	Nemesis     string        `json:"nemesis"`
	Interval    time.Duration `json:"interval"`
	Seed        int64         `json:"seed"`
	Read        string        `json:"read"`
	ReadMode    string        `json:"read_mode"`
	Bugs        []string      `json:"bugs"`

	// Progress, set by the server, receives the campaign's progress; the
	// Launcher calls it whenever it has news (it may never call it: the
	// server then follows the run's history.jsonl on its own). Safe for
	// concurrent use.
	Progress func(LaunchProgress) `json:"-"`
}

// LaunchProgress is what a running campaign reports.
type LaunchProgress struct {
	RunDir  string        // the run directory, once created
	Phase   string        // e.g. "setup", "workload", "heal", "check", "report"
	Elapsed time.Duration // of the workload phase
	Total   time.Duration // the workload phase's planned duration
	Ok      int
	Fail    int
	Info    int
	Fault   string // the fault active now, "" when none
	Leader  string
	Message string
}

// FieldError is bad input naming the field at fault.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Choices and bounds of the launch options.
var (
	runtimes     = []string{"auto", "docker", "process"}
	workloads    = []string{"register", "set", "append"}
	readStyles   = []string{"", "local"}
	readModes    = []string{"readindex", "lease", "log"}
	nemesisKinds = kindNames()
)

func kindNames() []string {
	names := make([]string, len(nemesis.AllKinds))
	for i, k := range nemesis.AllKinds {
		names[i] = string(k)
	}
	return names
}

const (
	maxNodes       = 9
	maxConcurrency = 256
	maxKeys        = 100000
	maxRate        = 100000
	maxDuration    = 24 * time.Hour
	minInterval    = 100 * time.Millisecond
	maxNameLen     = 100
)

// launchFields are the accepted field names, in form order.
var launchFields = []string{"name", "runtime", "nodes", "duration", "workload", "concurrency", "rate", "keys",
	"nemesis", "interval", "seed", "read", "read_mode", "bugs"}

// Normalize fills defaults (those of `checker run`) and validates every
// field, returning a *FieldError naming the first bad one.
func (r *LaunchRequest) Normalize() error {
	if r.Runtime == "" {
		r.Runtime = "auto"
	}
	if r.Nodes == 0 {
		r.Nodes = 5
	}
	if r.Duration == 0 {
		r.Duration = 60 * time.Second
	}
	if r.Workload == "" {
		r.Workload = "register"
	}
	if r.Concurrency == 0 {
		r.Concurrency = 10
	}
	if r.Keys == 0 {
		r.Keys = 10
	}
	if r.Nemesis == "" {
		r.Nemesis = "all"
	}
	if r.Interval == 0 {
		r.Interval = 5 * time.Second
	}
	if r.ReadMode == "" {
		r.ReadMode = "readindex"
	}
	if !oneOf(r.Runtime, runtimes) {
		return fieldErr("runtime", "must be one of %s, got %q", strings.Join(runtimes, ", "), r.Runtime)
	}
	if r.Nodes < 1 || r.Nodes > maxNodes {
		return fieldErr("nodes", "must be between 1 and %d, got %d", maxNodes, r.Nodes)
	}
	if r.Duration < time.Second || r.Duration > maxDuration {
		return fieldErr("duration", "must be between 1s and %s, got %s", maxDuration, r.Duration)
	}
	if !oneOf(r.Workload, workloads) {
		return fieldErr("workload", "must be one of %s, got %q", strings.Join(workloads, ", "), r.Workload)
	}
	if r.Concurrency < 1 || r.Concurrency > maxConcurrency {
		return fieldErr("concurrency", "must be between 1 and %d, got %d", maxConcurrency, r.Concurrency)
	}
	if r.Rate < 0 || r.Rate > maxRate || math.IsNaN(r.Rate) {
		return fieldErr("rate", "must be between 0 (unlimited) and %d operations per second, got %v", maxRate, r.Rate)
	}
	if r.Keys < 1 || r.Keys > maxKeys {
		return fieldErr("keys", "must be between 1 and %d, got %d", maxKeys, r.Keys)
	}
	nem, err := normalizeNemesis(r.Nemesis)
	if err != nil {
		return err
	}
	r.Nemesis = nem
	if r.Interval < minInterval || r.Interval > time.Hour {
		return fieldErr("interval", "must be between %s and 1h, got %s", minInterval, r.Interval)
	}
	if r.Seed < 0 {
		return fieldErr("seed", "must be 0 (pick one) or positive, got %d", r.Seed)
	}
	if !oneOf(r.Read, readStyles) {
		return fieldErr("read", `must be empty (linearizable reads) or "local", got %q`, r.Read)
	}
	if !oneOf(r.ReadMode, readModes) {
		return fieldErr("read_mode", "must be one of %s, got %q", strings.Join(readModes, ", "), r.ReadMode)
	}
	set, err := bugs.Parse(r.Bugs)
	if err != nil {
		return fieldErr("bugs", "%v", err)
	}
	r.Bugs = set.List()
	if r.Name == "" {
		r.Name = r.Workload + "-" + strings.ReplaceAll(r.Nemesis, ",", "+")
	}
	if err := checkRunName(r.Name); err != nil {
		return fieldErr("name", "%v", err)
	}
	return nil
}

func oneOf(s string, list []string) bool {
	for _, x := range list {
		if s == x {
			return true
		}
	}
	return false
}

// normalizeNemesis accepts what --nemesis does ("all", "none", or a comma
// list of kinds, each optionally kind:mode) and writes it in canonical order.
func normalizeNemesis(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "all" || s == "none" {
		return s, nil
	}
	sel, err := nemesis.ParseSelection(s)
	if err == nil && len(sel.Kinds) == 0 {
		err = errors.New("no kind given")
	}
	if err != nil {
		return "", fieldErr("nemesis", `must be "all", "none" or a comma list of %s (each optionally kind:mode): %v`, strings.Join(nemesisKinds, ", "), err)
	}
	return sel.String(), nil
}

// checkRunName refuses names that are not one safe directory name.
func checkRunName(name string) error {
	if len(name) > maxNameLen {
		return fmt.Errorf("longer than %d characters", maxNameLen)
	}
	for _, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '+' || c == ','
		if !ok {
			return fmt.Errorf("may hold only letters, digits and - _ . + , (got %q)", name)
		}
	}
	if name == "" || name[0] == '.' || name[0] == '-' || name == "latest" {
		return fmt.Errorf("%q is not a usable run name", name)
	}
	return nil
}

// Args returns the `checker run` flags equivalent to the request, which the
// Launcher may parse with the command's own flag set.
func (r LaunchRequest) Args() []string {
	args := []string{
		"--name", r.Name, "--runtime", r.Runtime, "--nodes", strconv.Itoa(r.Nodes),
		"--duration", r.Duration.String(), "--workload", r.Workload,
		"--concurrency", strconv.Itoa(r.Concurrency), "--rate", strconv.FormatFloat(r.Rate, 'f', -1, 64),
		"--keys", strconv.Itoa(r.Keys), "--nemesis", r.Nemesis, "--interval", r.Interval.String(),
	}
	if r.Seed != 0 {
		args = append(args, "--seed", strconv.FormatInt(r.Seed, 10))
	}
	if r.Read != "" {
		args = append(args, "--read", r.Read)
	}
	args = append(args, "--read-mode", r.ReadMode)
	for _, b := range r.Bugs {
		args = append(args, "--bug", b)
	}
	return args
}

// Command is the request as a `checker run` command line, for people.
func (r LaunchRequest) Command() string {
	return "checker run " + strings.Join(r.Args(), " ")
}

// parseLaunchForm reads a form submission (all values are strings;
// durations need a unit, as on the command line).
func parseLaunchForm(form url.Values) (LaunchRequest, error) {
	for name := range form {
		if !oneOf(name, launchFields) {
			return LaunchRequest{}, fieldErr(name, "is not a launch option (known: %s)", strings.Join(launchFields, ", "))
		}
	}
	get := func(name string) string { return strings.TrimSpace(form.Get(name)) }
	var r LaunchRequest
	var err error
	r.Name, r.Runtime, r.Workload, r.Nemesis = get("name"), get("runtime"), get("workload"), get("nemesis")
	r.Read, r.ReadMode = get("read"), get("read_mode")
	if r.Nodes, err = formInt("nodes", get("nodes")); err != nil {
		return r, err
	}
	if r.Concurrency, err = formInt("concurrency", get("concurrency")); err != nil {
		return r, err
	}
	if r.Keys, err = formInt("keys", get("keys")); err != nil {
		return r, err
	}
	if r.Duration, err = formDuration("duration", get("duration")); err != nil {
		return r, err
	}
	if r.Interval, err = formDuration("interval", get("interval")); err != nil {
		return r, err
	}
	if s := get("rate"); s != "" {
		if r.Rate, err = strconv.ParseFloat(s, 64); err != nil {
			return r, fieldErr("rate", "want a number of operations per second, got %q", s)
		}
	}
	if s := get("seed"); s != "" {
		if r.Seed, err = strconv.ParseInt(s, 10, 64); err != nil {
			return r, fieldErr("seed", "want an integer, got %q", s)
		}
	}
	for _, v := range form["bugs"] {
		for _, b := range strings.Split(v, ",") {
			if b = strings.TrimSpace(b); b != "" {
				r.Bugs = append(r.Bugs, b)
			}
		}
	}
	return r, r.Normalize()
}

func formInt(field, s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fieldErr(field, "want an integer, got %q", s)
	}
	return n, nil
}

func formDuration(field, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fieldErr(field, "want a duration with a unit such as 30s or 2m, got %q", s)
	}
	return d, nil
}

// maxLaunchBody bounds a POST /api/campaigns body.
const maxLaunchBody = 64 << 10

// parseLaunchJSON reads an API request. Durations are Go duration strings
// ("30s") or integer nanoseconds, as in campaign.json; bugs is a list of
// names or one comma-separated string. Unknown fields are refused.
func parseLaunchJSON(body io.Reader) (LaunchRequest, error) {
	b, err := io.ReadAll(io.LimitReader(body, maxLaunchBody+1))
	if err != nil {
		return LaunchRequest{}, fieldErr("body", "%v", err)
	}
	if len(b) > maxLaunchBody {
		return LaunchRequest{}, fieldErr("body", "larger than %d bytes", maxLaunchBody)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		b = []byte("{}")
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return LaunchRequest{}, fieldErr("body", "want a JSON object of launch options: %v", err)
	}
	names := make([]string, 0, len(raw))
	for k := range raw {
		names = append(names, k)
	}
	sort.Strings(names)
	form := url.Values{}
	for _, name := range names {
		if !oneOf(name, launchFields) {
			return LaunchRequest{}, fieldErr(name, "is not a launch option (known: %s)", strings.Join(launchFields, ", "))
		}
		v := raw[name]
		var s string
		var n json.Number
		var list []string
		switch {
		case string(bytes.TrimSpace(v)) == "null":
			continue
		case json.Unmarshal(v, &s) == nil:
			form.Set(name, s)
		case json.Unmarshal(v, &n) == nil:
			if name == "duration" || name == "interval" {
				ns, err := n.Int64()
				if err != nil {
					return LaunchRequest{}, fieldErr(name, "want a duration string such as \"30s\" or integer nanoseconds, got %s", n)
				}
				form.Set(name, time.Duration(ns).String())
				if ns == 0 {
					form.Set(name, "")
				}
				continue
			}
			form.Set(name, n.String())
		case name == "bugs" && json.Unmarshal(v, &list) == nil:
			form[name] = list
		default:
			return LaunchRequest{}, fieldErr(name, "has the wrong JSON type: %s", shorten(string(v), 40))
		}
	}
	return parseLaunchForm(form)
}

// asFieldError extracts the field of a validation error ("" if none).
func asFieldError(err error) (string, bool) {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe.Field, true
	}
	return "", false
}
