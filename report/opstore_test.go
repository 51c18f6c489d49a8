package report

import "testing"

// Records read back the same across chunk boundaries.
func TestOpStoreChunks(t *testing.T) {
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
