package kv

import (
	"fmt"
	"sync"

	"github.com/faultline/faultline/sut/bugs"
	"github.com/faultline/faultline/sut/value"
)

// Store is the key-value state machine. One goroutine applies commands while
// any number of others read: every method is safe for concurrent use.
type Store struct {
	bugs bugs.Set

	mu       sync.RWMutex
	data     map[string]any
	sessions map[string]*session
	applied  uint64
}

// New returns an empty store with the planted bugs in b enabled.
func New(b bugs.Set) *Store {
	return &Store{
		bugs:     b,
		data:     make(map[string]any),
		sessions: make(map[string]*session),
	}
}

// Applied is the index of the last log entry applied (or covered by the
// restored snapshot).
func (s *Store) Applied() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.applied
}

// Advance records that the log entry at index was applied without being a
// command (a leader's no-op or a configuration entry), so that Applied keeps
// following the log. It never moves Applied backwards.
func (s *Store) Advance(index uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(index)
}

func (s *Store) advance(index uint64) {
	if index > s.applied {
		s.applied = index
	}
}

// Get reads the applied state locally: no log round, no leadership check.
// The value is shared with the store and must not be modified; a list comes
// back with no spare capacity, so appending to it copies instead of writing
// into the store's array.
func (s *Store) Get(key string) (value any, found bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	value, found = s.data[key]
	return clip(value), found
}

// clip removes a list's spare capacity (see Get).
func clip(v any) any {
	if l, ok := v.([]any); ok {
		return l[:len(l):len(l)]
	}
	return v
}

// Len is the number of keys present.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.data)
}

// Apply applies the command committed at log index and returns its result.
//
// Sessions: a write carrying ClientID and Seq is applied at most once. A
// retry of a seq already applied is not applied again; it gets the stored
// result of the first application. A seq so old that its result was
// forgotten (evicted from the window, or below an Ack) gets Err "stale
// sequence" and changes nothing. Reads ("get") and writes without a client
// id take no part in sessions.
func (s *Store) Apply(index uint64, c Command) Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(index)

	if err := c.Validate(); err != nil {
		return Result{Err: err.Error()}
	}
	var sess *session
	if IsWrite(c.Op) && c.ClientID != "" && c.Seq != 0 {
		sess = s.sessions[c.ClientID]
		if sess == nil {
			sess = &session{}
			s.sessions[c.ClientID] = sess
		}
		// PLANTED BUG no-dedup: the session check is skipped, so a retried
		// write is applied a second time.
		if !s.bugs.Has(bugs.NoDedup) {
			if res, applied, stale := sess.lookup(c.Seq); applied {
				return res
			} else if stale {
				return Result{Err: ErrStaleSequence}
			}
		}
	}
	res := s.execute(c)
	if sess != nil {
		sess.record(c.Seq, res)
		sess.forgetBelow(c.Ack)
	}
	return res
}

// execute performs c on the data; the caller holds the write lock.
func (s *Store) execute(c Command) Result {
	switch c.Op {
	case OpGet:
		v, ok := s.data[c.Key]
		return Result{Value: clip(v), Found: ok}

	case OpPut:
		v, err := normalizeValue(c.Value)
		if err != nil {
			return Result{Err: fmt.Sprintf("value: %v", err)}
		}
		_, existed := s.data[c.Key]
		s.data[c.Key] = v
		return Result{Found: existed}

	case OpCas:
		v, err := normalizeValue(c.Value)
		if err != nil {
			return Result{Err: fmt.Sprintf("value: %v", err)}
		}
		// An absent key holds null, as the register model reads it.
		cur, existed := s.data[c.Key]
		if value.Key(cur) != value.Key(c.Expect) {
			return Result{Value: clip(cur), Found: existed}
		}
		s.data[c.Key] = v
		return Result{Found: existed, Swapped: true}

	case OpAppend:
		elem, err := normalizeValue(c.Value)
		if err != nil {
			return Result{Err: fmt.Sprintf("value: %v", err)}
		}
		cur, existed := s.data[c.Key]
		var list []any
		if existed {
			l, ok := cur.([]any)
			if !ok {
				return Result{Value: clip(cur), Found: true, Err: ErrNotAList}
			}
			list = l
		}
		// The stored list is always the longest one sharing its backing
		// array, so a list handed out earlier never sees this element.
		list = append(list, elem)
		s.data[c.Key] = list
		return Result{Value: clip(list), Found: existed}

	case OpDelete:
		_, existed := s.data[c.Key]
		delete(s.data, c.Key)
		return Result{Found: existed}
	}
	return Result{Err: fmt.Sprintf("%s %q", ErrUnknownOp, c.Op)}
}
