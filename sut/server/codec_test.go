package server

import (
	"bufio"
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/faultline/faultline/sut/raft"
)

func sampleMessages() []raft.Message {
	return []raft.Message{
		{Type: raft.MsgVote, From: "n1", To: "n2", Term: 7, LogTerm: 6, Index: 99},
		{Type: raft.MsgApp, From: "n1", To: "n3", Term: 7, LogTerm: 7, Index: 10, Commit: 9, Entries: []raft.Entry{
			{Term: 7, Index: 11, Type: raft.EntryNormal, Data: []byte(`{"op":"put"}`)},
			{Term: 7, Index: 12, Type: raft.EntryNoOp},
			{Term: 7, Index: 13, Type: raft.EntryConfig, Data: []byte(`{"voters":["n1"]}`)},
		}},
		{Type: raft.MsgAppResp, From: "n3", To: "n1", Term: 7, Index: 10, Reject: true, RejectHint: 4},
		{Type: raft.MsgHeartbeat, From: "n1", To: "n2", Term: 7, Commit: 12, Context: 1 << 40},
		{Type: raft.MsgSnap, From: "n1", To: "n4", Term: 8, Offset: 65536, Data: []byte("chunk"), Done: true,
			SnapMeta: &raft.SnapshotMeta{Index: 500, Term: 8, Membership: raft.Membership{
				Voters: []string{"n1", "n2"}, Outgoing: []string{"n1"}, Learners: []string{"n4"},
				Addrs: map[string]string{"n1": "a:1", "n2": "b:2", "n4": "d:4"}}}},
		{},
	}
}

func TestCodecRoundTrip(t *testing.T) {
	var buf []byte
	var err error
	msgs := sampleMessages()
	for i := range msgs {
		if buf, err = appendMessage(buf, &msgs[i]); err != nil {
			t.Fatal(err)
		}
		buf = append(buf, keepaliveFrame...) // keepalives between messages are skipped
	}
	r := bufio.NewReader(bytes.NewReader(buf))
	for i, want := range msgs {
		got, err := readMessage(r)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("message %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
	if _, err := readMessage(r); err != io.EOF {
		t.Fatalf("after the last frame: %v, want io.EOF", err)
	}
}

func TestCodecRejectsDamage(t *testing.T) {
	m := sampleMessages()[1]
	frame, err := appendMessage(nil, &m)
	if err != nil {
		t.Fatal(err)
	}
	// Every truncation of the frame is an error, never a wrong message.
	for cut := 1; cut < len(frame); cut++ {
		if _, err := readMessage(bufio.NewReader(bytes.NewReader(frame[:cut]))); err == nil {
			t.Fatalf("frame cut at %d of %d decoded", cut, len(frame))
		}
	}
	// A body with a bad version or trailing garbage is refused.
	body := frame[1:] // the length fits in one byte here
	bad := append([]byte{9}, body[1:]...)
	if _, err := decodeMessage(bad); err == nil || !strings.Contains(err.Error(), "version") {
		t.Fatalf("bad version: %v", err)
	}
	if _, err := decodeMessage(append(append([]byte{}, body...), 0)); err == nil || !strings.Contains(err.Error(), "trailing") {
		t.Fatalf("trailing byte: %v", err)
	}
	// An absurd length is refused before allocating.
	huge := []byte{0xff, 0xff, 0xff, 0xff, 0x7f}
	if _, err := readMessage(bufio.NewReader(bytes.NewReader(huge))); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("huge frame: %v", err)
	}
}

func FuzzDecodeMessage(f *testing.F) {
	for _, m := range sampleMessages() {
		frame, _ := appendMessage(nil, &m)
		f.Add(frame)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := readMessage(bufio.NewReader(bytes.NewReader(b)))
		if err != nil {
			return
		}
		// Whatever decodes re-encodes to a frame that decodes the same.
		again, err := appendMessage(nil, &m)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := readMessage(bufio.NewReader(bytes.NewReader(again)))
		if err != nil || !reflect.DeepEqual(m, m2) {
			t.Fatalf("re-decoding: %v\n%+v\n%+v", err, m, m2)
		}
	})
}
