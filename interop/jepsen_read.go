package interop

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"olympos.io/encoding/edn"

	"github.com/faultline/faultline/history"
)

// SingleKey is the key given to the operations of a Jepsen test of one
// object (a single register or set: values without an independent
// [key value] tuple and no :key field).
const SingleKey = "single"

// jepsenOp is one operation map of a history.edn, its keyword keys turned
// into names and its values through fromEDN.
type jepsenOp struct {
	line   int
	fields map[string]any
}

// ReadJepsen reads a Jepsen history.edn: one operation map per value
// (`{:type :invoke, :f :write, :value 3, :process 0, :time 12}` or the
// `#jepsen.history.Op{...}` records Jepsen 0.3 writes), in history order.
// It understands register tests (:read, :write, :cas, each value bare or in
// a jepsen.independent [key value] tuple, or with a :key field), set tests
// (:add, :read) and transactional tests (:txn of [:append k v], [:r k v]
// and [:w k v] micro-operations; see splitTxn). Nemesis operations become
// fault events. Errors name the file and line.
func ReadJepsen(r io.Reader, name string) ([]history.Event, error) {
	ops, err := readEDNOps(r, name)
	if err != nil {
		return nil, err
	}
	c := newJepsenConverter(name, ops)
	for _, op := range ops {
		if err := c.add(op); err != nil {
			return nil, err
		}
	}
	c.finish()
	return validated(c.events, name)
}

// readEDNOps decodes every top-level value, remembering the line each one
// starts on. Values may span lines; a line that ends a value early is
// joined with the next ones until the value is complete.
func readEDNOps(r io.Reader, name string) ([]jepsenOp, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	var ops []jepsenOp
	var chunk strings.Builder
	start := 0
	for line := 1; sc.Scan(); line++ {
		if chunk.Len() == 0 {
			if strings.TrimSpace(sc.Text()) == "" {
				continue
			}
			start = line
		}
		chunk.WriteString(sc.Text())
		chunk.WriteByte('\n')
		values, err := decodeEDN(chunk.String())
		if errors.Is(err, errIncompleteEDN) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: malformed EDN: %v", name, start, err)
		}
		for _, v := range values {
			more, err := opsOf(v, start, name)
			if err != nil {
				return nil, err
			}
			ops = append(ops, more...)
		}
		chunk.Reset()
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if chunk.Len() > 0 {
		return nil, fmt.Errorf("%s:%d: truncated EDN value (the file ends inside it; %d operations before it are intact)", name, start, len(ops))
	}
	return ops, nil
}

var errIncompleteEDN = errors.New("incomplete EDN value")

// decodeEDN decodes every value of text, or reports errIncompleteEDN when
// the text ends inside one.
func decodeEDN(text string) ([]any, error) {
	d := edn.NewDecoder(strings.NewReader(text))
	var out []any
	for {
		var v any
		err := d.Decode(&v)
		switch {
		case errors.Is(err, io.EOF):
			return out, nil
		case errors.Is(err, io.ErrUnexpectedEOF), err != nil && err.Error() == "No more tokens to read":
			return nil, errIncompleteEDN
		case err != nil:
			return nil, err
		}
		out = append(out, v)
	}
}

// opsOf accepts an operation map, a tagged operation record, or a vector
// of them (older histories were one vector).
func opsOf(v any, line int, name string) ([]jepsenOp, error) {
	if tag, ok := v.(edn.Tag); ok {
		v = tag.Value
	}
	switch x := v.(type) {
	case map[any]any:
		fields := make(map[string]any, len(x))
		for k, e := range x {
			fields[ednText(k)] = fromEDN(e)
		}
		return []jepsenOp{{line: line, fields: fields}}, nil
	case []any:
		var ops []jepsenOp
		for _, e := range x {
			more, err := opsOf(e, line, name)
			if err != nil {
				return nil, err
			}
			ops = append(ops, more...)
		}
		return ops, nil
	}
	return nil, fmt.Errorf("%s:%d: want an operation map {:type .. :f .. :process ..}, got %s", name, line, history.ValueKey(fromEDN(v)))
}

