package wal

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/faultline/faultline/sut/raft"
	"pgregory.net/rapid"
)

// logModel is the meaning of a data directory: what Open must return after
// any sequence of Saves and SaveSnapshots.
type logModel struct {
	hs                  raft.HardState
	snapIndex, snapTerm uint64
	ents                []raft.Entry // after snapIndex
}

func (m *logModel) last() uint64 { return m.snapIndex + uint64(len(m.ents)) }

func (m *logModel) termAt(i uint64) uint64 {
	switch {
	case i == m.snapIndex:
		return m.snapTerm
	case i > m.snapIndex && i <= m.last():
		return m.ents[i-m.snapIndex-1].Term
	}
	return 0
}

// TestReplayMatchesModel drives random Saves (with overwritten suffixes),
// snapshots (agreeing with the log or not) and restarts, and checks after
// every step that reopening the directory gives exactly the model's state.
func TestReplayMatchesModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		dir, err := os.MkdirTemp("", "wal-model-")
		if err != nil {
			rt.Fatal(err)
		}
		defer os.RemoveAll(dir)
		w, _, err := Open(dir, testOptions())
		if err != nil {
			rt.Fatal(err)
		}
		defer func() { w.Close() }()
		var m logModel
		term := uint64(1)

		rt.Repeat(map[string]func(*rapid.T){
			"save": func(rt *rapid.T) {
				first := rapid.Uint64Range(m.snapIndex+1, m.last()+1).Draw(rt, "first")
				n := rapid.IntRange(0, 4).Draw(rt, "n")
				if rapid.Bool().Draw(rt, "new term") {
					term++
				}
				var ents []raft.Entry
				for i := range n {
					idx := first + uint64(i)
					ents = append(ents, raft.Entry{Term: term, Index: idx, Type: raft.EntryNormal, Data: []byte(fmt.Sprint(term, "/", idx))})
				}
				hs := raft.HardState{}
				if rapid.Bool().Draw(rt, "with hard state") {
					hs = raft.HardState{Term: term, Vote: rapid.SampledFrom([]string{"", "n1", "n2"}).Draw(rt, "vote"), Commit: first - 1}
				}
				if err := w.Save(hs, ents, rapid.Bool().Draw(rt, "sync")); err != nil {
					rt.Fatalf("Save: %v", err)
				}
				if n > 0 {
					m.ents = append(m.ents[:first-m.snapIndex-1], ents...)
				}
				if !hs.IsEmpty() {
					m.hs = hs
				}
			},
			"snapshot": func(rt *rapid.T) {
				idx := rapid.Uint64Range(1, m.last()+2).Draw(rt, "index")
				st := m.termAt(idx)
				if st == 0 || rapid.IntRange(0, 4).Draw(rt, "conflict") == 0 {
					st = term + 1
				}
				snap := raft.Snapshot{Meta: raft.SnapshotMeta{Index: idx, Term: st}, Data: []byte(fmt.Sprint("image@", idx))}
				if err := w.SaveSnapshot(snap); err != nil {
					rt.Fatalf("SaveSnapshot: %v", err)
				}
				if idx <= m.snapIndex {
					return
				}
				if m.termAt(idx) == st {
					m.ents = append([]raft.Entry(nil), m.ents[idx-m.snapIndex:]...)
				} else {
					m.ents = nil
				}
				m.snapIndex, m.snapTerm = idx, st
			},
			// A crash right after the snapshot file became durable, before
			// the log rolled: the whole old log is still there.
			"crash after snapshot file": func(rt *rapid.T) {
				idx := rapid.Uint64Range(m.snapIndex+1, m.last()+2).Draw(rt, "index")
				st := m.termAt(idx)
				if st == 0 || rapid.IntRange(0, 4).Draw(rt, "conflict") == 0 {
					st = term + 1
				}
				img, err := encodeSnapshot(raft.Snapshot{Meta: raft.SnapshotMeta{Index: idx, Term: st}, Data: []byte(fmt.Sprint("image@", idx))})
				if err != nil {
					rt.Fatal(err)
				}
				w.Close()
				if err := os.WriteFile(filepath.Join(dir, snapshotName(idx)), img, 0o644); err != nil {
					rt.Fatal(err)
				}
				if m.termAt(idx) == st {
					m.ents = append([]raft.Entry(nil), m.ents[idx-m.snapIndex:]...)
				} else {
					m.ents = nil
				}
				m.snapIndex, m.snapTerm = idx, st
				if w, _, err = Open(dir, testOptions()); err != nil {
					rt.Fatalf("reopen after a crash: %v", err)
				}
			},
			"restart": func(rt *rapid.T) {
				if rapid.Bool().Draw(rt, "clean close") {
					w.Close()
				}
				var st State
				w, st, err = Open(dir, testOptions())
				if err != nil {
					rt.Fatalf("reopen: %v", err)
				}
				if st.HardState != m.hs {
					rt.Fatalf("hard state %+v, want %+v", st.HardState, m.hs)
				}
				if m.snapIndex == 0 {
					if st.Snapshot != nil {
						rt.Fatalf("unexpected snapshot %+v", st.Snapshot.Meta)
					}
				} else if st.Snapshot == nil || st.Snapshot.Meta.Index != m.snapIndex || st.Snapshot.Meta.Term != m.snapTerm ||
					string(st.Snapshot.Data) != fmt.Sprint("image@", m.snapIndex) {
					rt.Fatalf("snapshot %+v, want index %d term %d", st.Snapshot, m.snapIndex, m.snapTerm)
				}
				if len(st.Entries) != len(m.ents) || (len(m.ents) > 0 && !reflect.DeepEqual(st.Entries, m.ents)) {
					rt.Fatalf("entries %v, want %v", st.Entries, m.ents)
				}
			},
			"": func(rt *rapid.T) {
				if w.LastIndex() != m.last() {
					rt.Fatalf("LastIndex %d, model %d", w.LastIndex(), m.last())
				}
			},
		})
	})
}

