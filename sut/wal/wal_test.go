package wal

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/faultline/faultline/sut/raft"
)

func testOptions() Options {
	return Options{NodeID: "n1", Cluster: "c1", NoSync: true, Logger: slog.New(slog.DiscardHandler)}
}

func mustOpen(t *testing.T, dir string, opt Options) (*WAL, State) {
	t.Helper()
	w, st, err := Open(dir, opt)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { w.Close() })
	return w, st
}

// entries builds entries lo..hi (inclusive) of term, with data naming both.
func entries(lo, hi, term uint64) []raft.Entry {
	var out []raft.Entry
	for i := lo; i <= hi; i++ {
		out = append(out, raft.Entry{Term: term, Index: i, Data: []byte(fmt.Sprintf("t%d-i%d", term, i))})
	}
	return out
}

func indexes(ents []raft.Entry) []uint64 {
	var out []uint64
	for _, e := range ents {
		out = append(out, e.Index)
	}
	return out
}

func mustSave(t *testing.T, w *WAL, hs raft.HardState, ents []raft.Entry) {
	t.Helper()
	if err := w.Save(hs, ents, true); err != nil {
		t.Fatalf("Save: %v", err)
	}
}

func onlySegment(t *testing.T, dir string) string {
	t.Helper()
	segs, err := listNumbered(dir, segmentPrefix, segmentSuffix)
	if err != nil || len(segs) != 1 {
		t.Fatalf("want exactly one segment, got %v (%v)", segs, err)
	}
	return segs[0].path
}

func TestSaveAndReopen(t *testing.T) {
	dir := t.TempDir()
	w, st := mustOpen(t, dir, testOptions())
	if !st.HardState.IsEmpty() || st.Snapshot != nil || len(st.Entries) != 0 {
		t.Fatalf("fresh directory replayed %+v", st)
	}
	hs := raft.HardState{Term: 3, Vote: "n2", Commit: 2}
	want := append(entries(1, 2, 1), raft.Entry{Term: 3, Index: 3, Type: raft.EntryNoOp})
	mustSave(t, w, hs, want)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, st = mustOpen(t, dir, testOptions())
	if st.HardState != hs {
		t.Fatalf("hard state %+v, want %+v", st.HardState, hs)
	}
	if !reflect.DeepEqual(st.Entries, want) {
		t.Fatalf("entries %+v, want %+v", st.Entries, want)
	}
}

func TestOverwriteReplay(t *testing.T) {
	dir := t.TempDir()
	w, _ := mustOpen(t, dir, testOptions())
	mustSave(t, w, raft.HardState{Term: 1}, entries(1, 5, 1))
	// A new leader replaces 3..5 with 3..4 of term 2.
	mustSave(t, w, raft.HardState{Term: 2}, entries(3, 4, 2))
	want := append(entries(1, 2, 1), entries(3, 4, 2)...)
	w.Close()

	w, st := mustOpen(t, dir, testOptions())
	if !reflect.DeepEqual(st.Entries, want) {
		t.Fatalf("replayed %v, want %v", st.Entries, want)
	}
	// And again after a restart: replace from 2 on.
	mustSave(t, w, raft.HardState{Term: 3}, entries(2, 2, 3))
	w.Close()
	_, st = mustOpen(t, dir, testOptions())
	want = append(entries(1, 1, 1), entries(2, 2, 3)...)
	if !reflect.DeepEqual(st.Entries, want) || st.HardState.Term != 3 {
		t.Fatalf("replayed %v (hs %+v), want %v", st.Entries, st.HardState, want)
	}
}

