package junit

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
	"time"
)

func TestCountsAndDocumentRoundTrip(t *testing.T) {
	s := Suite{Name: "run", Time: Seconds(1500 * time.Millisecond)}
	s.Add(Case{Name: "held", Classname: "c"})
	s.Add(Case{Name: "failed", Classname: "c", Failure: &Problem{Message: "lost commit", Type: "lost-commit", Body: "k1 <&> gone"}})
	s.Add(Case{Name: "undecided", Classname: "c", Error: &Problem{Message: "unknown", Type: "unknown"}})
	if s.Tests != 3 || s.Failures != 1 || s.Errors != 1 {
		t.Fatalf("suite counts tests=%d failures=%d errors=%d, want 3 1 1", s.Tests, s.Failures, s.Errors)
	}
	d := Suites{Name: "faultline"}
	d.Add(s)
	d.Add(Suite{Name: "empty"})
	if d.Tests != 3 || d.Failures != 1 || d.Errors != 1 || len(d.Suites) != 2 {
		t.Fatalf("document counts %+v", d)
	}
	var b bytes.Buffer
	if err := Write(&b, d); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), xml.Header) || !strings.HasSuffix(b.String(), "\n") {
		t.Errorf("document lacks its header or final newline:\n%s", b.String())
	}
	var back Suites
	if err := xml.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if got := back.Suites[0].Cases[1].Failure; got == nil || got.Body != "k1 <&> gone" || got.Type != "lost-commit" {
		t.Errorf("failure read back as %+v", got)
	}
	if back.Suites[0].Time != "1.500" {
		t.Errorf("time attribute %q, want 1.500", back.Suites[0].Time)
	}
}
