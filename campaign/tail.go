package campaign

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
)

// historyCounter follows history.jsonl as the recorder appends to it and
// counts client completions for the progress line. Reading the file the
// recorder streams keeps the workload and the recorder free of progress
// hooks; it costs one read of the new bytes per progress tick.
type historyCounter struct {
	path    string
	offset  int64
	partial []byte

	Ok, Fail, Info int
	// FirstInvoke is the history time of the first client invocation, -1
	// until there is one.
	FirstInvoke int64
}

func newHistoryCounter(path string) *historyCounter {
	return &historyCounter{path: path, FirstInvoke: -1}
}

// poll reads what was appended since the last call.
func (c *historyCounter) poll() {
	f, err := os.Open(c.path)
	if err != nil {
		return
	}
	defer f.Close()
	if _, err := f.Seek(c.offset, io.SeekStart); err != nil {
		return
	}
	b, err := io.ReadAll(f)
	if err != nil || len(b) == 0 {
		return
	}
	c.offset += int64(len(b))
	b = append(c.partial, b...)
	last := bytes.LastIndexByte(b, '\n')
	if last < 0 {
		c.partial = b
		return
	}
	c.partial = append([]byte(nil), b[last+1:]...)
	for _, line := range bytes.Split(b[:last], []byte{'\n'}) {
		c.count(line)
	}
}

func (c *historyCounter) count(line []byte) {
	var e struct {
		Time    int64           `json:"time"`
		Process json.RawMessage `json:"process"`
		Type    string          `json:"type"`
	}
	if json.Unmarshal(line, &e) != nil || string(e.Process) == `"nemesis"` {
		return
	}
	switch e.Type {
	case "invoke":
		if c.FirstInvoke < 0 {
			c.FirstInvoke = e.Time
		}
	case "ok":
		c.Ok++
	case "fail":
		c.Fail++
	case "info":
		c.Info++
	}
}
