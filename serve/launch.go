package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/campaign"
	"github.com/faultline/faultline/nemesis"
)

// Choices offered by the launch form. The bounds come from package campaign
// and the check is campaign.Options.Validate, the one `checker run` uses.
var (
	runtimes     = []string{"auto", "docker", "process"}
	workloads    = []string{"register", "set", "append"}
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

// launchFields are the campaign options a person may set from the form or
// the API (their names in campaign.json's "options"), in form order. The
// others keep the defaults of `checker run`; the store is the server's.
var launchFields = []string{"name", "system", "system_binary", "system_image", "system_args", "system_capabilities", "runtime", "nodes", "duration", "workload", "concurrency", "rate", "keys",
	"nemesis", "interval", "seed", "read", "read_mode", "bugs"}

func fieldErr(field, format string, args ...any) *campaign.FieldError {
	return &campaign.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// unknownOption refuses a field that is not a launch option. A field with an
// empty name is blamed on the body: an error must always name a place.
func unknownOption(name string) *campaign.FieldError {
	if name == "" {
		return fieldErr("body", "has a field with an empty name, which is not a launch option (known: %s)", strings.Join(launchFields, ", "))
	}
	return fieldErr(name, "is not a launch option (known: %s)", strings.Join(launchFields, ", "))
}

// fieldMessage is a validation error as the form and the API show it:
// "nodes: must be between 3 and 15, got 1".
func fieldMessage(err error) (field, msg string) {
	var fe *campaign.FieldError
	if errors.As(err, &fe) {
		return fe.Field, fe.Msg
	}
	return "body", err.Error()
}

// parseLaunchForm reads a form submission (all values are strings;
// durations need a unit, as on the command line) into the options of a
// campaign writing to storeDir, validated by campaign.Options.Validate.
// Empty fields keep the defaults of `checker run`.
func parseLaunchForm(form url.Values, storeDir string) (campaign.Options, error) {
	o := campaign.DefaultOptions()
	o.Store = storeDir
	for name := range form {
		if !oneOf(name, launchFields) {
			return o, unknownOption(name)
		}
	}
	get := func(name string) string { return strings.TrimSpace(form.Get(name)) }
	setString := func(dst *string, name string) {
		if v := get(name); v != "" {
			*dst = v
		}
	}
	setString(&o.Name, "name")
	setString(&o.System, "system")
	setString(&o.SystemBinary, "system_binary")
	setString(&o.SystemImage, "system_image")
	// The template keeps its spacing: it is split into words only when a
	// node starts, as `checker run --system-args` is.
	if v := form.Get("system_args"); strings.TrimSpace(v) != "" {
		o.SystemArgs = v
	}
	o.SystemCapabilities = strings.Join(listValues(form["system_capabilities"]), ",")
	setString(&o.Runtime, "runtime")
	setString(&o.Workload, "workload")
	setString(&o.Nemesis, "nemesis")
	setString(&o.ReadMode, "read_mode")
	o.Read = get("read")
	for _, f := range []struct {
		name string
		dst  *int
	}{{"nodes", &o.Nodes}, {"concurrency", &o.Concurrency}, {"keys", &o.Keys}} {
		if err := formInt(f.name, get(f.name), f.dst); err != nil {
			return o, err
		}
	}
	for _, f := range []struct {
		name string
		dst  *time.Duration
	}{{"duration", &o.Duration}, {"interval", &o.Interval}} {
		if err := formDuration(f.name, get(f.name), f.dst); err != nil {
			return o, err
		}
	}
	var err error
	if s := get("rate"); s != "" {
		if o.Rate, err = strconv.ParseFloat(s, 64); err != nil {
			return o, fieldErr("rate", "want a number of operations per second, got %q", s)
		}
	}
	if s := get("seed"); s != "" {
		if o.Seed, err = strconv.ParseInt(s, 10, 64); err != nil {
			return o, fieldErr("seed", "want an integer, got %q", s)
		}
	}
	o.Bugs = listValues(form["bugs"])
	sort.Strings(o.Bugs)
	if err := o.Validate(); err != nil {
		return o, err
	}
	return o.Normalized(), nil
}

// listValues reads a field that holds a list: checkboxes of one name, or
// comma-separated values, or both; empty entries are dropped.
func listValues(vals []string) []string {
	out := []string{}
	for _, v := range vals {
		for _, x := range strings.Split(v, ",") {
			if x = strings.TrimSpace(x); x != "" {
				out = append(out, x)
			}
		}
	}
	return out
}

func oneOf(s string, list []string) bool {
	for _, x := range list {
		if s == x {
			return true
		}
	}
	return false
}

func formInt(field, s string, dst *int) error {
	if s == "" {
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return fieldErr(field, "want an integer, got %q", s)
	}
	*dst = n
	return nil
}

func formDuration(field, s string, dst *time.Duration) error {
	if s == "" {
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return fieldErr(field, "want a duration with a unit such as 30s or 2m, got %q", s)
	}
	*dst = d
	return nil
}

// maxLaunchBody bounds a POST /api/campaigns body.
const maxLaunchBody = 64 << 10

// parseLaunchJSON reads an API request. Durations are Go duration strings
// ("30s") or integer nanoseconds, as in campaign.json; bugs and
// system_capabilities are lists of names or one comma-separated string.
// Unknown fields are refused.
func parseLaunchJSON(body io.Reader, storeDir string) (campaign.Options, error) {
	form, err := launchJSONForm(body)
	if err != nil {
		return campaign.Options{}, err
	}
	return parseLaunchForm(form, storeDir)
}

// launchJSONForm turns a JSON object of launch options into form values.
func launchJSONForm(body io.Reader) (url.Values, error) {
	b, err := io.ReadAll(io.LimitReader(body, maxLaunchBody+1))
	if err != nil {
		return nil, fieldErr("body", "%v", err)
	}
	if len(b) > maxLaunchBody {
		return nil, fieldErr("body", "larger than %d bytes", maxLaunchBody)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		b = []byte("{}")
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, fieldErr("body", "want a JSON object of launch options: %v", err)
	}
	names := make([]string, 0, len(raw))
	for k := range raw {
		names = append(names, k)
	}
	sort.Strings(names)
	form := url.Values{}
	for _, name := range names {
		if !oneOf(name, launchFields) {
			return nil, unknownOption(name)
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
					return nil, fieldErr(name, "want a duration string such as \"30s\" or integer nanoseconds, got %s", n)
				}
				if ns != 0 {
					form.Set(name, time.Duration(ns).String())
				}
				continue
			}
			form.Set(name, n.String())
		case (name == "bugs" || name == "system_capabilities") && json.Unmarshal(v, &list) == nil:
			form[name] = list
		default:
			return nil, fieldErr(name, "has the wrong JSON type: %s", shorten(string(v), 40))
		}
	}
	return form, nil
}

// shorten cuts s to at most n runes, marking the cut.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
