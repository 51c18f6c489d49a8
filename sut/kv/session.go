package kv

// sessionWindow is how many recent results a client session keeps. A client
// may have several writes in flight under one client id (its goroutines share
// the id, each operation has its own seq), so they can commit out of seq
// order; any seq within the window that was not applied yet is still applied,
// and one already applied gets its stored result back.
const sessionWindow = 256

// session is the dedup state of one client id.
type session struct {
	// Floor is the highest seq whose result was forgotten: evicted from
	// the window or acknowledged by the client. A write with seq <= Floor
	// and not in Results is refused as a stale sequence: it may have been
	// applied, and its result is gone.
	Floor uint64 `json:"floor"`
	// Results holds the results of the applied seqs above Floor.
	Results map[uint64]Result `json:"results"`
}

// lookup says whether seq was already applied (with its result) or is too old
// to tell.
func (s *session) lookup(seq uint64) (res Result, applied, stale bool) {
	if r, ok := s.Results[seq]; ok {
		return r, true, false
	}
	return Result{}, false, seq <= s.Floor
}

// record stores the result of seq, evicting the lowest seqs beyond the window.
func (s *session) record(seq uint64, r Result) {
	if s.Results == nil {
		s.Results = make(map[uint64]Result)
	}
	s.Results[seq] = r
	for len(s.Results) > sessionWindow {
		lowest := s.lowest(seq)
		delete(s.Results, lowest)
		if lowest > s.Floor {
			s.Floor = lowest
		}
	}
}

// lowest is the lowest seq in Results above Floor (at most limit). Seqs
// are mostly dense above Floor, so it counts up from there, which costs one
// lookup when the window is full of consecutive seqs; it scans the map only
// when they are sparse. (Seqs at or below Floor are in Results only when
// the no-dedup bug skips lookup, and then nothing reads the session.)
func (s *session) lowest(limit uint64) uint64 {
	for q, tries := s.Floor+1, 0; q <= limit && tries < 2*sessionWindow; q, tries = q+1, tries+1 {
		if _, ok := s.Results[q]; ok {
			return q
		}
	}
	lowest := limit
	for q := range s.Results {
		lowest = min(lowest, q)
	}
	return lowest
}

// forgetBelow drops the results of every seq below ack: the client has its
// answers and will not send them again. A late copy of one of them (an
// attempt that timed out and was still in some log) is then refused as
// stale instead of applied, which an unanswered operation allows.
func (s *session) forgetBelow(ack uint64) {
	if ack <= 1 || ack-1 <= s.Floor {
		return
	}
	if ack-1-s.Floor <= uint64(len(s.Results)) {
		for q := s.Floor + 1; q < ack; q++ { // fewer seqs to forget than results
			delete(s.Results, q)
		}
	} else {
		for q := range s.Results {
			if q < ack {
				delete(s.Results, q)
			}
		}
	}
	if ack-1 > s.Floor {
		s.Floor = ack - 1
	}
}