// micro is one single-key operation: a whole register or set operation, or
// one micro-operation of a transaction.
type micro struct {
	f     string
	key   string
	value any
	// tuple records that the value came in an independent [key value]
	// tuple, so the completion's value is unwrapped the same way.
	tuple bool
}

type jepsenConverter struct {
	name   string
	events []history.Event
	// width is the longest transaction: micro-operation j of Jepsen process
	// p runs as Faultline process p*width+j.
	width    int
	pending  map[int][]micro
	lastTime int64
	nemesis  struct {
		open  bool
		f     string
		time  int64
		value any
		start int // index of the start event already emitted, -1 if none
	}
}

func newJepsenConverter(name string, ops []jepsenOp) *jepsenConverter {
	c := &jepsenConverter{name: name, width: 1, pending: map[int][]micro{}}
	for _, op := range ops {
		if txn, ok := history.List(op.fields["value"]); ok && op.fields["f"] == "txn" {
			c.width = max(c.width, len(txn))
		}
	}
	return c
}

func (c *jepsenConverter) errorf(op jepsenOp, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", c.name, op.line, fmt.Sprintf(format, args...))
}

func (c *jepsenConverter) add(op jepsenOp) error {
	typ, _ := op.fields["type"].(string)
	switch history.Type(typ) {
	case history.Invoke, history.Ok, history.Fail, history.Info:
	default:
		return c.errorf(op, ":type must be :invoke, :ok, :fail or :info, got %s", history.ValueKey(op.fields["type"]))
	}
	f, _ := op.fields["f"].(string)
	if f == "" {
		return c.errorf(op, "missing :f")
	}
	t, err := c.timeOf(op)
	if err != nil {
		return err
	}
	switch p := op.fields["process"].(type) {
	case string:
		if p != "nemesis" {
			return c.errorf(op, ":process must be an integer or :nemesis, got %q", p)
		}
		c.addNemesis(f, t, op.fields["value"])
		return nil
	case json.Number:
		id, err := strconv.Atoi(string(p))
		if err != nil || id < 0 {
			return c.errorf(op, ":process must be a non-negative integer or :nemesis, got %s", p)
		}
		return c.addClient(op, id, history.Type(typ), f, t)
	}
	return c.errorf(op, ":process must be an integer or :nemesis, got %s", history.ValueKey(op.fields["process"]))
}

// timeOf reads :time (relative nanoseconds); a history without times gets
// one nanosecond per operation, in order.
func (c *jepsenConverter) timeOf(op jepsenOp) (int64, error) {
	raw, ok := op.fields["time"]
	if !ok {
		c.lastTime++
		return c.lastTime, nil
	}
	n, isNum := raw.(json.Number)
	t, err := strconv.ParseInt(string(n), 10, 64)
	if !isNum || err != nil || t < 0 {
		return 0, c.errorf(op, ":time must be non-negative integer nanoseconds, got %s", history.ValueKey(raw))
	}
	if t < c.lastTime {
		return 0, c.errorf(op, ":time %d goes backwards (previous operation at %d)", t, c.lastTime)
	}
	c.lastTime = t
	return t, nil
}

// addNemesis turns Jepsen's invoke/complete pair of :info operations into
// one fault event: a start at its invocation (the fault may begin from
// then on) carrying the completion's value (what was actually done), an
// end or a one-shot event at its completion (only then is it certain).
func (c *jepsenConverter) addNemesis(f string, t int64, value any) {
	n := &c.nemesis
	if !n.open {
		n.open, n.f, n.time, n.value, n.start = true, nemesisF(f), t, value, -1
		if strings.HasSuffix(n.f, "-start") {
			n.start = len(c.events)
			c.emit(history.Event{Time: t, Process: history.NemesisProcess, Type: history.Info, F: n.f, Value: value})
		}
		return
	}
	n.open = false
	if n.start >= 0 {
		if value != nil {
			c.events[n.start].Value = value
		}
		return
	}
	if value == nil {
		value = n.value
	}
	c.emit(history.Event{Time: t, Process: history.NemesisProcess, Type: history.Info, F: n.f, Value: value})
}

