package gen

import (
	"bufio"
	"io"
	"strconv"

	"github.com/faultline/faultline/history"
)

// WriteJSONL writes the history cfg describes to w in the history file
// format, streaming when cfg.Clients is set (so ten million operations take
// no more memory than a thousand), and returns the number of events.
func WriteJSONL(w io.Writer, cfg Config) (int, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	n := 0
	var line []byte
	emit := func(e history.Event) error {
		var err error
		if line, err = appendEvent(line[:0], e); err != nil {
			return err
		}
		n++
		_, err = bw.Write(line)
		return err
	}
	var err error
	if cfg.Clients > 0 {
		err = Stream(cfg, emit)
	} else {
		var events []history.Event
		if events, err = Generate(cfg); err == nil {
			for _, e := range events {
				if err = emit(e); err != nil {
					break
				}
			}
		}
	}
	if err != nil {
		return n, err
	}
	return n, bw.Flush()
}

// appendEvent appends e as json.Marshal writes it, plus a newline, without
// reflection for the values the generator makes (ints and lists of ints).
func appendEvent(b []byte, e history.Event) ([]byte, error) {
	b = append(b, `{"time":`...)
	b = strconv.AppendInt(b, e.Time, 10)
	b = append(b, `,"process":`...)
	b = strconv.AppendInt(b, int64(e.Process.ID), 10)
	b = append(b, `,"type":"`...)
	b = append(b, e.Type...)
	b = append(b, `","f":"`...)
	b = append(b, e.F...)
	b = append(b, `","key":"`...)
	b = append(b, e.Key...)
	b = append(b, `","value":`...)
	b, err := history.AppendValue(b, e.Value)
	if err != nil {
		return b, err
	}
	for _, f := range []struct{ name, value string }{{"node", e.Node}, {"error", e.Error}} {
		if f.value != "" {
			b = append(b, `,"`...)
			b = append(b, f.name...)
			b = append(b, `":"`...)
			b = append(b, f.value...)
			b = append(b, '"')
		}
	}
	if e.Latency != 0 {
		b = append(b, `,"latency":`...)
		b = strconv.AppendInt(b, e.Latency, 10)
	}
	return append(b, "}\n"...), nil
}
