package report

import (
	"encoding/binary"
	"unsafe"
)

// opChunk is how many operation records one chunk of opRecs holds (768 KB):
// a history grows by chunks, never by copying all it has read.
const opChunk = 1 << 14

// opRecs are a history's operations in chunks of opChunk.
type opRecs struct {
	chunks [][]opRec
	n      int
}

func (s *opRecs) len() int { return s.n }

func (s *opRecs) at(i int) *opRec { return &s.chunks[i/opChunk][i%opChunk] }

// add appends r and returns its index.
func (s *opRecs) add(r opRec) int {
	if s.n%opChunk == 0 {
		s.chunks = append(s.chunks, make([]opRec, 0, opChunk))
	}
	last := &s.chunks[len(s.chunks)-1]
	*last = append(*last, r)
	s.n++
	return s.n - 1
}

// textChunk is the size of one chunk of texts; no text is longer.
const textChunk = 1 << 20

// maxErrorText bounds the error text kept per operation.
const maxErrorText = 16 << 10

// texts hold the short texts of a history's operations in chunks of
// textChunk bytes, never copied once written. An offset is the chunk's
// index times textChunk plus the place in it. Offset 0 is no text.
type texts struct{ chunks [][]byte }

func newTexts() texts { return texts{chunks: [][]byte{append(make([]byte, 0, textChunk), 0)}} }

// put stores b (at most textChunk bytes) and returns its offset.
func (t *texts) put(b []byte) uint32 {
	last := len(t.chunks) - 1
	if len(t.chunks[last])+len(b) > textChunk {
		t.chunks = append(t.chunks, make([]byte, 0, textChunk))
		last++
	}
	off := uint32(last*textChunk + len(t.chunks[last]))
	t.chunks[last] = append(t.chunks[last], b...)
	return off
}

// putError stores an error text (cut to maxErrorText bytes) with its length.
func (t *texts) putError(s string, scratch []byte) uint32 {
	s = s[:min(len(s), maxErrorText)]
	scratch = binary.AppendUvarint(scratch[:0], uint64(len(s)))
	return t.put(append(scratch, s...))
}

// at is the n bytes at off as a string sharing the chunk's memory: a
// chunk's bytes are never written again once stored, so the string stays
// what it was, and taking it allocates nothing.
func (t *texts) at(off uint32, n int) string {
	if n == 0 {
		return ""
	}
	c := t.chunks[off/textChunk]
	return unsafe.String(&c[off%textChunk], n)
}

// errorAt is the error text stored by putError at off ("" for 0).
func (t *texts) errorAt(off uint32) string {
	if off == 0 {
		return ""
	}
	c := t.chunks[off/textChunk]
	n, size := binary.Uvarint(c[off%textChunk:])
	return t.at(off+uint32(size), int(n))
}