// finish emits a nemesis operation that never completed, at its invocation.
func (c *jepsenConverter) finish() {
	n := &c.nemesis
	if n.open && n.start < 0 {
		c.emit(history.Event{Time: n.time, Process: history.NemesisProcess, Type: history.Info, F: n.f, Value: n.value})
	}
}

// nemesisF maps Jepsen's :start-partition / :stop-partition (and bare
// :start / :stop) to Faultline's partition-start / partition-end.
func nemesisF(f string) string {
	switch {
	case f == "start":
		return "fault-start"
	case f == "stop":
		return "fault-end"
	case strings.HasPrefix(f, "start-"):
		return strings.TrimPrefix(f, "start-") + "-start"
	case strings.HasPrefix(f, "stop-"):
		return strings.TrimPrefix(f, "stop-") + "-end"
	}
	return f
}

func (c *jepsenConverter) emit(e history.Event) { c.events = append(c.events, e) }

func (c *jepsenConverter) addClient(op jepsenOp, p int, typ history.Type, f string, t int64) error {
	value := op.fields["value"]
	errText := errorText(op.fields["error"])
	node, _ := op.fields["node"].(string)
	latency, _ := strconv.ParseInt(keyText(op.fields["latency"]), 10, 64)
	if typ == history.Invoke {
		if _, busy := c.pending[p]; busy {
			return c.errorf(op, "process %d invokes :%s while its previous operation has not completed", p, f)
		}
		micros, err := c.invocation(op, f, value)
		if err != nil {
			return err
		}
		c.pending[p] = micros
		for j, m := range micros {
			in := m.value
			if m.f == history.FRead {
				in = nil
			}
			c.emit(history.Event{Time: t, Process: history.Client(p*c.width + j), Type: history.Invoke, F: m.f, Key: m.key, Value: in})
		}
		return nil
	}
	micros, busy := c.pending[p]
	if !busy {
		return c.errorf(op, ":%s completion of :%s by process %d without a pending invocation", typ, f, p)
	}
	delete(c.pending, p)
	outputs := make([]any, len(micros))
	if typ == history.Ok {
		var err error
		if outputs, err = c.completion(op, f, value, micros); err != nil {
			return err
		}
	}
	for j, m := range micros {
		out := m.value
		if typ == history.Ok && m.f == history.FRead {
			out = outputs[j]
		} else if m.f == history.FRead {
			out = nil
		}
		c.emit(history.Event{Time: t, Process: history.Client(p*c.width + j), Type: typ, F: m.f, Key: m.key,
			Value: out, Node: node, Error: errText, Latency: latency})
	}
	return nil
}

// invocation splits an invoked operation into single-key operations.
func (c *jepsenConverter) invocation(op jepsenOp, f string, value any) ([]micro, error) {
	if f == "txn" {
		return c.txnMicros(op, value, false)
	}
	hf, ok := map[string]string{"read": history.FRead, "write": history.FWrite, "cas": history.FCas,
		"add": history.FAdd, "append": history.FAppend}[f]
	if !ok {
		return nil, c.errorf(op, "unknown :f :%s (want :read, :write, :cas, :add, :append or :txn)", f)
	}
	if k, explicit := op.fields["key"]; explicit {
		return []micro{{f: hf, key: keyText(k), value: value}}, nil
	}
	pair, isPair := history.List(value)
	switch hf {
	case history.FRead:
		if isPair && len(pair) == 2 {
			return []micro{{f: hf, key: keyText(pair[0]), tuple: true}}, nil
		}
		return []micro{{f: hf, key: SingleKey}}, nil
	case history.FCas:
		if isPair && len(pair) == 2 {
			if inner, ok := history.List(pair[1]); ok && len(inner) == 2 {
				return []micro{{f: hf, key: keyText(pair[0]), value: inner, tuple: true}}, nil
			}
			return []micro{{f: hf, key: SingleKey, value: pair}}, nil
		}
		return nil, c.errorf(op, ":cas value must be [expected new] or [key [expected new]], got %s", history.ValueKey(value))
	}
	if isPair && len(pair) == 2 {
		return []micro{{f: hf, key: keyText(pair[0]), value: pair[1], tuple: true}}, nil
	}
	if value == nil {
		return nil, c.errorf(op, ":%s invocation has no :value", f)
	}
	return []micro{{f: hf, key: SingleKey, value: value}}, nil
}

