package wal

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/faultline/faultline/sut/raft"
)

// damageFixture is a small data directory with every kind of file Open
// reads: meta.json, a snapshot, an older segment that a crash left behind
// in the middle of a compaction, and the live segment.
type damageFixture struct {
	files map[string][]byte // file name → content
	live  string            // name of the live (last) segment
	// syncedEnd is the size of the live segment when its last fsync
	// returned: everything before it was acknowledged, the rest was a
	// write still in flight.
	syncedEnd int64
}

// buildDamageFixture writes the fixture through the WAL itself. With
// inFlight, the last batch (entries 16..20, more than two sectors) is
// written without fsync, as a crash in the middle of an append leaves it;
// otherwise every batch was synced.
func buildDamageFixture(t *testing.T, inFlight bool) damageFixture {
	t.Helper()
	dir := t.TempDir()
	w, _ := mustOpen(t, dir, testOptions())
	mustSave(t, w, raft.HardState{Term: 1, Vote: "n1"}, entries(1, 6, 1))
	mustSave(t, w, raft.HardState{Term: 2, Vote: "n2", Commit: 5}, entries(7, 10, 2))
	oldSeg := segmentName(1)
	oldContent, err := os.ReadFile(filepath.Join(dir, oldSeg))
	if err != nil {
		t.Fatal(err)
	}
	memb := raft.Membership{Voters: []string{"n1", "n2", "n3"}, Addrs: map[string]string{"n1": "a:1", "n2": "a:2", "n3": "a:3"}}
	if err := w.SaveSnapshot(raft.Snapshot{Meta: raft.SnapshotMeta{Index: 6, Term: 1, Membership: memb}, Data: []byte("image@6")}); err != nil {
		t.Fatal(err)
	}
	mustSave(t, w, raft.HardState{Term: 2, Vote: "n2", Commit: 10}, entries(11, 14, 2))
	mustSave(t, w, raft.HardState{Term: 3, Vote: "n3", Commit: 12}, entries(15, 15, 3))
	live := segmentName(2)
	st, err := os.Stat(filepath.Join(dir, live))
	if err != nil {
		t.Fatal(err)
	}
	var last []raft.Entry
	for i := uint64(16); i <= 20; i++ {
		last = append(last, raft.Entry{Term: 3, Index: i, Data: bytes.Repeat([]byte{byte('a' + i)}, 300)})
	}
	if err := w.Save(raft.HardState{Term: 3, Vote: "n3", Commit: 15}, last, !inFlight); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	fx := damageFixture{files: map[string][]byte{oldSeg: oldContent}, live: live, syncedEnd: st.Size()}
	if !inFlight {
		fx.syncedEnd = int64(len(fx.readAll(t, dir)[live]))
	}
	for name, b := range fx.readAll(t, dir) {
		fx.files[name] = b
	}
	return fx
}

