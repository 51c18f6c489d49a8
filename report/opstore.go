package report

// opChunk is how many operation records one chunk of opRecs holds (512 KB):
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