func TestSaveRefusesGapsAndDisorder(t *testing.T) {
	w, _ := mustOpen(t, t.TempDir(), testOptions())
	mustSave(t, w, raft.HardState{}, entries(1, 3, 1))
	if err := w.Save(raft.HardState{}, entries(5, 6, 1), true); err == nil || !strings.Contains(err.Error(), "gap") {
		t.Fatalf("Save with a gap: %v", err)
	}
	bad := []raft.Entry{{Term: 1, Index: 4}, {Term: 1, Index: 6}}
	if err := w.Save(raft.HardState{}, bad, true); err == nil || !strings.Contains(err.Error(), "ents[1]") {
		t.Fatalf("Save of non-contiguous entries: %v", err)
	}
	if w.LastIndex() != 3 {
		t.Fatalf("a refused Save changed the log: last index %d", w.LastIndex())
	}
}

// tornCase damages the tail of a segment holding entries 1..3 in one way.
type tornCase struct {
	name   string
	damage func(t *testing.T, path string, lastRecordOffset int64)
}

func TestTornTailIsTruncatedAndLogged(t *testing.T) {
	cases := []tornCase{
		{"short payload", func(t *testing.T, path string, _ int64) {
			st, _ := os.Stat(path)
			if err := os.Truncate(path, st.Size()-3); err != nil {
				t.Fatal(err)
			}
		}},
		{"short header", func(t *testing.T, path string, off int64) {
			if err := os.Truncate(path, off+4); err != nil {
				t.Fatal(err)
			}
		}},
		{"last record never written (zeros)", func(t *testing.T, path string, off int64) {
			b, _ := os.ReadFile(path)
			clear(b[off:])
			os.WriteFile(path, b, 0o644)
		}},
		{"zero-filled tail", func(t *testing.T, path string, _ int64) {
			f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			f.Write(make([]byte, 100))
			f.Close()
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			w, _ := mustOpen(t, dir, testOptions())
			mustSave(t, w, raft.HardState{}, entries(1, 2, 1))
			path := onlySegment(t, dir)
			st, _ := os.Stat(path)
			lastOff := st.Size()
			mustSave(t, w, raft.HardState{}, entries(3, 3, 1))
			w.Close()

			tc.damage(t, path, lastOff)
			var logs bytes.Buffer
			opt := testOptions()
			opt.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			wantEntries := entries(1, 2, 1)
			if tc.name == "zero-filled tail" {
				// The records were intact; only the zeros go.
				wantEntries = entries(1, 3, 1)
				lastOff = st.Size() + int64(len(appendEntryRecord(nil, entries(3, 3, 1)[0])))
			}
			w2, rst := mustOpen(t, dir, opt)
			if !reflect.DeepEqual(rst.Entries, wantEntries) {
				t.Fatalf("replayed %v, want %v", indexes(rst.Entries), indexes(wantEntries))
			}
			out := logs.String()
			if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "file="+path) ||
				!strings.Contains(out, fmt.Sprintf("offset=%d", lastOff)) {
				t.Fatalf("truncation not logged with file and offset %d:\n%s", lastOff, out)
			}
			if got, _ := os.Stat(path); got.Size() != lastOff {
				t.Fatalf("segment is %d bytes after recovery, want %d", got.Size(), lastOff)
			}
			// The log keeps working after the truncation.
			next := uint64(len(wantEntries)) + 1
			mustSave(t, w2, raft.HardState{}, entries(next, next, 2))
			w2.Close()
			_, rst = mustOpen(t, dir, testOptions())
			if rst.Entries[len(rst.Entries)-1].Index != next {
				t.Fatalf("after truncation and a new Save: %v", indexes(rst.Entries))
			}
		})
	}
}

func TestCorruptMiddleRecordNamesFileAndOffset(t *testing.T) {
	dir := t.TempDir()
	w, _ := mustOpen(t, dir, testOptions())
	mustSave(t, w, raft.HardState{}, entries(1, 1, 1))
	path := onlySegment(t, dir)
	st, _ := os.Stat(path)
	secondOff := st.Size()
	mustSave(t, w, raft.HardState{}, entries(2, 4, 1))
	w.Close()

	b, _ := os.ReadFile(path)
	b[secondOff+headerSize+3] ^= 0x01 // a payload byte of entry 2
	os.WriteFile(path, b, 0o644)

	_, _, err := Open(dir, testOptions())
	var ce *CorruptError
	if !errors.As(err, &ce) {
		t.Fatalf("Open of a corrupt log: %v, want a *CorruptError", err)
	}
	if ce.File != path || ce.Offset != secondOff {
		t.Fatalf("error names %s at %d, want %s at %d", ce.File, ce.Offset, path, secondOff)
	}
	if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, fmt.Sprintf("byte offset %d", secondOff)) {
		t.Fatalf("message %q does not name file and offset", msg)
	}
	// Nothing was repaired behind our back.
	if after, _ := os.ReadFile(path); !bytes.Equal(after, b) {
		t.Fatal("Open modified a corrupt segment")
	}
}

