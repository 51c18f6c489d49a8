package server

import (
	"fmt"
	"testing"

	"github.com/faultline/faultline/sut/raft"
)

func app(to string, prevIndex, prevTerm, commit uint64, idx ...uint64) raft.Message {
	m := raft.Message{Type: raft.MsgApp, From: "n1", To: to, Term: 2, Index: prevIndex, LogTerm: prevTerm, Commit: commit}
	for _, i := range idx {
		m.Entries = append(m.Entries, raft.Entry{Term: 2, Index: i})
	}
	return m
}

func describe(msgs []raft.Message) string {
	s := ""
	for _, m := range msgs {
		s += fmt.Sprintf("%v>%s@%d/%d[", m.Type, m.To, m.Index, m.Commit)
		for _, e := range m.Entries {
			s += fmt.Sprint(e.Index, " ")
		}
		s += "] "
	}
	return s
}

func TestCoalesceAppends(t *testing.T) {
	hb := raft.Message{Type: raft.MsgHeartbeat, From: "n1", To: "n2", Term: 2}
	cases := []struct {
		name string
		in   []raft.Message
		want []raft.Message
	}{
		{"contiguous appends to one peer merge",
			[]raft.Message{app("n2", 4, 2, 3, 5), app("n2", 5, 2, 4, 6), app("n2", 6, 2, 4, 7, 8)},
			[]raft.Message{app("n2", 4, 2, 4, 5, 6, 7, 8)}},
		{"peers are merged separately, order per peer kept",
			[]raft.Message{app("n2", 4, 2, 3, 5), app("n3", 4, 2, 3, 5), app("n2", 5, 2, 3, 6), app("n3", 5, 2, 3, 6)},
			[]raft.Message{app("n2", 4, 2, 3, 5, 6), app("n3", 4, 2, 3, 5, 6)}},
		{"a gap is not merged",
			[]raft.Message{app("n2", 4, 2, 3, 5), app("n2", 9, 2, 3, 10)},
			[]raft.Message{app("n2", 4, 2, 3, 5), app("n2", 9, 2, 3, 10)}},
		{"another message in between keeps its place",
			[]raft.Message{app("n2", 4, 2, 3, 5), hb, app("n2", 5, 2, 3, 6)},
			[]raft.Message{app("n2", 4, 2, 3, 5), hb, app("n2", 5, 2, 3, 6)}},
		{"an empty append (a probe) is left alone",
			[]raft.Message{app("n2", 4, 2, 3), app("n2", 4, 2, 3, 5)},
			[]raft.Message{app("n2", 4, 2, 3), app("n2", 4, 2, 3, 5)}},
	}
	for _, tc := range cases {
		in := describe(tc.in)
		got := coalesceAppends(tc.in)
		if describe(got) != describe(tc.want) {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, describe(got), describe(tc.want))
		}
		if describe(tc.in) != in {
			t.Errorf("%s: the input messages were modified", tc.name)
		}
	}
}
