package server

import (
	"context"

	"github.com/faultline/faultline/sut/kv"
	"github.com/faultline/faultline/sut/raft"
)

// reader is one way to serve a linearizable read (--read-mode). Each
// implementation returns the value at a point between the request's arrival
// and its answer, or an error outcome.
type reader interface {
	read(ctx context.Context, key string) (value any, found bool, failed *outcome)
}

func newReader(s *Server, mode raft.ReadMode) reader {
	switch mode {
	case raft.ReadLease:
		return leaseReader{confirmedReader{s}}
	case raft.ReadLog:
		return logReader{s}
	}
	return readIndexReader{confirmedReader{s}}
}

// confirmedReader asks the core to confirm a read index (rn.ReadIndex), then
// waits until the applier has applied up to it and reads the local store.
// How the core confirms is its read mode: a heartbeat round acknowledged by
// a majority (readindex) or, while the leader's lease holds, nothing (lease).
type confirmedReader struct{ s *Server }

func (r confirmedReader) read(ctx context.Context, key string) (any, bool, *outcome) {
	s := r.s
	w := &readWaiter{ctx: s.nextRead.Add(1), ch: make(chan outcome, 1)}
	if !s.reg.addRead(w) {
		o := <-w.ch
		return nil, false, &o
	}
	if !s.run(ctx.Done(), func() { s.rn.ReadIndex(w.ctx) }) {
		s.reg.cancelRead(w)
		o := outcomeStopping
		if ctx.Err() != nil {
			o = outcomeTimeout
		}
		return nil, false, &o
	}
	select {
	case o := <-w.ch:
		if o.status != 0 {
			return nil, false, &o
		}
		v, found := s.kv.Get(key)
		return v, found, nil
	case <-ctx.Done():
		s.reg.cancelRead(w)
		return nil, false, &outcomeTimeout
	}
}

// readIndexReader: --read-mode readindex.
type readIndexReader struct{ confirmedReader }

// leaseReader: --read-mode lease; the core answers at once while its lease
// holds and falls back to a ReadIndex round otherwise.
type leaseReader struct{ confirmedReader }

// logReader: --read-mode log. The read is an ordinary "get" entry: its
// answer is the state when it applies, which is linearizable because the
// entry commits like a write.
type logReader struct{ s *Server }

func (r logReader) read(ctx context.Context, key string) (any, bool, *outcome) {
	res, o := r.s.propose(ctx, kv.Command{Op: kv.OpGet, Key: key})
	if o != nil {
		return nil, false, o
	}
	return res.Value, res.Found, nil
}

// localRead serves the applied state at once, on any node: explicitly not
// linearizable (?read=local).
func (s *Server) localRead(key string) (any, bool) { return s.kv.Get(key) }