// The reproduction: one byte of the length field of a record in the
// middle of the only segment flipped. The record then claims to extend past
// the end of the file, yet valid records follow it: damage, never a tear.
func TestCorruptLengthMidSegmentRefusesStart(t *testing.T) {
	dir := t.TempDir()
	w, _ := mustOpen(t, dir, testOptions())
	var offs []int64
	path := onlySegment(t, dir)
	for i := uint64(1); i <= 20; i++ {
		st, _ := os.Stat(path)
		offs = append(offs, st.Size())
		mustSave(t, w, raft.HardState{Term: 1, Vote: "n1", Commit: i - 1}, entries(i, i, 1))
	}
	w.Close()
	mid := offs[10]
	b, _ := os.ReadFile(path)
	b[mid+2] ^= 0xff // the length's third byte: 16 MB past the end of the file
	os.WriteFile(path, b, 0o644)

	_, _, err := Open(dir, testOptions())
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.File != path || ce.Offset != mid {
		t.Fatalf("Open after a flipped length field at %d: %v, want a *CorruptError naming %s at %d", mid, err, path, mid)
	}
	if !strings.Contains(err.Error(), "valid record follows") {
		t.Fatalf("error does not say why this is no tear: %v", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, b) {
		t.Fatal("Open truncated a segment with valid records after the damage")
	}
}

// Damage to a record that was written in full is refused even when it is the
// last record: a flipped bit, or a length field that lies about a payload
// that is all there.
func TestDamagedLastRecordRefusesStart(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(b []byte, lastOff int)
	}{
		{"payload bit", func(b []byte, _ int) { b[len(b)-1] ^= 0x01 }},
		{"crc byte", func(b []byte, off int) { b[off+5] ^= 0x80 }},
		{"length grown past the end", func(b []byte, off int) { b[off+1] ^= 0x01 }},
		{"length shrunk", func(b []byte, off int) { b[off] ^= 0x01 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			w, _ := mustOpen(t, dir, testOptions())
			mustSave(t, w, raft.HardState{Term: 1}, entries(1, 2, 1))
			path := onlySegment(t, dir)
			st, _ := os.Stat(path)
			mustSave(t, w, raft.HardState{Term: 2, Vote: "n2"}, nil)
			w.Close()
			b, _ := os.ReadFile(path)
			tc.damage(b, int(st.Size()))
			os.WriteFile(path, b, 0o644)
			_, _, err := Open(dir, testOptions())
			var ce *CorruptError
			if !errors.As(err, &ce) || ce.File != path || ce.Offset != st.Size() {
				t.Fatalf("Open: %v, want a *CorruptError naming %s at %d", err, path, st.Size())
			}
		})
	}
}

func TestTornRecordInOlderSegmentIsAnError(t *testing.T) {
	dir := t.TempDir()
	w, _ := mustOpen(t, dir, testOptions())
	mustSave(t, w, raft.HardState{Term: 1}, entries(1, 3, 1))
	w.Close()
	first := onlySegment(t, dir)
	// A later segment exists, so a torn tail in the first is real damage.
	os.WriteFile(filepath.Join(dir, segmentName(2)), nil, 0o644)
	st, _ := os.Stat(first)
	os.Truncate(first, st.Size()-2)
	_, _, err := Open(dir, testOptions())
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.File != first {
		t.Fatalf("Open: %v, want a *CorruptError naming %s", err, first)
	}
}

