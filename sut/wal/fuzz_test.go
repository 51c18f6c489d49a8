package wal

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/faultline/faultline/sut/raft"
)

// fuzzSegment is a small well-formed segment the seeds start from.
func fuzzSegment() []byte {
	var b []byte
	for _, e := range entries(1, 3, 1) {
		b = appendEntryRecord(b, e)
	}
	b = appendHardStateRecord(b, raft.HardState{Term: 1, Vote: "n1", Commit: 2})
	return appendEntryRecord(b, raft.Entry{Term: 2, Index: 4, Type: raft.EntryNoOp})
}

// FuzzScanSegment feeds arbitrary bytes to the segment reader. Whatever it
// accepts must be exactly the records that were framed, end to end; a tail
// it takes for torn must satisfy the torn-tail rule of doc.go; anything
// else must be a *CorruptError pointing inside the file.
func FuzzScanSegment(f *testing.F) {
	good := fuzzSegment()
	f.Add(good, true)
	f.Add(good[:len(good)-3], true)
	f.Add(append(bytes.Clone(good), make([]byte, 40)...), true)
	f.Add(good[:len(good)-3], false)
	flipped := bytes.Clone(good)
	flipped[2] ^= 0xff
	f.Add(flipped, true)
	f.Fuzz(func(t *testing.T, data []byte, isLast bool) {
		sc, err := scanSegment("seg", data, isLast)
		if err != nil {
			var ce *CorruptError
			if !errors.As(err, &ce) || ce.Offset < 0 || ce.Offset >= int64(len(data)) {
				t.Fatalf("error %v is not a *CorruptError inside the %d-byte file", err, len(data))
			}
			return
		}
		var framed []byte
		for _, r := range sc.records {
			if r.offset != int64(len(framed)) {
				t.Fatalf("record at %d, want %d: records must be contiguous from the start", r.offset, len(framed))
			}
			framed = appendRecord(framed, r.typ, r.payload)
		}
		if sc.end != int64(len(framed)) || !bytes.Equal(framed, data[:sc.end]) {
			t.Fatalf("accepted records do not re-frame to the bytes they came from (end %d)", sc.end)
		}
		if sc.tornReason == "" {
			if sc.end != int64(len(data)) {
				t.Fatalf("scan stopped at %d of %d bytes without a torn tail", sc.end, len(data))
			}
			return
		}
		if !isLast {
			t.Fatalf("torn tail accepted in a segment that is not the last")
		}
		if next, ok := validRecordFollows(data, sc.end); ok {
			t.Fatalf("torn tail at %d although a valid record follows at %d", sc.end, next)
		}
		if why, ok := looksInterrupted(data, sc.end); !ok {
			t.Fatalf("torn tail at %d that does not look cut short: %s", sc.end, why)
		}
	})
}

// FuzzOpen opens a data directory whose only segment holds arbitrary bytes.
// Open must not panic; when it succeeds, the recovery is durable: a second
// Open finds the same state.
func FuzzOpen(f *testing.F) {
	good := fuzzSegment()
	f.Add(good)
	f.Add(good[:len(good)-5])
	f.Add([]byte{})
	meta := []byte(`{"node_id":"n1","cluster":"c1"}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, metaName), meta, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, segmentName(1)), data, 0o644); err != nil {
			t.Fatal(err)
		}
		w, st, err := Open(dir, testOptions())
		if err != nil {
			return
		}
		w.Close()
		w, again, err := Open(dir, testOptions())
		if err != nil {
			t.Fatalf("second Open after a successful one: %v", err)
		}
		w.Close()
		if !reflect.DeepEqual(st, again) {
			t.Fatalf("second Open found another state: %+v, then %+v", st, again)
		}
	})
}
