package kv

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/faultline/faultline/sut/value"
	"pgregory.net/rapid"
)

// genCommand draws a command on a few keys from a few clients; a retry
// repeats an earlier write exactly, as a client re-sending it would.
func genCommand(rt *rapid.T, sent []Command) Command {
	if len(sent) > 0 && rapid.IntRange(0, 3).Draw(rt, "retry") == 0 {
		return sent[rapid.IntRange(0, len(sent)-1).Draw(rt, "which")]
	}
	c := Command{
		Op:  rapid.SampledFrom([]string{OpGet, OpPut, OpCas, OpAppend, OpDelete}).Draw(rt, "op"),
		Key: rapid.SampledFrom([]string{"a", "b", "c"}).Draw(rt, "key"),
	}
	v := rapid.IntRange(0, 3).Draw(rt, "value")
	c.Value = v
	if c.Op == OpCas {
		c.Expect = rapid.SampledFrom([]any{nil, 0, 1, 2, 3}).Draw(rt, "expect")
	}
	if IsWrite(c.Op) && rapid.Bool().Draw(rt, "session") {
		c.ClientID = rapid.SampledFrom([]string{"c1", "c2"}).Draw(rt, "client")
		c.Seq = uint64(len(sent) + 1)
		c.Ack = rapid.Uint64Range(0, c.Seq).Draw(rt, "ack")
	}
	return c
}

// TestSnapshotAnywhereEqualsContinuousApply: a replica that restores a
// snapshot taken at any point and applies the rest of the log ends in the
// same state, sessions included, as one that applied everything.
func TestSnapshotAnywhereEqualsContinuousApply(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, 60).Draw(rt, "commands")
		var log []Command
		for range n {
			c := genCommand(rt, log)
			log = append(log, c)
		}
		cut := rapid.IntRange(0, n).Draw(rt, "cut")

		whole := New(nil)
		var results []Result
		for i, c := range log {
			results = append(results, whole.Apply(uint64(i+1), c))
		}
		first := New(nil)
		for i, c := range log[:cut] {
			first.Apply(uint64(i+1), c)
		}
		img, err := first.Snapshot()
		if err != nil {
			rt.Fatal(err)
		}
		restored := New(nil)
		if err := restored.Restore(img); err != nil {
			rt.Fatal(err)
		}
		for i, c := range log[cut:] {
			idx := cut + i
			if got := restored.Apply(uint64(idx+1), c); value.Key(got) != value.Key(results[idx]) {
				rt.Fatalf("command %d %+v: restored replica answered %+v, continuous one %+v", idx+1, c, got, results[idx])
			}
		}
		a, _ := whole.Snapshot()
		b, _ := restored.Snapshot()
		if !bytes.Equal(a, b) {
			rt.Fatalf("states differ:\n%s\n%s", a, b)
		}
	})
}

// TestRetriedAppendsApplyOnce: however session writes are retried, every
// (client, seq) appears once in its list, in first-application order.
func TestRetriedAppendsApplyOnce(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		s := New(nil)
		var sent []Command
		want := map[string][]string{}
		applied := map[string]bool{}
		n := rapid.IntRange(1, 80).Draw(rt, "commands")
		for i := range n {
			var c Command
			if len(sent) > 0 && rapid.Bool().Draw(rt, "retry") {
				c = sent[rapid.IntRange(0, len(sent)-1).Draw(rt, "which")]
			} else {
				client := rapid.SampledFrom([]string{"c1", "c2", "c3"}).Draw(rt, "client")
				c = Command{Op: OpAppend, Key: rapid.SampledFrom([]string{"x", "y"}).Draw(rt, "key"),
					ClientID: client, Seq: uint64(i + 1)}
				c.Value = fmt.Sprintf("%s/%d", client, c.Seq)
				sent = append(sent, c)
			}
			id := c.Value.(string)
			first := !applied[id]
			res := s.Apply(uint64(i+1), c)
			if res.Err != "" {
				rt.Fatalf("append %s: %s", id, res.Err)
			}
			if first {
				applied[id] = true
				want[c.Key] = append(want[c.Key], id)
			}
		}
		for key, ids := range want {
			v, _ := s.Get(key)
			if value.Key(v) != value.Key(toAny(ids)) {
				rt.Fatalf("list %s = %v, want each element once: %v", key, v, ids)
			}
		}
	})
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
