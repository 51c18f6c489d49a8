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
		lowest := seq
		for q := range s.Results {
			if q < lowest {
				lowest = q
			}
		}
		delete(s.Results, lowest)
		if lowest > s.Floor {
			s.Floor = lowest
		}
	}
}

// forgetBelow drops the results of every seq below ack: the client has its
// answers and will not send them again. A late copy of one of them (an
// attempt that timed out and was still in some log) is then refused as
// stale instead of applied, which an unanswered operation allows.
func (s *session) forgetBelow(ack uint64) {
	if ack <= 1 || ack-1 <= s.Floor {
		return
	}
	for q := range s.Results {
		if q < ack {
			delete(s.Results, q)
		}
	}
	if ack-1 > s.Floor {
		s.Floor = ack - 1
	}
}