// TestEveryCrashPointRecoversAPrefix cuts a log of several batches at every
// byte offset, as a crash could, and checks that Open never fails and
// returns a prefix of the log holding at least every batch completed before
// the cut.
func TestEveryCrashPointRecoversAPrefix(t *testing.T) {
	dir := t.TempDir()
	w, _ := mustOpen(t, dir, testOptions())
	var ends []int64 // segment size after each batch
	all := entries(1, 12, 0)
	for i := range all {
		all[i] = entries(all[i].Index, all[i].Index, uint64(i/3)+1)[0]
	}
	path := onlySegment(t, dir)
	for b := uint64(0); b < 4; b++ {
		mustSave(t, w, raft.HardState{Term: b + 1, Commit: 3 * b}, entries(3*b+1, 3*b+3, b+1))
		st, _ := os.Stat(path)
		ends = append(ends, st.Size())
	}
	w.Close()
	full, _ := os.ReadFile(path)
	meta, _ := os.ReadFile(dir + "/" + metaName)

	d := t.TempDir()
	os.WriteFile(d+"/"+metaName, meta, 0o644)
	for cut := int64(0); cut <= int64(len(full)); cut++ {
		os.WriteFile(d+"/"+segmentName(1), full[:cut], 0o644)
		w, st, err := Open(d, testOptions())
		if err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		w.Close()
		batches := 0
		for _, e := range ends {
			if e <= cut {
				batches++
			}
		}
		// Whole records of a torn batch may survive; never less than the
		// complete batches, never a changed or out-of-order entry.
		if n := len(st.Entries); n < 3*batches || (n > 0 && !reflect.DeepEqual(st.Entries, all[:n])) {
			t.Fatalf("cut at %d: entries %v, want a prefix of the log with the %d complete batches", cut, indexes(st.Entries), batches)
		}
		if batches > 0 && st.HardState.Term < uint64(batches) {
			t.Fatalf("cut at %d: hard state %+v lost a complete batch", cut, st.HardState)
		}
	}
}
