package report

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/store"
)

// Campaign is the report's reading of campaign.json: the store's manifest,
// with the options (owned by package campaign, opaque to the store) kept as
// raw JSON values so that settings added later still show in the report; the
// handful the report reasons about are decoded by the accessors below.
type Campaign struct {
	*store.Manifest
	Options  map[string]json.RawMessage
	Versions map[string]json.RawMessage
}

// readCampaign reads campaign.json of the run in fsys. A missing file
// returns an error matching fs.ErrNotExist, so callers can tell "absent"
// from "broken".
func readCampaign(fsys fs.FS) (*Campaign, error) {
	m, err := store.ReadManifestFS(fsys, ".")
	if err != nil {
		return nil, err
	}
	return NewCampaign(m), nil
}

// ParseCampaign decodes the bytes of a campaign.json.
func ParseCampaign(b []byte) (*Campaign, error) {
	m, err := store.ParseManifest(b)
	if err != nil {
		return nil, err
	}
	return NewCampaign(m), nil
}

// NewCampaign is the report's view of a manifest.
func NewCampaign(m *store.Manifest) *Campaign {
	c := &Campaign{Manifest: m}
	_ = json.Unmarshal(m.Options, &c.Options) // not an object: no settings to show
	if b, err := json.Marshal(m.Versions); err == nil {
		_ = json.Unmarshal(b, &c.Versions)
	}
	return c
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

// NodeIDs returns the node ids of the run.
func (c *Campaign) NodeIDs() []string {
	if c == nil {
		return nil
	}
	return c.Nodes
}

// Started returns the campaign's start time, from started_at or timestamp.
func (c *Campaign) Started() (time.Time, bool) {
	if c == nil {
		return time.Time{}, false
	}
	if !c.StartedAt.IsZero() {
		return c.StartedAt.UTC(), true
	}
	return ParseTimestamp(c.Timestamp)
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

// ParseTimestamp reads a run timestamp in any of timestampLayouts.
func ParseTimestamp(s string) (time.Time, bool) {
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
	if c.Seed != 0 {
		return strconv.FormatInt(c.Seed, 10)
	}
	if raw, ok := c.Options["seed"]; ok {
		return strings.Trim(string(raw), `"`)
	}
	return ""
}

// firstOp is the time of the first operation, in ns since the campaign began
// (0 when not recorded).
func (c *Campaign) firstOp() int64 {
	if c == nil {
		return 0
	}
	return c.FirstOpNs
}

// startedText and endedText are the start and end as recorded, for people.
func (c *Campaign) startedText() string {
	if c.StartedAt.IsZero() {
		return ""
	}
	return c.StartedAt.Format(time.RFC3339Nano)
}

func (c *Campaign) endedText() string {
	if c.EndedAt == nil {
		return ""
	}
	return c.EndedAt.Format(time.RFC3339Nano)
}