// completion returns what each read of an ok completion returned, checked
// against the invocation.
func (c *jepsenConverter) completion(op jepsenOp, f string, value any, micros []micro) ([]any, error) {
	if f == "txn" {
		done, err := c.txnMicros(op, value, true)
		if err != nil {
			return nil, err
		}
		if len(done) != len(micros) {
			return nil, c.errorf(op, "completed :txn has %d micro-operations, its invocation %d", len(done), len(micros))
		}
		out := make([]any, len(done))
		for j, m := range done {
			if m.f != micros[j].f || m.key != micros[j].key {
				return nil, c.errorf(op, "micro-operation %d is %s of %q, its invocation %s of %q", j, m.f, m.key, micros[j].f, micros[j].key)
			}
			out[j] = m.value
		}
		return out, nil
	}
	m := micros[0]
	if m.f != history.FRead {
		return []any{nil}, nil
	}
	if !m.tuple {
		return []any{value}, nil
	}
	pair, ok := history.List(value)
	if !ok || len(pair) != 2 || keyText(pair[0]) != m.key {
		return nil, c.errorf(op, "read of key %q must complete with [%s value], got %s", m.key, m.key, history.ValueKey(value))
	}
	return []any{pair[1]}, nil
}

// txnMicros reads a transaction's micro-operations [:append k v], [:r k v]
// and [:w k v]. Faultline checks each key on its own, so a transaction
// becomes one operation per micro-operation, all over the transaction's
// interval: sound (a strictly serializable history stays linearizable per
// key) but blind to anomalies that span keys, which Elle finds.
func (c *jepsenConverter) txnMicros(op jepsenOp, value any, completed bool) ([]micro, error) {
	list, ok := history.List(value)
	if !ok || len(list) == 0 {
		return nil, c.errorf(op, ":txn value must be a vector of micro-operations, got %s", history.ValueKey(value))
	}
	out := make([]micro, len(list))
	for j, raw := range list {
		mop, ok := history.List(raw)
		if !ok || len(mop) != 3 {
			return nil, c.errorf(op, "micro-operation %d must be [f key value], got %s", j, history.ValueKey(raw))
		}
		f, _ := mop[0].(string)
		hf, ok := map[string]string{"append": history.FAppend, "r": history.FRead, "w": history.FWrite}[f]
		if !ok {
			return nil, c.errorf(op, "micro-operation %d: unknown function %s (want :append, :r or :w)", j, history.ValueKey(mop[0]))
		}
		if !completed && hf != history.FRead && mop[2] == nil {
			return nil, c.errorf(op, "micro-operation %d: %s has no value", j, f)
		}
		out[j] = micro{f: hf, key: keyText(mop[1]), value: mop[2]}
	}
	return out, nil
}

// keyText is a key as Faultline names it: strings as they are, numbers in
// their decimal form.
func keyText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	}
	return history.ValueKey(v)
}

// errorText is an :error value as text: a string or keyword as it is,
// anything else (Jepsen often records [:timeout ...]) as JSON.
func errorText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
