package history

import (
	"errors"
	"fmt"
)

// clientFunctions are the operation functions a client event may carry.
var clientFunctions = map[string]bool{
	FRead: true, FWrite: true, FCas: true, FAdd: true, FAppend: true,
}

// validator checks the well-formedness rules of docs/history.md one event at a
// time, so the streaming reader and Pair share one definition of them. Its
// errors do not name a place: callers add the line or the event index.
type validator struct {
	lastTime int64
	// open maps a busy process to its pending invocation.
	open map[int]pendingInvoke
	// crashed maps processes that completed with info (they may not invoke
	// again) to the index of that completion.
	crashed map[int]int
	n       int // events accepted so far
}

type pendingInvoke struct {
	index  int
	f, key string
}

func newValidator() *validator {
	return &validator{open: map[int]pendingInvoke{}, crashed: map[int]int{}}
}

// shape is what the validator needs of an event: everything but the
// value, of which only its presence and, for cas, its form matter.
type shape struct {
	Time    int64
	Process Process
	Type    Type
	F, Key  string
	// HasValue is false for a null or absent value; Pair is set when the
	// value is a list of exactly two elements. Value or Raw (its JSON text)
	// describe it in errors.
	HasValue, Pair bool
	Value          any
	Raw            []byte
}

func (s *shape) valueText() string {
	if s.Raw != nil {
		return RawValueKey(s.Raw)
	}
	return ValueKey(s.Value)
}

func eventShape(e *Event) shape {
	pair, ok := List(e.Value)
	return shape{Time: e.Time, Process: e.Process, Type: e.Type, F: e.F, Key: e.Key,
		HasValue: e.Value != nil, Pair: ok && len(pair) == 2, Value: e.Value}
}

func rawShape(e *RawEvent) shape {
	s := shape{Time: e.Time, Process: e.Process, Type: e.Type, F: e.F, Key: e.Key, HasValue: e.Value != nil,
		Raw: e.Value}
	if e.F == FCas && e.Type == Invoke {
		s.Pair = rawPair(e.Value)
	}
	return s
}

// rawPair reports whether raw is the JSON text of a two-element array.
func rawPair(raw []byte) bool {
	list, ok := RawList(raw)
	return ok && len(list) == 2
}

// add validates e as the next event of the history and accepts it.
func (v *validator) add(e shape) error {
	if err := v.check(e); err != nil {
		return err
	}
	i := v.n
	v.n++
	if e.Process.Nemesis {
		return nil
	}
	switch e.Type {
	case Invoke:
		v.open[e.Process.ID] = pendingInvoke{index: i, f: e.F, key: e.Key}
	default:
		delete(v.open, e.Process.ID)
		if e.Type == Info {
			v.crashed[e.Process.ID] = i
		}
	}
	return nil
}

func (v *validator) check(e shape) error {
	if e.Time < 0 {
		return fmt.Errorf("time %d is negative", e.Time)
	}
	if e.Time < v.lastTime {
		return fmt.Errorf("time %d goes backwards (previous event at %d)", e.Time, v.lastTime)
	}
	switch e.Type {
	case Invoke, Ok, Fail, Info:
	case "":
		return errors.New("missing type")
	default:
		return fmt.Errorf("unknown type %q (want invoke, ok, fail or info)", e.Type)
	}
	if e.F == "" {
		return errors.New("missing f")
	}
	if e.Process.Nemesis {
		if e.Type != Info {
			return fmt.Errorf("nemesis event %q has type %q; nemesis events are info", e.F, e.Type)
		}
		v.lastTime = e.Time
		return nil
	}
	if !clientFunctions[e.F] {
		return fmt.Errorf("unknown f %q for client process %d (want read, write, cas, add or append)", e.F, e.Process.ID)
	}
	if e.Key == "" {
		return fmt.Errorf("client event %s %s of process %d has no key", e.Type, e.F, e.Process.ID)
	}
	p := e.Process.ID
	invoke, busy := v.open[p]
	if e.Type == Invoke {
		if busy {
			return fmt.Errorf("process %d invokes %s while its %s invoked at event %d has not completed",
				p, e.F, invoke.f, invoke.index)
		}
		if crash, ok := v.crashed[p]; ok {
			return fmt.Errorf("process %d invokes again after its info completion at event %d (a client continues under a new process number)", p, crash)
		}
		switch e.F {
		case FCas:
			if !e.Pair {
				return fmt.Errorf("cas value must be [expected, new], got %s", e.valueText())
			}
		case FWrite, FAdd, FAppend:
			if !e.HasValue {
				return fmt.Errorf("%s invocation on key %q has no value", e.F, e.Key)
			}
		}
	} else {
		if !busy {
			return fmt.Errorf("%s completion of %s by process %d without a pending invoke", e.Type, e.F, p)
		}
		if invoke.f != e.F {
			return fmt.Errorf("completion f %q does not match the invoke's f %q (event %d)", e.F, invoke.f, invoke.index)
		}
		if invoke.key != e.Key {
			return fmt.Errorf("completion key %q does not match the invoke's key %q (event %d)", e.Key, invoke.key, invoke.index)
		}
	}
	v.lastTime = e.Time
	return nil
}
