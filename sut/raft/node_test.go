package raft

import (
	"strings"
	"testing"
)

func TestNewRawNodeRejectsBadConfig(t *testing.T) {
	boot := Membership{Voters: []string{"n1"}}
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no id", Config{ElectionTick: 10, HeartbeatTick: 1}, "field ID"},
		{"no heartbeat", Config{ID: "n1", ElectionTick: 10}, "field HeartbeatTick"},
		{"election not above heartbeat", Config{ID: "n1", ElectionTick: 2, HeartbeatTick: 2}, "field ElectionTick"},
		{"drift out of range", Config{ID: "n1", ElectionTick: 10, HeartbeatTick: 1, MaxClockDrift: 1}, "field MaxClockDrift"},
		{"unknown read mode", Config{ID: "n1", ElectionTick: 10, HeartbeatTick: 1, ReadMode: 9}, "field ReadMode"},
		{"duplicate voter", Config{ID: "n1", ElectionTick: 10, HeartbeatTick: 1, Bootstrap: Membership{Voters: []string{"a", "a"}}}, "field Bootstrap"},
		{"gap in entries", Config{ID: "n1", ElectionTick: 10, HeartbeatTick: 1, Bootstrap: boot,
			HardState: HardState{Term: 1}, Entries: []Entry{{Term: 1, Index: 1}, {Term: 1, Index: 3}}}, "field Entries: entry 1 has index 3"},
		{"commit beyond log", Config{ID: "n1", ElectionTick: 10, HeartbeatTick: 1, Bootstrap: boot,
			HardState: HardState{Term: 1, Commit: 5}, Entries: []Entry{{Term: 1, Index: 1}}}, "field HardState.Commit"},
		{"term below log", Config{ID: "n1", ElectionTick: 10, HeartbeatTick: 1, Bootstrap: boot,
			HardState: HardState{Term: 1}, Entries: []Entry{{Term: 2, Index: 1}}}, "field HardState.Term"},
		{"bad config entry", Config{ID: "n1", ElectionTick: 10, HeartbeatTick: 1, Bootstrap: boot,
			HardState: HardState{Term: 1}, Entries: []Entry{{Term: 1, Index: 1, Type: EntryConfig, Data: []byte("{")}}}, "config entry at index 1"},
	}
	for _, tc := range cases {
		_, err := NewRawNode(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
}

func TestStepRejectsForeignAndMalformedMessages(t *testing.T) {
	n, err := NewRawNode(Config{ID: "n1", ElectionTick: 10, HeartbeatTick: 1, Bootstrap: Membership{Voters: three}})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []Message{
		{Type: MsgApp, From: "n2", To: "n9", Term: 1},
		{Type: MsgApp, From: "", To: "n1", Term: 1},
		{Type: 99, From: "n2", To: "n1", Term: 1},
		{Type: MsgSnap, From: "n2", To: "n1", Term: 1},
	} {
		if err := n.Step(m); err == nil {
			t.Errorf("accepted %+v", m)
		}
	}
	// A stale message is ignored without error or state change.
	n.term = 5
	if err := n.Step(Message{Type: MsgVote, From: "n2", To: "n1", Term: 3}); err != nil || n.term != 5 || n.vote != "" {
		t.Fatalf("stale vote request: err %v term %d vote %q", err, n.term, n.vote)
	}
}

// Ready/Advance: entries are handed out once, become stable on Advance,
// committed entries are applied once, and a truncation re-emits the
// replacement entries.
func TestReadyAdvanceContract(t *testing.T) {
	n, err := NewRawNode(Config{ID: "n1", ElectionTick: 10, HeartbeatTick: 1, Bootstrap: Membership{Voters: []string{"n1"}}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20 && n.role != Leader; i++ {
		n.Tick()
	}
	if n.role != Leader {
		t.Fatal("single voter did not elect itself")
	}
	rd := n.Ready()
	if rd.SoftState == nil || rd.SoftState.Role != Leader || rd.HardState.Term != 1 || rd.HardState.Vote != "n1" || !rd.MustSync {
		t.Fatalf("first ready: soft %+v hard %+v sync %v", rd.SoftState, rd.HardState, rd.MustSync)
	}
	// The leader's own copy counts only once persisted: the no-op is
	// handed out for persisting first, and commits after Advance.
	if len(rd.Entries) != 1 || rd.Entries[0].Type != EntryNoOp || len(rd.CommittedEntries) != 0 {
		t.Fatalf("no-op should be persisted first: %+v / %+v", rd.Entries, rd.CommittedEntries)
	}
	n.Advance(rd)
	rd = n.Ready()
	if len(rd.Entries) != 0 || len(rd.CommittedEntries) != 1 || rd.HardState.Commit != 1 {
		t.Fatalf("no-op should commit once persisted: %+v", rd)
	}
	n.Advance(rd)
	if n.HasReady() {
		t.Fatalf("work left after Advance: %+v", n.Ready())
	}
	idx, term, err := n.Propose([]byte("x"))
	if err != nil || idx != 2 || term != 1 {
		t.Fatalf("propose: %d %d %v", idx, term, err)
	}
	rd = n.Ready()
	if len(rd.Entries) != 1 || len(rd.CommittedEntries) != 0 {
		t.Fatalf("second ready %+v", rd)
	}
	n.Advance(rd)
	rd = n.Ready()
	if len(rd.CommittedEntries) != 1 || rd.HardState.Commit != 2 {
		t.Fatalf("third ready %+v", rd)
	}
	n.Advance(rd)
	if st := n.Status(); st.Applied != 2 || st.Commit != 2 || st.LastIndex != 2 || st.Lead != "n1" {
		t.Fatalf("status %+v", st)
	}

	// Follower side: a truncation lowers the stable index so the
	// replacement entries are handed out again.
	f, _ := NewRawNode(Config{ID: "f", ElectionTick: 10, HeartbeatTick: 1, Bootstrap: Membership{Voters: []string{"l", "f"}}})
	_ = f.Step(Message{Type: MsgApp, From: "l", To: "f", Term: 1, Entries: []Entry{{Term: 1, Index: 1}, {Term: 1, Index: 2}}})
	f.Advance(f.Ready())
	_ = f.Step(Message{Type: MsgApp, From: "l2", To: "f", Term: 2, Index: 1, LogTerm: 1, Entries: []Entry{{Term: 2, Index: 2, Data: []byte("new")}}})
	rd = f.Ready()
	if len(rd.Entries) != 1 || rd.Entries[0].Term != 2 || rd.Entries[0].Index != 2 {
		t.Fatalf("replacement entries not re-emitted: %+v", rd.Entries)
	}
}

func TestMembershipEncodingRoundTrip(t *testing.T) {
	m := Membership{Voters: []string{"a", "b"}, Outgoing: []string{"a"}, Learners: []string{"c"}, Addrs: map[string]string{"a": "h:1", "b": "h:2", "c": "h:3"}}
	got, err := DecodeMembership(EncodeMembership(m))
	if err != nil {
		t.Fatal(err)
	}
	if got.Joint() != true || len(got.Voters) != 2 || got.Addrs["c"] != "h:3" {
		t.Fatalf("round trip %+v", got)
	}
	if _, err := DecodeMembership([]byte(`{"voters":["a"],"learners":["a"]}`)); err == nil {
		t.Fatal("a voter that is also a learner was accepted")
	}
}
