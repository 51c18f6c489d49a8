package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/faultline/faultline/campaign"
)

// plainEvery is how often a non-terminal display prints a progress line
// while the workload runs (phase changes are always printed).
const plainEvery = 5 * time.Second

// display shows campaign progress on w. On a terminal it keeps one live
// line (redrawn with \r) below the log lines; otherwise it prints a plain
// progress line now and then. It is also the log handler's writer, so that
// log lines and the live line never garble each other.
type display struct {
	mu        sync.Mutex
	w         io.Writer
	live      bool
	line      string // the live line currently drawn
	lastPhase string
	lastPrint time.Time
}

func newDisplay(w io.Writer) *display {
	return &display{w: w, live: isTerminal(w)}
}

// Write prints log output above the live line.
func (d *display) Write(b []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.live && d.line != "" {
		io.WriteString(d.w, "\r\033[K")
	}
	n, err := d.w.Write(b)
	if d.live && d.line != "" {
		io.WriteString(d.w, d.line)
	}
	return n, err
}

// Update implements campaign.Progress.
func (d *display) Update(s campaign.Snapshot) {
	d.mu.Lock()
	defer d.mu.Unlock()
	line := formatSnapshot(s)
	if d.live {
		line = truncate(line, terminalWidth(d.w)-1)
		if line != d.line {
			d.line = line
			io.WriteString(d.w, "\r\033[K"+line)
		}
		return
	}
	if s.Phase != d.lastPhase || (s.Phase == campaign.PhaseRunning && time.Since(d.lastPrint) >= plainEvery) {
		d.lastPhase, d.lastPrint = s.Phase, time.Now()
		fmt.Fprintln(d.w, "progress: "+line)
	}
}

// Finish ends the live line so that what follows starts on a clean line.
func (d *display) Finish() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.live && d.line != "" {
		io.WriteString(d.w, "\r\033[K")
		d.line = ""
	}
}

// formatSnapshot renders a snapshot as one line, e.g.
// "12s/60s running | ok 1234 fail 12 info 3 | fault: partition ... | leader n3 (term 4)".
func formatSnapshot(s campaign.Snapshot) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s/%s %s | ok %d fail %d info %d", s.Elapsed.Round(time.Second), s.Total.Round(time.Second), s.Phase, s.Ok, s.Fail, s.Info)
	fault := s.Fault
	if fault == "" {
		fault = "none"
	}
	fmt.Fprintf(&b, " | fault: %s", fault)
	if s.Leader != "" {
		fmt.Fprintf(&b, " | leader %s (term %d)", s.Leader, s.Term)
	} else {
		b.WriteString(" | no leader")
	}
	return b.String()
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
