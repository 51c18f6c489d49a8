package history

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Bytes that are not UTF-8, and escapes of code points that do not exist,
// are refused with their line: encoding/json would have replaced them with
// U+FFFD silently, and two different keys would have become one.
func TestReaderRefusesInvalidUTF8(t *testing.T) {
	cases := map[string]string{
		"raw byte in key":         "{\"time\":3,\"process\":1,\"type\":\"invoke\",\"f\":\"write\",\"key\":\"a\xffb\",\"value\":1}",
		"raw byte in value":       "{\"time\":3,\"process\":1,\"type\":\"invoke\",\"f\":\"write\",\"key\":\"a\",\"value\":\"x\xfey\"}",
		"lone surrogate escape":   `{"time":3,"process":1,"type":"invoke","f":"write","key":"a","value":"x\udc00y"}`,
		"surrogate in key":        `{"time":3,"process":1,"type":"invoke","f":"write","key":"a\ud800","value":1}`,
		"raw byte in extra field": "{\"time\":3,\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"key\":\"a\",\"note\":\"\xc3\"}",
	}
	for name, line := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Read(strings.NewReader(goodPrefix + line + "\n"))
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line != 3 {
				t.Fatalf("error %v, want a ParseError at line 3", err)
			}
			if !strings.Contains(err.Error(), "UTF-8") && !strings.Contains(err.Error(), "surrogate") {
				t.Fatalf("error %q does not say what is wrong", err)
			}
		})
	}
}