func TestForeignDataDirectoryIsRefused(t *testing.T) {
	dir := t.TempDir()
	w, _ := mustOpen(t, dir, testOptions())
	mustSave(t, w, raft.HardState{Term: 1}, entries(1, 1, 1))
	w.Close()

	other := testOptions()
	other.NodeID = "n2"
	if _, _, err := Open(dir, other); err == nil || !strings.Contains(err.Error(), `node "n1"`) || !strings.Contains(err.Error(), `node "n2"`) {
		t.Fatalf("Open as another node: %v", err)
	}
	other = testOptions()
	other.Cluster = "c2"
	if _, _, err := Open(dir, other); err == nil || !strings.Contains(err.Error(), `cluster "c2"`) {
		t.Fatalf("Open as another cluster: %v", err)
	}
	// Log files with no identity are not adopted either.
	os.Remove(filepath.Join(dir, metaName))
	if _, _, err := Open(dir, testOptions()); err == nil || !strings.Contains(err.Error(), metaName) {
		t.Fatalf("Open of a directory with data but no meta: %v", err)
	}
	if _, _, err := Open(t.TempDir(), Options{}); err == nil || !strings.Contains(err.Error(), "NodeID") {
		t.Fatalf("Open without a node id: %v", err)
	}
}

func TestSnapshotAndTailRestart(t *testing.T) {
	dir := t.TempDir()
	w, _ := mustOpen(t, dir, testOptions())
	hs := raft.HardState{Term: 2, Vote: "n1", Commit: 8}
	mustSave(t, w, hs, append(entries(1, 5, 1), entries(6, 10, 2)...))
	memb := raft.Membership{Voters: []string{"n1", "n2", "n3"}, Addrs: map[string]string{"n1": "a:1", "n2": "a:2", "n3": "a:3"}}
	snap := raft.Snapshot{Meta: raft.SnapshotMeta{Index: 7, Term: 2, Membership: memb}, Data: []byte("image@7")}
	if err := w.SaveSnapshot(snap); err != nil {
		t.Fatal(err)
	}
	mustSave(t, w, raft.HardState{Term: 2, Vote: "n1", Commit: 11}, entries(11, 12, 2))
	w.Close()

	w, st := mustOpen(t, dir, testOptions())
	if st.Snapshot == nil || !reflect.DeepEqual(*st.Snapshot, snap) {
		t.Fatalf("snapshot %+v, want %+v", st.Snapshot, snap)
	}
	if got := indexes(st.Entries); !reflect.DeepEqual(got, []uint64{8, 9, 10, 11, 12}) {
		t.Fatalf("entries after the snapshot: %v", got)
	}
	if st.HardState.Commit != 11 || st.HardState.Vote != "n1" {
		t.Fatalf("hard state %+v", st.HardState)
	}
	// The compacted segment is gone; only the new one remains.
	segs, _ := listNumbered(dir, segmentPrefix, segmentSuffix)
	if len(segs) != 1 || segs[0].n != 2 {
		t.Fatalf("segments after a snapshot: %v", segs)
	}

	// A second snapshot replaces the first file.
	if err := w.SaveSnapshot(raft.Snapshot{Meta: raft.SnapshotMeta{Index: 12, Term: 2, Membership: memb}, Data: []byte("image@12")}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	snaps, _ := listNumbered(dir, snapshotPrefix, snapshotSuffix)
	if len(snaps) != 1 || snaps[0].n != 12 {
		t.Fatalf("snapshot files: %v", snaps)
	}
	_, st = mustOpen(t, dir, testOptions())
	if st.Snapshot.Meta.Index != 12 || len(st.Entries) != 0 || st.HardState.Commit != 11 {
		t.Fatalf("after the second snapshot: snap %d, entries %v, hs %+v", st.Snapshot.Meta.Index, indexes(st.Entries), st.HardState)
	}
}

func TestSnapshotConflictingWithLogDropsIt(t *testing.T) {
	dir := t.TempDir()
	w, _ := mustOpen(t, dir, testOptions())
	mustSave(t, w, raft.HardState{Term: 1}, entries(1, 10, 1))
	// The leader's snapshot says entry 8 has term 3: our 8..10 are stale.
	if err := w.SaveSnapshot(raft.Snapshot{Meta: raft.SnapshotMeta{Index: 8, Term: 3}}); err != nil {
		t.Fatal(err)
	}
	if w.LastIndex() != 8 {
		t.Fatalf("last index %d, want 8", w.LastIndex())
	}
	if err := w.Save(raft.HardState{Term: 3}, entries(8, 8, 3), true); err == nil {
		t.Fatal("Save of an entry covered by the snapshot was accepted")
	}
	mustSave(t, w, raft.HardState{Term: 3}, entries(9, 9, 3))
	w.Close()
	_, st := mustOpen(t, dir, testOptions())
	if got := indexes(st.Entries); !reflect.DeepEqual(got, []uint64{9}) || st.Entries[0].Term != 3 {
		t.Fatalf("entries %v", st.Entries)
	}
}

// A crash after the snapshot file is durable but before the log rolls leaves
// the whole old log next to the snapshot; replay must still be right.
func TestCrashBetweenSnapshotAndRoll(t *testing.T) {
	for _, tc := range []struct {
		name     string
		snapTerm uint64
		want     []uint64
	}{
		{"log agrees", 1, []uint64{7, 8, 9, 10}},
		{"log conflicts", 5, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			w, _ := mustOpen(t, dir, testOptions())
			mustSave(t, w, raft.HardState{Term: 1}, entries(1, 10, 1))
			w.Close()
			img, err := encodeSnapshot(raft.Snapshot{Meta: raft.SnapshotMeta{Index: 6, Term: tc.snapTerm}})
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, snapshotName(6)), img, 0o644)
			_, st := mustOpen(t, dir, testOptions())
			if got := indexes(st.Entries); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("entries %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCorruptSnapshotIsNamed(t *testing.T) {
	dir := t.TempDir()
	w, _ := mustOpen(t, dir, testOptions())
	mustSave(t, w, raft.HardState{Term: 1}, entries(1, 3, 1))
	if err := w.SaveSnapshot(raft.Snapshot{Meta: raft.SnapshotMeta{Index: 2, Term: 1}, Data: []byte("payload")}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	path := filepath.Join(dir, snapshotName(2))
	b, _ := os.ReadFile(path)
	b[len(b)-1] ^= 0x10
	os.WriteFile(path, b, 0o644)
	_, _, err := Open(dir, testOptions())
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.File != path || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open with a corrupt snapshot: %v", err)
	}
}

func TestLeftoverTemporaryFilesAreRemoved(t *testing.T) {
	dir := t.TempDir()
	w, _ := mustOpen(t, dir, testOptions())
	w.Close()
	tmp := filepath.Join(dir, snapshotName(9)+tmpSuffix)
	os.WriteFile(tmp, []byte("half a snapshot"), 0o644)
	mustOpen(t, dir, testOptions())
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Fatalf("temporary file survived Open: %v", err)
	}
}

// voteFsyncs is what a change of term or vote costs on top of the log's
// fsync: the vote file and its directory (votefile.go).
const voteFsyncs = 2

func TestOneFsyncPerSaveBatch(t *testing.T) {
	opt := testOptions()
	opt.NoSync = false
	w, _ := mustOpen(t, t.TempDir(), opt)
	syncs := 0
	w.syncFile = func(f *os.File) error { syncs++; return f.Sync() }

	mustSave(t, w, raft.HardState{Term: 1, Vote: "n1"}, entries(1, 64, 1))
	if syncs != 1+voteFsyncs {
		t.Fatalf("Save of 64 entries and a new term and vote did %d fsyncs, want 1 for the log and %d for the vote file", syncs, voteFsyncs)
	}
	if err := w.Save(raft.HardState{Term: 1, Vote: "n1", Commit: 64}, entries(65, 128, 1), false); err != nil {
		t.Fatal(err)
	}
	if syncs != 1+voteFsyncs {
		t.Fatalf("Save with sync=false did an fsync (%d total)", syncs)
	}
	// A vote alone is made durable too, in the log and the vote file.
	mustSave(t, w, raft.HardState{Term: 2, Vote: "n3", Commit: 64}, nil)
	if syncs != 2+2*voteFsyncs {
		t.Fatalf("Save of a hard state alone: %d fsyncs total, want %d", syncs, 2+2*voteFsyncs)
	}
	// Nothing new: nothing written, nothing synced.
	mustSave(t, w, raft.HardState{Term: 2, Vote: "n3", Commit: 64}, nil)
	if syncs != 2+2*voteFsyncs {
		t.Fatalf("Save of an unchanged hard state synced (%d total)", syncs)
	}
	// Nothing new, but an earlier unsynced write is made durable on
	// request; a new commit index alone costs the log's fsync only.
	if err := w.Save(raft.HardState{Term: 2, Vote: "n3", Commit: 100}, nil, false); err != nil {
		t.Fatal(err)
	}
	mustSave(t, w, raft.HardState{Term: 2, Vote: "n3", Commit: 100}, nil)
	if syncs != 3+2*voteFsyncs {
		t.Fatalf("sync=true after an unsynced write: %d fsyncs total, want %d", syncs, 3+2*voteFsyncs)
	}
}

// A log that lost its tail (the latest hard state records with it) keeps the
// term and the vote it had: the vote file holds them. A damaged vote file
// stops Open.
func TestTermAndVoteSurviveALostLogTail(t *testing.T) {
	dir := t.TempDir()
	w, _ := mustOpen(t, dir, testOptions())
	mustSave(t, w, raft.HardState{Term: 1, Vote: "n1"}, entries(1, 3, 1))
	path := onlySegment(t, dir)
	st, _ := os.Stat(path)
	mustSave(t, w, raft.HardState{Term: 5, Vote: "n2", Commit: 3}, entries(4, 6, 5))
	w.Close()
	if err := os.Truncate(path, st.Size()+5); err != nil { // a torn tail after entry 3
		t.Fatal(err)
	}
	_, rst := mustOpen(t, dir, testOptions())
	if rst.HardState.Term != 5 || rst.HardState.Vote != "n2" || len(rst.Entries) != 3 {
		t.Fatalf("after a lost tail: hard state %+v, %d entries; want term 5, vote n2, 3 entries", rst.HardState, len(rst.Entries))
	}

	b, _ := os.ReadFile(filepath.Join(dir, voteName))
	b[9] ^= 0x01 // the term
	os.WriteFile(filepath.Join(dir, voteName), b, 0o644)
	_, _, err := Open(dir, testOptions())
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.File != filepath.Join(dir, voteName) {
		t.Fatalf("Open with a damaged vote file: %v, want a *CorruptError naming it", err)
	}
}

func TestUseAfterClose(t *testing.T) {
	w, _ := mustOpen(t, t.TempDir(), testOptions())
	w.Close()
	if err := w.Save(raft.HardState{Term: 1}, nil, true); err == nil {
		t.Fatal("Save after Close succeeded")
	}
}

func BenchmarkSave64EntriesSync(b *testing.B) {
	opt := testOptions()
	opt.NoSync = false
	w, _, err := Open(b.TempDir(), opt)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	data := bytes.Repeat([]byte("x"), 100)
	batch := make([]raft.Entry, 64)
	next := uint64(1)
	b.SetBytes(int64(64 * (len(data) + entryFixed + headerSize)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range batch {
			batch[j] = raft.Entry{Term: 1, Index: next, Data: data}
			next++
		}
		if err := w.Save(raft.HardState{Term: 1, Commit: next - 1}, batch, true); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*64)/b.Elapsed().Seconds(), "entries/s")
}