func (fx damageFixture) readAll(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, de := range des {
		b, err := os.ReadFile(filepath.Join(dir, de.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[de.Name()] = b
	}
	return out
}

// names lists the fixture's files in a fixed order.
func (fx damageFixture) names() []string {
	var out []string
	for n := range fx.files {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// write lays the fixture out in a fresh directory, with name's content
// replaced by content.
func (fx damageFixture) write(t *testing.T, dir, name string, content []byte) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for n, b := range fx.files {
		if n == name {
			b = content
		}
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// recoverable lists the states Open may return without losing anything
// acknowledged: the live segment cut at each record boundary at or after
// cutFrom, the whole of it included. The key is the cut.
func (fx damageFixture) recoverable(t *testing.T, root string, cutFrom int64) map[int64]State {
	t.Helper()
	live := fx.files[fx.live]
	sc, err := scanSegment(fx.live, live, true)
	if err != nil || sc.tornReason != "" {
		t.Fatalf("undamaged live segment does not scan cleanly: %v %q", err, sc.tornReason)
	}
	var cuts []int64
	for _, r := range sc.records {
		if r.offset >= cutFrom {
			cuts = append(cuts, r.offset)
		}
	}
	cuts = append(cuts, int64(len(live)))
	out := map[int64]State{}
	for _, cut := range cuts {
		dir := filepath.Join(root, fmt.Sprintf("ref-%d", cut))
		fx.write(t, dir, fx.live, live[:cut])
		w, st, err := Open(dir, testOptions())
		if err != nil {
			t.Fatalf("undamaged fixture cut at %d: %v", cut, err)
		}
		w.Close()
		out[cut] = st
	}
	return out
}

// damage is one damaged copy of one file.
type damage struct {
	file    string
	what    string
	content []byte
	// lastChanged is the offset of the last byte that differs.
	lastChanged int64
}

// damages flips every byte of every file (all bits, then one bit) and
// zeroes every 512-byte sector.
func (fx damageFixture) damages() []damage {
	var out []damage
	for _, name := range fx.names() {
		orig := fx.files[name]
		for i := range orig {
			for _, mask := range []byte{0xff, 1 << (i % 8)} {
				b := bytes.Clone(orig)
				b[i] ^= mask
				out = append(out, damage{file: name, what: fmt.Sprintf("byte %d ^ %#02x", i, mask), content: b, lastChanged: int64(i)})
			}
		}
		for s := 0; s < len(orig); s += sectorSize {
			b := bytes.Clone(orig)
			end := min(s+sectorSize, len(b))
			clear(b[s:end])
			last := int64(-1)
			for i := end - 1; i >= s; i-- {
				if orig[i] != 0 {
					last = int64(i)
					break
				}
			}
			if last < 0 {
				continue // the sector held only zeros: nothing damaged
			}
			out = append(out, damage{file: name, what: fmt.Sprintf("sector %d..%d zeroed", s, end), content: b, lastChanged: last})
		}
	}
	return out
}

// damageOutcome is what Open made of one damaged copy.
type damageOutcome int

const (
	refused  damageOutcome = iota // Open failed, naming the damaged file
	intact                        // everything recovered
	tornTail                      // a tail of the in-flight write dropped
)

// scratch is the directory damaged copies are opened in. A refused Open
// changes nothing, so the next copy only rewrites the damaged file (and puts
// back the one damaged before, if another); a successful Open may truncate
// or roll, so the whole fixture is laid out again.
type scratch struct {
	dir      string
	pristine bool   // the directory holds the fixture but for damaged
	damaged  string // the file holding damaged content, if any
}

// prepare makes the scratch directory hold the fixture with d applied.
func (sc *scratch) prepare(t *testing.T, fx damageFixture, d damage) {
	t.Helper()
	if !sc.pristine {
		os.RemoveAll(sc.dir)
		fx.write(t, sc.dir, "", nil)
		sc.pristine, sc.damaged = true, ""
	}
	if sc.damaged != "" && sc.damaged != d.file {
		replaceFile(t, filepath.Join(sc.dir, sc.damaged), fx.files[sc.damaged])
	}
	replaceFile(t, filepath.Join(sc.dir, d.file), d.content)
	sc.damaged = d.file
}

// openDamaged opens one damaged copy and judges the outcome against the
// recoverable states; allowLoss lets it recover less than everything.
func (fx damageFixture) openDamaged(t *testing.T, sc *scratch, d damage, ok map[int64]State, allowLoss bool) damageOutcome {
	t.Helper()
	sc.prepare(t, fx, d)
	path := filepath.Join(sc.dir, d.file)
	w, st, err := Open(sc.dir, testOptions())
	if err != nil {
		if !strings.Contains(err.Error(), path) {
			t.Fatalf("%s, %s: refused without naming the file: %v", d.file, d.what, err)
		}
		var ce *CorruptError
		if errors.As(err, &ce) && ce.Offset > d.lastChanged {
			t.Fatalf("%s, %s: error points past the damage: %v", d.file, d.what, err)
		}
		return refused
	}
	sc.pristine = false
	w.Close()
	full := ok[int64(len(fx.files[fx.live]))]
	if reflect.DeepEqual(st, full) {
		return intact
	}
	matched := false
	for _, s := range ok {
		matched = matched || reflect.DeepEqual(st, s)
	}
	if !matched || !allowLoss {
		t.Fatalf("%s, %s: Open succeeded but lost acknowledged state: recovered last index %d, hard state %+v; want %d, %+v",
			d.file, d.what, lastEntryIndex(st), st.HardState, lastEntryIndex(full), full.HardState)
	}
	// Recovery is durable: a second start finds the same state.
	w, again, err := Open(sc.dir, testOptions())
	if err != nil || !reflect.DeepEqual(again, st) {
		t.Fatalf("%s, %s: second Open after a torn tail: %v", d.file, d.what, err)
	}
	w.Close()
	return tornTail
}

// replaceFile writes a new file at path rather than truncating the old one:
// ext4 flushes a file truncated and rewritten on close (auto_da_alloc), which
// would make the sweep wait on the disk thousands of times.
func replaceFile(t *testing.T, path string, content []byte) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
}

func lastEntryIndex(st State) uint64 {
	if n := len(st.Entries); n > 0 {
		return st.Entries[n-1].Index
	}
	return 0
}

// TestEveryDamageIsRefusedOrLosesNothingAcknowledged is the exhaustive damage
// sweep: every byte of every file of a small multi-segment data directory
// flipped, every sector zeroed, one at a time. Each damaged copy must be
// refused at start with the file named, or recover everything that was
// fsynced; only the write in flight at the crash may be lost.
func TestEveryDamageIsRefusedOrLosesNothingAcknowledged(t *testing.T) {
	fx := buildDamageFixture(t, true)
	root := t.TempDir()
	ok := fx.recoverable(t, root, fx.syncedEnd)
	counts := map[damageOutcome]int{}
	sc := &scratch{dir: filepath.Join(root, "damaged")}
	for _, d := range fx.damages() {
		counts[fx.openDamaged(t, sc, d, ok, true)]++
	}
	t.Logf("%d damaged copies of %d files (%d-byte live segment, last %d bytes in flight): %d refused at start, %d recovered everything, %d dropped part of the in-flight write as a torn tail, 0 lost anything acknowledged",
		counts[refused]+counts[intact]+counts[tornTail], len(fx.files), len(fx.files[fx.live]), int64(len(fx.files[fx.live]))-fx.syncedEnd,
		counts[refused], counts[intact], counts[tornTail])
	if counts[refused] == 0 || counts[tornTail] == 0 {
		t.Fatalf("the sweep did not exercise both outcomes: %v", counts)
	}
}

// TestDamageToFullySyncedLogOnlyTornWhenIndistinguishable runs the same sweep
// over a directory whose every write was fsynced. A WAL cannot tell a final
// sector zeroed after the fsync from one the disk never wrote before a crash;
// that is the only damage allowed to recover less than everything, and it is
// counted. Every flipped bit, the last record's included, is refused.
func TestDamageToFullySyncedLogOnlyTornWhenIndistinguishable(t *testing.T) {
	fx := buildDamageFixture(t, false)
	root := t.TempDir()
	live := fx.files[fx.live]
	finalSector := (int64(len(live)) - 1) / sectorSize * sectorSize
	ok := fx.recoverable(t, root, 0)
	counts := map[damageOutcome]int{}
	sc := &scratch{dir: filepath.Join(root, "damaged")}
	for _, d := range fx.damages() {
		indistinguishable := d.file == fx.live && d.what == fmt.Sprintf("sector %d..%d zeroed", finalSector, len(live))
		counts[fx.openDamaged(t, sc, d, ok, indistinguishable)]++
	}
	t.Logf("fully synced: %d refused at start, %d recovered everything, %d taken for a torn tail (the zeroed final sector only)",
		counts[refused], counts[intact], counts[tornTail])
}
