package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"
)

// Run statuses recorded in campaign.json. Abandoned is written by `checker
// gc` (and shown by listings) for a run left running by an owner that is gone.
const (
	StatusRunning     = "running"
	StatusComplete    = "complete"
	StatusInterrupted = "interrupted"
	StatusError       = "error"
	StatusAbandoned   = "abandoned"
)

// Manifest is campaign.json: what ran, who ran it, and how it ended.
type Manifest struct {
	FormatVersion int    `json:"format_version"`
	Name          string `json:"name"`
	Timestamp     string `json:"timestamp"` // the run directory's name
	Status        string `json:"status"`
	Error         string `json:"error,omitempty"`
	// Command is the argv that started the process; Reproduce is a
	// `checker run` line that repeats the campaign with the same seed.
	Command   []string `json:"command"`
	Reproduce string   `json:"reproduce"`
	Seed      int64    `json:"seed"`
	// Options are the campaign's settings, owned by package campaign
	// (campaign.Options); the store keeps them as JSON.
	Options  json.RawMessage `json:"options"`
	Versions Versions        `json:"versions"`
	// System is the system under test: name, version and capabilities
	// (system.Info, owned by sut/system; opaque to the store).
	System json.RawMessage `json:"system,omitempty"`
	// NemesisKinds are the fault kinds the run plays: --nemesis after the
	// system's capabilities ("all" is every kind the system supports).
	NemesisKinds []string `json:"nemesis_kinds,omitempty"`
	Nodes        []string `json:"nodes"`
	Runtime      string   `json:"runtime,omitempty"` // the runtime picked (docker or process)
	// Cluster is the runtime's name for the cluster: the value of the
	// faultline.campaign label on docker containers and networks.
	Cluster string `json:"cluster,omitempty"`
	// Owner is the process that runs (or ran) the campaign.
	Owner     *Owner     `json:"owner,omitempty"`
	StartedAt time.Time  `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
	// HistoryStart is the wall-clock instant that history times count from.
	HistoryStart time.Time `json:"history_start"`
	// FirstOpNs is the time from the start of the campaign to the first
	// client operation's invocation, in ns (0 when none happened).
	FirstOpNs int64 `json:"first_op_ns,omitempty"`
	// Recovery is empty when the cluster recovered after healing; otherwise
	// it says what did not recover within --recovery-timeout.
	Recovery string `json:"recovery,omitempty"`
	// Phases records when each phase began, in ns since the campaign start.
	Phases []PhaseMark `json:"phases,omitempty"`
	// Verdict repeats results.json's verdict for quick listing.
	Verdict string `json:"verdict,omitempty"`
}

// PhaseMark is one phase transition.
type PhaseMark struct {
	Phase string `json:"phase"`
	AtNs  int64  `json:"at_ns"`
}

// Versions identifies the build that ran the campaign.
type Versions struct {
	Go       string `json:"go"`
	Module   string `json:"module,omitempty"`
	Version  string `json:"version,omitempty"`
	Revision string `json:"vcs_revision,omitempty"`
	Time     string `json:"vcs_time,omitempty"`
	Modified bool   `json:"vcs_modified,omitempty"`
	// SourceRevision is the git commit checked out in the source tree that
	// the system under test is built from.
	SourceRevision string `json:"source_revision,omitempty"`
}

// ShownStatus is the status listings show: a run still marked running whose
// owner is gone is abandoned (its process died without a word, e.g. SIGKILL).
func (m *Manifest) ShownStatus() string {
	if m.Status == StatusRunning && m.Owner != nil && m.Owner.Gone() {
		return StatusAbandoned
	}
	return m.Status
}

// WriteManifest writes runDir/campaign.json atomically, at FormatVersion.
func WriteManifest(runDir string, m Manifest) error {
	m.FormatVersion = FormatVersion
	return WriteDocument(filepath.Join(runDir, ManifestFile), m)
}

// ReadManifest reads runDir/campaign.json. A missing file returns an error
// matching fs.ErrNotExist; an unknown format version a *VersionError.
func ReadManifest(runDir string) (*Manifest, error) {
	var m Manifest
	if err := ReadDocument(filepath.Join(runDir, ManifestFile), &m); err != nil {
		return nil, manifestErr(err)
	}
	return &m, nil
}

// ReadManifestFS reads <dir>/campaign.json from fsys ("." for the root).
func ReadManifestFS(fsys fs.FS, dir string) (*Manifest, error) {
	var m Manifest
	if err := ReadDocumentFS(fsys, joinFS(dir, ManifestFile), &m); err != nil {
		return nil, manifestErr(err)
	}
	return &m, nil
}

// ParseManifest decodes the bytes of a campaign.json.
func ParseManifest(b []byte) (*Manifest, error) {
	var m Manifest
	if err := DecodeDocument(b, ManifestFile, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

func manifestErr(err error) error {
	var ve *VersionError
	if errors.Is(err, fs.ErrNotExist) || errors.As(err, &ve) {
		return err
	}
	return fmt.Errorf("%s: %w", ManifestFile, err)
}

func joinFS(dir, name string) string {
	if dir == "" || dir == "." {
		return name
	}
	return dir + "/" + name
}

// MarkInterrupted turns a run still marked running into interrupted, with
// why as its error when it has none. Other runs are left as they are.
func MarkInterrupted(runDir, why string) error { return markEnded(runDir, StatusInterrupted, why) }

// MarkAbandoned turns a run still marked running into abandoned.
func MarkAbandoned(runDir, why string) error { return markEnded(runDir, StatusAbandoned, why) }

func markEnded(runDir, status, why string) error {
	m, err := ReadManifest(runDir)
	if err != nil {
		return err
	}
	if m.Status != StatusRunning {
		return nil
	}
	m.Status = status
	if m.Error == "" {
		m.Error = why
	}
	return WriteManifest(runDir, *m)
}
