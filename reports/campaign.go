package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Campaign statuses written by the campaign into campaign.json.
const (
	StatusRunning     = "running"
	StatusComplete    = "complete"
	StatusInterrupted = "interrupted"
	StatusError       = "error"
)

// Campaign is this package's reading of campaign.json. Options are kept as
// raw JSON values so that settings added later still show in the report; the
// handful the report reasons about are decoded by the accessors below.
type Campaign struct {
	Name      string                     `json:"name"`
	Timestamp string                     `json:"timestamp"`
	Status    string                     `json:"status"`
	Error     string                     `json:"error"`
	Command   []string                   `json:"command"`
	Reproduce string                     `json:"reproduce"`
	Seed      json.Number                `json:"seed"`
	Options   map[string]json.RawMessage `json:"options"`
	Versions  map[string]json.RawMessage `json:"versions"`
	Nodes     []json.RawMessage          `json:"nodes"`
	Runtime   string                     `json:"runtime"`
	StartedAt string                     `json:"started_at"`
	EndedAt   string                     `json:"ended_at"`
	FirstOpNs json.Number                `json:"first_op_ns"`
	// Recovery says what did not recover after healing ("" when all did).
	Recovery string `json:"recovery"`
	// Phases are the campaign's own phase transitions (setup, workload, heal, ...).
	Phases []struct {
		Phase string `json:"phase"`
		AtNs  int64  `json:"at_ns"`
	} `json:"phases"`
}

// readCampaign reads campaign.json of the run in fsys. A missing file
// returns an error matching fs.ErrNotExist, so callers can tell "absent"
// from "broken".
func readCampaign(fsys fs.FS) (*Campaign, error) {
	b, err := fs.ReadFile(fsys, campaignFile)
	if err != nil {
		return nil, err
	}
	return parseCampaign(b)
}

func parseCampaign(b []byte) (*Campaign, error) {
	var c Campaign
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("campaign.json: %w", err)
	}
	return &c, nil
}

// OptionString returns a string option ("" when absent or not a string).
func (c *Campaign) OptionString(name string) string {
	if c == nil {
		return ""
	}
	raw, ok := c.Options[name]
	if !ok {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return ""
}

// OptionDuration returns a duration option: campaign.json stores durations as
// integer nanoseconds, and a Go duration string is accepted too.
func (c *Campaign) OptionDuration(name string) time.Duration {
	if c == nil {
		return 0
	}
	raw, ok := c.Options[name]
	if !ok {
		return 0
	}
	var n int64
	if json.Unmarshal(raw, &n) == nil {
		return time.Duration(n)
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if d, err := time.ParseDuration(s); err == nil {
			return d
		}
	}
	return 0
}

// durationOptions are the options shown as durations rather than numbers.
var durationOptions = map[string]bool{
	"duration": true, "interval": true, "check_timeout": true,
	"recovery_timeout": true, "request_timeout": true,
}

// Setting is one row of the report's settings table.
type Setting struct{ Name, Value string }

// Settings lists every option, sorted by name, formatted for people.
func (c *Campaign) Settings() []Setting {
	if c == nil {
		return nil
	}
	names := make([]string, 0, len(c.Options))
	for n := range c.Options {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]Setting, 0, len(names))
	for _, n := range names {
		out = append(out, Setting{Name: n, Value: formatOption(n, c.Options[n])})
	}
	return out
}

func formatOption(name string, raw json.RawMessage) string {
	if durationOptions[name] {
		var n int64
		if json.Unmarshal(raw, &n) == nil {
			return time.Duration(n).String()
		}
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s == "" {
			return "(default)"
		}
		return s
	}
	var list []any
	if json.Unmarshal(raw, &list) == nil {
		if len(list) == 0 {
			return "(none)"
		}
		parts := make([]string, len(list))
		for i, v := range list {
			parts[i] = fmt.Sprint(v)
		}
		return strings.Join(parts, ", ")
	}
	return string(raw)
}

// VersionList returns the versions map as sorted "name: value" settings.
func (c *Campaign) VersionList() []Setting {
	if c == nil {
		return nil
	}
	names := make([]string, 0, len(c.Versions))
	for n := range c.Versions {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]Setting, 0, len(names))
	for _, n := range names {
		var s string
		if json.Unmarshal(c.Versions[n], &s) != nil {
			s = string(c.Versions[n])
		}
		out = append(out, Setting{Name: n, Value: s})
	}
	return out
}

// NodeIDs returns the node ids of campaign.json's node list, whose entries
// may be plain strings or objects with an "id" field.
func (c *Campaign) NodeIDs() []string {
	if c == nil {
		return nil
	}
	var ids []string
	for _, raw := range c.Nodes {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			ids = append(ids, s)
			continue
		}
		var obj struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		}
		if json.Unmarshal(raw, &obj) == nil {
			if obj.ID != "" {
				ids = append(ids, obj.ID)
			} else if obj.Name != "" {
				ids = append(ids, obj.Name)
			}
		}
	}
	return ids
}

// Started returns the campaign's start time, from started_at or timestamp.
func (c *Campaign) Started() (time.Time, bool) {
	if c == nil {
		return time.Time{}, false
	}
	for _, s := range []string{c.StartedAt, c.Timestamp} {
		if t, ok := parseTimestamp(s); ok {
			return t, true
		}
	}
	return time.Time{}, false
}

// timestampLayouts are the forms a run's timestamp may take: RFC 3339 in
// campaign.json, and compact forms that are safe as directory names.
var timestampLayouts = []string{
	time.RFC3339Nano,
	"20060102T150405Z",
	"20060102T150405.000000000Z",
	"20060102T150405.000Z",
	"2006-01-02T15-04-05Z",
	"2006-01-02T15-04-05.000Z",
	"2006-01-02T15:04:05Z",
	"20060102-150405",
}

func parseTimestamp(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	for _, layout := range timestampLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// seedString is the seed as recorded ("" when absent).
func (c *Campaign) seedString() string {
	if c == nil {
		return ""
	}
	if c.Seed != "" {
		return c.Seed.String()
	}
	if raw, ok := c.Options["seed"]; ok {
		return strings.Trim(string(raw), `"`)
	}
	return ""
}

// firstOp is the time of the first operation, in ns since the campaign began
// (0 when not recorded).
func (c *Campaign) firstOp() int64 {
	if c == nil || c.FirstOpNs == "" {
		return 0
	}
	n, err := strconv.ParseInt(c.FirstOpNs.String(), 10, 64)
	if err != nil {
		return 0
	}
	return n
}
