package check

import (
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/anishathalye/porcupine"
)

// Workloads, as named in Options.Workload and results.json.
const (
	WorkloadRegister = "register"
	WorkloadSet      = "set"
	WorkloadAppend   = "append"
)

// opKind is what a porcupine input asks the model to do.
type opKind uint8

const (
	kindRead opKind = iota
	kindWrite
	kindCas
	kindAdd    // set workload
	kindAppend // append workload
)

// input is a porcupine operation input. Values are history.ValueKey strings,
// so ints, json.Numbers and strings from different decoders compare right.
type input struct {
	kind opKind
	arg  string // written value, cas expected value, added or appended element
	new  string // cas new value
	// argHash is elemHash(arg), for adds and appends.
	argHash uint64
	// mayRepeat marks an add whose element another operation of the key
	// adds too, so the set may already hold it.
	mayRepeat bool
	// unknown marks an operation that completed with info or never
	// completed: it may have taken effect at any time after its invocation,
	// or never, so any outcome is allowed.
	unknown bool
}

// output is a porcupine operation output: what a read returned.
type output struct {
	value string   // register read
	list  []string // set read (sorted) or append read (in order)
	// Precomputed by readDigests for set and append reads.
	digest  uint64
	repeats bool // a set read that returned an element twice
}

// nullValue is history.ValueKey(nil): the register of a key never written.
const nullValue = "null"

// modelFor returns the per-key Porcupine model of a workload. Keys are
// checked one by one, so the models have no Partition function.
func modelFor(workload string) porcupine.Model {
	switch workload {
	case WorkloadSet:
		return setModel
	case WorkloadAppend:
		return appendModel
	}
	return registerModel
}

// registerModel is a register with read, write and cas; its state is the
// ValueKey of the current value, "null" when absent.
var registerModel = porcupine.Model{
	Init: func() any { return nullValue },
	Step: func(state, in, out any) (bool, any) {
		s, op := state.(string), in.(*input)
		switch op.kind {
		case kindRead:
			return out.(*output).value == s, s
		case kindWrite:
			return true, op.arg
		case kindCas:
			if s == op.arg {
				return true, op.new
			}
			// A cas of unknown outcome that did not match took effect as a no-op.
			return op.unknown, s
		}
		return false, s
	},
	Hash:                      func(state any) uint64 { return hashString(state.(string)) },
	DescribeOperation:         describeOperation,
	DescribeState:             func(state any) string { return describeValue(state.(string)) },
	DescribeOperationMetadata: describeOpMeta,
}

// setModel is a grow-only set (a *collection).
var setModel = porcupine.Model{
	Init: func() any { return (*collection)(nil) },
	Step: func(state, in, out any) (bool, any) {
		s, op := state.(*collection), in.(*input)
		switch op.kind {
		case kindRead:
			o := out.(*output)
			return !o.repeats && s.equalSet(o.list, o.digest), s
		case kindAdd:
			return true, s.added(op.arg, op.argHash, op.mayRepeat)
		}
		return false, s
	},
	Equal:                     func(a, b any) bool { return sameSet(a.(*collection), b.(*collection)) },
	Hash:                      func(state any) uint64 { return state.(*collection).hash() },
	DescribeOperation:         describeOperation,
	DescribeState:             func(state any) string { return describeList(sortedElems(state.(*collection)), "{", "}") },
	DescribeOperationMetadata: describeOpMeta,
}

// appendModel is a list that only grows at its end (a *collection); a read
// must return the whole list exactly.
var appendModel = porcupine.Model{
	Init: func() any { return (*collection)(nil) },
	Step: func(state, in, out any) (bool, any) {
		s, op := state.(*collection), in.(*input)
		switch op.kind {
		case kindRead:
			o := out.(*output)
			return s.equalList(o.list, o.digest), s
		case kindAppend:
			return true, s.appended(op.arg, op.argHash)
		}
		return false, s
	},
	Equal:                     func(a, b any) bool { return sameList(a.(*collection), b.(*collection)) },
	Hash:                      func(state any) uint64 { return state.(*collection).hash() },
	DescribeOperation:         describeOperation,
	DescribeState:             func(state any) string { return describeList(state.(*collection).elems(), "[", "]") },
	DescribeOperationMetadata: describeOpMeta,
}

func hashString(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

func describeOperation(in, out any) string {
	op := in.(*input)
	suffix := ""
	if op.unknown {
		suffix = " ?"
	}
	switch op.kind {
	case kindRead:
		o := out.(*output)
		if o.list != nil {
			return "read() → " + describeList(o.list, "[", "]")
		}
		return "read() → " + describeValue(o.value)
	case kindWrite:
		return fmt.Sprintf("write(%s)%s", op.arg, suffix)
	case kindCas:
		return fmt.Sprintf("cas(%s → %s)%s", describeValue(op.arg), op.new, suffix)
	case kindAdd:
		return fmt.Sprintf("add(%s)%s", op.arg, suffix)
	case kindAppend:
		return fmt.Sprintf("append(%s)%s", op.arg, suffix)
	}
	return "?"
}

// describeValue shows a register value; "absent" for a key never written.
func describeValue(v string) string {
	if v == nullValue {
		return "absent"
	}
	return v
}

// maxListShown bounds how many elements a state description lists, so the
// per-key view of a long append history stays readable.
const maxListShown = 12

func describeList(list []string, open, close string) string {
	if len(list) <= maxListShown {
		return open + strings.Join(list, " ") + close
	}
	head := strings.Join(list[:3], " ")
	tail := strings.Join(list[len(list)-(maxListShown-4):], " ")
	return fmt.Sprintf("%s%s … (%d elements) … %s%s", open, head, len(list), tail, close)
}

// describeOpMeta shows an operation's history line, node and outcome in
// Porcupine's visualization.
func describeOpMeta(meta any) string {
	if m, ok := meta.(*opMeta); ok {
		return m.String()
	}
	return ""
}