// Valid escapes and non-ASCII text are kept exactly, on the fast path and
// on the slow one alike.
func TestReaderKeepsBytesExactly(t *testing.T) {
	text := `{"time":1,"process":1,"type":"invoke","f":"write","key":"k\u00e9","value":"a\u0000b"}
{"time":2,"process":1,"type":"ok","f":"write","key":"ké","value":"a\u0000b"}
{"time":3,"process":2,"type":"invoke","f":"write","key":"k\\","value":"\ud83d\ude00"}
`
	events, err := Read(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if events[0].Key != "ké" || events[1].Key != "ké" || events[0].Value != "a\x00b" || events[2].Key != `k\` || events[2].Value != "😀" {
		t.Fatalf("decoded %+v", events)
	}
}

// The fast path and jsontext agree on every line the fast path takes.
func TestFastAndSlowDecodersAgree(t *testing.T) {
	lines := []string{
		`{"time":1,"process":3,"type":"invoke","f":"write","key":"k7","value":42}`,
		`{ "time" : 2 , "process" : "nemesis" , "type" : "info" , "f" : "kill-start" , "value" : { "nodes" : [ "n1" , "n2" ] , "x" : [ ] } }`,
		`{"time":3,"process":4,"type":"ok","f":"read","key":"k","value":[1,-2.5e3,"a",null,true,false,[],{}],"node":"n2","latency":77,"extra":{"a":[1]}}`,
		`{"time":4,"process":5,"type":"fail","f":"cas","key":"k","value":[1,2],"error":"precondition failed"}`,
		`{"time":5,"process":6,"type":"invoke","f":"read","key":"k","value":null}`,
		`{}`,
	}
	for _, line := range lines {
		d := newLineDecoder()
		var fast, slow RawEvent
		seenFast, ok := d.fast([]byte(line), &fast)
		if !ok {
			t.Fatalf("fast path refused %s", line)
		}
		seenSlow, err := d.slow([]byte(line), &slow)
		if err != nil {
			t.Fatalf("slow path: %v on %s", err, line)
		}
		if seenFast != seenSlow || !reflect.DeepEqual(normalize(fast), normalize(slow)) {
			t.Errorf("fast %+v (%b) != slow %+v (%b) on %s", fast, seenFast, slow, seenSlow, line)
		}
	}
	for _, line := range []string{`{"time":01}`, `{"time":1,}`, `{"time":1 "f":"x"}`, `{"value":[1,]}`, `{"value":tru}`, `{"time":1,"time":2}`, `{"a":"\n"}`} {
		var e RawEvent
		if _, ok := newLineDecoder().fast([]byte(line), &e); ok {
			t.Errorf("fast path accepted %s", line)
		}
	}
}

// normalize compares values by meaning, since the fast path keeps the
// value's text with its spaces.
func normalize(e RawEvent) RawEvent {
	if e.Value != nil {
		var buf bytes.Buffer
		json.Compact(&buf, e.Value)
		e.Value = buf.Bytes()
	}
	return e
}

func TestRawValueKeyIsValueKey(t *testing.T) {
	for _, raw := range []string{`1`, `-2.50e+3`, `"abc"`, `"a b"`, `"<&>"`, `"é"`, `"a\"b"`, `[1,"<",[2]]`, `[1, 2]`,
		`{"b":1,"a":2}`, `true`, `"\u0001"`, `12345678901234567890`, `[]`} {
		v, err := DecodeValue([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := RawValueKey([]byte(raw)), ValueKey(v); got != want {
			t.Errorf("RawValueKey(%s) = %s, want %s", raw, got, want)
		}
	}
}

// A Tolerant reader follows a file still being written: a half-written last
// line waits for its newline, and nothing is read twice.
func TestTolerantReaderFollowsAGrowingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.jsonl")
	w, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := NewReader(f, path, Tolerant)
	line := `{"time":5,"process":1,"type":"invoke","f":"read","key":"k"}` + "\n"
	w.WriteString(goodPrefix + line[:20])
	var got []Event
	drain := func() {
		for {
			e, err := r.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, e)
		}
	}
	drain()
	if len(got) != 2 || r.Offset() != int64(len(goodPrefix)) {
		t.Fatalf("after a half-written line: %d events, offset %d", len(got), r.Offset())
	}
	w.WriteString(line[20:])
	drain()
	if len(got) != 3 || got[2].Time != 5 || r.Line() != 3 || r.Index() != 2 {
		t.Fatalf("after the rest of the line: %+v (line %d)", got, r.Line())
	}
}

// A Strict reader reports a half-written last line as truncated; a caller
// that lists problems can read on past a bad complete line.
func TestReaderGoesOnAfterABadLine(t *testing.T) {
	text := goodPrefix + "{oops}\n" + `{"time":9,"process":1,"type":"invoke","f":"read","key":"k"}` + "\n" + `{"time":10,"proc`
	r := NewReader(strings.NewReader(text), DefaultName, Strict)
	var lines []int
	var problems []string
	for {
		_, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *ParseError
		if errors.As(err, &pe) {
			problems = append(problems, err.Error())
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, r.Line())
	}
	if !reflect.DeepEqual(lines, []int{1, 2, 4}) || len(problems) != 2 ||
		!strings.HasPrefix(problems[0], DefaultName+":3: malformed JSON") || !strings.Contains(problems[1], ":5: truncated last line") {
		t.Fatalf("events at lines %v, problems %q", lines, problems)
	}
}

func TestRawList(t *testing.T) {
	for raw, want := range map[string][]string{
		`[1, "a\"b", [2,3], {"x":1}]`: {`1`, `"a\"b"`, `[2,3]`, `{"x":1}`},
		`[]`:                          {},
		`[ 5 ]`:                       {`5`},
	} {
		got, ok := RawList([]byte(raw))
		if !ok || len(got) != len(want) {
			t.Fatalf("RawList(%s) = %q, %v", raw, got, ok)
		}
		for i := range want {
			if RawValueKey(got[i]) != RawValueKey([]byte(want[i])) {
				t.Errorf("RawList(%s)[%d] = %s, want %s", raw, i, got[i], want[i])
			}
		}
	}
	for _, raw := range []string{`5`, `"[1]"`, `[1,]`, ``} {
		if _, ok := RawList([]byte(raw)); ok {
			t.Errorf("RawList(%s) accepted", raw)
		}
	}
}
