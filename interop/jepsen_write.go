package interop

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"

	"olympos.io/encoding/edn"

	"github.com/faultline/faultline/history"
)

// WriteJepsen writes events as a Jepsen history.edn, one operation map per
// line: register and set operations as jepsen.independent [key value]
// tuples, appends and the reads of an append history as single-micro-op
// :txn operations (as Jepsen's list-append test records them), and each
// fault event as Jepsen's nemesis pair of :info operations. ReadJepsen reads
// it back to the same events.
func WriteJepsen(w io.Writer, events []history.Event) error {
	appendHistory := false
	for _, e := range events {
		if e.F == history.FAppend {
			appendHistory = true
			break
		}
	}
	bw := bufio.NewWriter(w)
	index := 0
	var buf bytes.Buffer
	for _, e := range events {
		ops, err := jepsenOps(e, appendHistory)
		if err != nil {
			return err
		}
		for _, op := range ops {
			buf.Reset()
			if err := op.write(&buf, index); err != nil {
				return fmt.Errorf("jepsen export: event at %d ns: %w", e.Time, err)
			}
			buf.WriteByte('\n')
			if _, err := bw.Write(buf.Bytes()); err != nil {
				return err
			}
			index++
		}
	}
	return bw.Flush()
}

// jepsenLine is one operation map of the output, in Jepsen's field order.
type jepsenLine struct {
	time    int64
	typ     history.Type
	process any // int or the :nemesis keyword
	f       string
	value   any // a toEDN value
	errText string
	node    string
	latency int64
}

func (l jepsenLine) write(buf *bytes.Buffer, index int) error {
	fmt.Fprintf(buf, "{:index %d, :time %d, :type :%s, :process ", index, l.time, l.typ)
	if err := writeEDN(buf, l.process); err != nil {
		return err
	}
	fmt.Fprintf(buf, ", :f %s, :value ", edn.Keyword(l.f))
	if err := writeEDN(buf, l.value); err != nil {
		return err
	}
	if l.errText != "" {
		buf.WriteString(", :error ")
		if err := writeEDN(buf, l.errText); err != nil {
			return err
		}
	}
	if l.node != "" {
		buf.WriteString(", :node ")
		if err := writeEDN(buf, l.node); err != nil {
			return err
		}
	}
	if l.latency != 0 {
		fmt.Fprintf(buf, ", :latency %d", l.latency)
	}
	buf.WriteByte('}')
	return nil
}

// jepsenOps returns the Jepsen operations of one event: two for a fault
// event (Jepsen's nemesis invokes and completes), one otherwise.
func jepsenOps(e history.Event, appendHistory bool) ([]jepsenLine, error) {
	if e.Process.Nemesis {
		l := jepsenLine{time: e.Time, typ: history.Info, process: edn.Keyword("nemesis"), f: jepsenNemesisF(e.F), value: toEDN(e.Value)}
		return []jepsenLine{l, l}, nil
	}
	l := jepsenLine{time: e.Time, typ: e.Type, process: int64(e.Process.ID), f: e.F, errText: e.Error, node: e.Node, latency: e.Latency}
	value := toEDN(e.Value)
	if e.F == history.FRead && e.Type != history.Ok {
		value = nil
	}
	key := e.Key
	if e.F == history.FAppend || (e.F == history.FRead && appendHistory) {
		mop := "append"
		if e.F == history.FRead {
			mop = "r"
		}
		l.f, l.value = "txn", []any{[]any{edn.Keyword(mop), key, value}}
		return []jepsenLine{l}, nil
	}
	l.value = []any{key, value}
	return []jepsenLine{l}, nil
}

// jepsenNemesisF is nemesisF backwards: partition-start becomes
// :start-partition.
func jepsenNemesisF(f string) string {
	switch {
	case strings.HasSuffix(f, "-start"):
		return "start-" + strings.TrimSuffix(f, "-start")
	case strings.HasSuffix(f, "-end"):
		return "stop-" + strings.TrimSuffix(f, "-end")
	}
	return f
}
