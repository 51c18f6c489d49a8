package store

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// StatusLine is one line of nodes/status.jsonl: what one node said about
// itself at one instant (Time is on the history's clock). A node that did
// not answer within the poll gets a line with Error set and no role.
type StatusLine struct {
	Time    int64    `json:"time"`
	ID      string   `json:"id"`
	Role    string   `json:"role,omitempty"`
	Term    uint64   `json:"term,omitempty"`
	Leader  string   `json:"leader,omitempty"`
	Commit  uint64   `json:"commit,omitempty"`
	Applied uint64   `json:"applied,omitempty"`
	Voters  []string `json:"voters,omitempty"`
	Error   string   `json:"error,omitempty"`
}

// StatusWriter appends lines to nodes/status.jsonl. It is safe for
// concurrent use; each Write flushes, so a crash leaves whole lines.
type StatusWriter struct {
	mu  sync.Mutex
	f   *os.File
	w   *bufio.Writer
	err error
}

// CreateStatus creates (truncating) runDir/nodes/status.jsonl.
func CreateStatus(runDir string) (*StatusWriter, error) {
	f, err := os.OpenFile(filepath.Join(runDir, NodesDir, StatusFile), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	return &StatusWriter{f: f, w: bufio.NewWriter(f)}, nil
}

// Write appends lines and flushes them. After an error every later call
// returns it.
func (s *StatusWriter) Write(lines []StatusLine) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range lines {
		if s.err != nil {
			break
		}
		b, _ := json.Marshal(l)
		_, s.err = s.w.Write(append(b, '\n'))
	}
	if s.err == nil {
		s.err = s.w.Flush()
	}
	return s.err
}

// Close flushes and closes the file.
func (s *StatusWriter) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.err
	if ferr := s.w.Flush(); err == nil {
		err = ferr
	}
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Bounds of ReadStatus: unusable lines listed one by one, and lines read
// (a poll every 300 ms of 9 nodes for a day is ~3M lines, far more than a
// report shows).
const (
	maxStatusProblems = 20
	maxStatusLines    = 500000
)

// ReadStatus reads <runDir>/nodes/status.jsonl from fsys tolerantly: lines
// that cannot be used are named in problems (file:line) and skipped; a
// missing file is not a problem (a run that never started a cluster).
func ReadStatus(fsys fs.FS, runDir string) (lines []StatusLine, problems []string) {
	name := joinFS(runDir, NodesDir+"/"+StatusFile)
	f, err := fsys.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, []string{err.Error()}
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<16)
	for n := 1; ; n++ {
		b, err := br.ReadBytes('\n')
		if t := bytes.TrimSpace(b); len(t) > 0 {
			var l StatusLine
			if jerr := json.Unmarshal(t, &l); jerr != nil {
				if len(problems) < maxStatusProblems {
					if b[len(b)-1] != '\n' {
						problems = append(problems, fmt.Sprintf("%s:%d: half-written last line ignored", name, n))
					} else {
						problems = append(problems, fmt.Sprintf("%s:%d: %v", name, n, jerr))
					}
				}
			} else {
				lines = append(lines, l)
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				problems = append(problems, fmt.Sprintf("%s:%d: %v", name, n, err))
			}
			break
		}
		if len(lines) >= maxStatusLines {
			problems = append(problems, fmt.Sprintf("%s: only the first %d lines were read", name, maxStatusLines))
			break
		}
	}
	return lines, problems
}
