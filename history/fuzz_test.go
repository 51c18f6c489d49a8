package history

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzReader feeds arbitrary bytes to the history reader, in both modes,
// reading on past bad lines as a lint would. It must never panic; every
// error is a *ParseError naming a line of the input; every event it accepts
// came from a line of valid UTF-8 (the reader refuses rather than repairs);
// and on every line the fast decoder takes, the slow one agrees.
func FuzzReader(f *testing.F) {
	f.Add([]byte(goodPrefix))
	f.Add([]byte(goodPrefix + `{"time":3,"process":"nemesis","type":"info","f":"kill-start","value":{"nodes":["n1"]}}` + "\n"))
	f.Add([]byte(goodPrefix + "{\"time\":3,\"process\":1,\"type\":\"invoke\",\"f\":\"write\",\"key\":\"a\xffb\",\"value\":1}\n"))
	f.Add([]byte(goodPrefix + `{"time":3,"process":1,"type":"invoke","f":"write","key":"a","value":"x\udc00y"}` + "\n"))
	f.Add([]byte(goodPrefix + `{"time":3,"process":1,"type":"invoke","f":"append","key":"k","value":[1,"\ud83d\ude00",null]}`))
	f.Add([]byte(goodPrefix[:len(goodPrefix)/2]))
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := bytes.Count(data, []byte("\n")) + 1
		for _, mode := range []Mode{Strict, Tolerant} {
			r := NewReader(bytes.NewReader(data), "fuzz.jsonl", mode)
			for range lines + 1 {
				_, err := r.Next()
				if err == io.EOF {
					break
				}
				var pe *ParseError
				if err != nil && (!errors.As(err, &pe) || pe.File != "fuzz.jsonl" || pe.Line < 1 || pe.Line > lines) {
					t.Fatalf("error %v is not a *ParseError naming a line of the %d-line input", err, lines)
				}
				if err != nil && pe.Truncated {
					break // the last line: nothing follows it
				}
				if err == nil && !utf8.Valid(lineOf(data, r.Line())) {
					t.Fatalf("line %d accepted although it is not valid UTF-8", r.Line())
				}
			}
		}
		for _, line := range bytes.Split(data, []byte("\n")) {
			line = bytes.TrimSpace(line)
			d := newLineDecoder()
			var fast, slow RawEvent
			seenFast, ok := d.fast(line, &fast)
			if !ok || !utf8.Valid(line) {
				continue
			}
			seenSlow, err := d.slow(line, &slow)
			if err != nil && strings.Contains(err.Error(), "duplicate object member name") {
				// Known and reported: the fast decoder ignores a member it
				// does not keep even when it is given twice, where the
				// slow one refuses the line. No kept value differs.
				continue
			}
			if err != nil {
				t.Fatalf("the fast decoder took a line the slow one refuses (%v): %q", err, line)
			}
			if seenFast != seenSlow || !reflect.DeepEqual(normalize(fast), normalize(slow)) {
				t.Fatalf("fast %+v and slow %+v decoders disagree on %q", fast, slow, line)
			}
		}
	})
}

// lineOf is the 1-based line n of data.
func lineOf(data []byte, n int) []byte {
	lines := strings.Split(string(data), "\n")
	if n < 1 || n > len(lines) {
		return nil
	}
	return []byte(lines[n-1])
}
