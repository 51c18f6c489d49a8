package report

import (
	"strconv"
	"strings"
	"testing"
)

// Texts and records read back the same across chunk boundaries.
func TestOpStoreChunks(t *testing.T) {
	tx := newTexts()
	var offs []uint32
	var errs []uint32
	for i := range 3000 {
		s := strings.Repeat(strconv.Itoa(i%10), 500+i%7)
		offs = append(offs, tx.put([]byte(s)))
		errs = append(errs, tx.putError("error "+s, nil))
	}
	if len(tx.chunks) < 3 {
		t.Fatalf("%d chunks: the test crosses no boundary", len(tx.chunks))
	}
	for i, off := range offs {
		s := strings.Repeat(strconv.Itoa(i%10), 500+i%7)
		if got := tx.at(off, len(s)); got != s {
			t.Fatalf("text %d: %.20q…, want %.20q…", i, got, s)
		}
		if got := tx.errorAt(errs[i]); got != "error "+s {
			t.Fatalf("error %d: %.20q…", i, got)
		}
	}
	var recs opRecs
	for i := range 3*opChunk + 5 {
		if got := recs.add(opRec{start: int64(i)}); got != i {
			t.Fatalf("add gave index %d, want %d", got, i)
		}
	}
	for _, i := range []int{0, opChunk - 1, opChunk, 3 * opChunk, 3*opChunk + 4} {
		if recs.at(i).start != int64(i) {
			t.Fatalf("record %d holds %d", i, recs.at(i).start)
		}
	}
}
