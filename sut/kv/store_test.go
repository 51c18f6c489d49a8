package kv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/faultline/faultline/sut/bugs"
)

// roundTrip encodes and decodes c the way the log does.
func roundTrip(t *testing.T, c Command) Command {
	t.Helper()
	b, err := EncodeCommand(c)
	if err != nil {
		t.Fatalf("EncodeCommand(%+v): %v", c, err)
	}
	got, err := DecodeCommand(b)
	if err != nil {
		t.Fatalf("DecodeCommand(%s): %v", b, err)
	}
	return got
}

func TestCommandCodecKeepsNumbersExact(t *testing.T) {
	c := roundTrip(t, Command{Op: OpPut, Key: "k", Value: int64(9007199254740993), ClientID: "c1", Seq: 7})
	n, ok := c.Value.(json.Number)
	if !ok || n.String() != "9007199254740993" {
		t.Fatalf("value decoded as %T %v, want json.Number 9007199254740993", c.Value, c.Value)
	}
	if c.ClientID != "c1" || c.Seq != 7 || c.Op != OpPut || c.Key != "k" {
		t.Fatalf("fields lost in round trip: %+v", c)
	}
}

func TestCommandCodecRejectsBadInput(t *testing.T) {
	cases := map[string]string{
		`{"op":"frobnicate","key":"k"}`:      "field op",
		`{"op":"put"}`:                       "field key",
		`{"op":"put","key":"k","seq":3}`:     "client_id",
		`{"op":"put","key":"k"} {"x":1}`:     "trailing",
		`{"op":"put","key":"k","seq":"two"}`: "decoding command",
	}
	for in, want := range cases {
		_, err := DecodeCommand([]byte(in))
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(want)) {
			t.Errorf("DecodeCommand(%s) = %v, want an error mentioning %q", in, err, want)
		}
	}
	if _, err := EncodeCommand(Command{Op: "", Key: "k"}); err == nil {
		t.Error("EncodeCommand accepted an empty op")
	}
}

func TestPutGetDelete(t *testing.T) {
	s := New(nil)
	if _, found := s.Get("k"); found {
		t.Fatal("empty store has k")
	}
	if r := s.Apply(1, roundTrip(t, Command{Op: OpPut, Key: "k", Value: 42})); r.Err != "" || r.Found {
		t.Fatalf("first put: %+v", r)
	}
	v, found := s.Get("k")
	if !found || v != json.Number("42") {
		t.Fatalf("Get after put = %#v, %v; want json.Number(42)", v, found)
	}
	// A value built in Go (not decoded) is stored in its decoded shape too.
	s.Apply(2, Command{Op: OpPut, Key: "k2", Value: 7})
	if v, _ := s.Get("k2"); v != json.Number("7") {
		t.Fatalf("Go int stored as %#v, want json.Number(7)", v)
	}
	r := s.Apply(3, Command{Op: OpGet, Key: "k"})
	if !r.Found || r.Value != json.Number("42") {
		t.Fatalf("get through the log = %+v", r)
	}
	if r := s.Apply(4, Command{Op: OpDelete, Key: "k"}); !r.Found {
		t.Fatalf("delete of a present key reported found=false: %+v", r)
	}
	if _, found := s.Get("k"); found {
		t.Fatal("k still present after delete")
	}
	if r := s.Apply(5, Command{Op: OpDelete, Key: "k"}); r.Found || r.Err != "" {
		t.Fatalf("delete of an absent key: %+v", r)
	}
	if r := s.Apply(6, Command{Op: OpGet, Key: "k"}); r.Found || r.Value != nil {
		t.Fatalf("get of a deleted key: %+v", r)
	}
	if s.Applied() != 6 {
		t.Fatalf("Applied = %d, want 6", s.Applied())
	}
}

func TestCasSemantics(t *testing.T) {
	s := New(nil)
	// Absent reads as null: cas from null succeeds on an absent key.
	if r := s.Apply(1, Command{Op: OpCas, Key: "k", Expect: nil, Value: 1}); !r.Swapped {
		t.Fatalf("cas null->1 on absent key: %+v", r)
	}
	if r := s.Apply(2, Command{Op: OpCas, Key: "k", Expect: 5, Value: 6}); r.Swapped || r.Value != json.Number("1") {
		t.Fatalf("cas with a wrong expectation: %+v", r)
	}
	if v, _ := s.Get("k"); v != json.Number("1") {
		t.Fatalf("failed cas changed the value to %v", v)
	}
	// Expectation compared canonically: a decoded json.Number matches a Go int.
	c := roundTrip(t, Command{Op: OpCas, Key: "k", Expect: 1, Value: "two"})
	if r := s.Apply(3, c); !r.Swapped || !r.Found {
		t.Fatalf("cas 1->two: %+v", r)
	}
	if r := s.Apply(4, Command{Op: OpCas, Key: "k", Expect: 2, Value: 3}); r.Swapped {
		t.Fatalf("the string \"two\" matched the number 2: %+v", r)
	}
	if r := s.Apply(5, Command{Op: OpCas, Key: "k", Expect: "two", Value: 3}); !r.Swapped {
		t.Fatalf("cas two->3: %+v", r)
	}
	if v, _ := s.Get("k"); v != json.Number("3") {
		t.Fatalf("after cas k = %#v", v)
	}
}

func TestAppend(t *testing.T) {
	s := New(nil)
	r1 := s.Apply(1, Command{Op: OpAppend, Key: "l", Value: 1})
	r2 := s.Apply(2, Command{Op: OpAppend, Key: "l", Value: "x"})
	want := []any{json.Number("1"), "x"}
	if !reflect.DeepEqual(r2.Value, want) || !r2.Found {
		t.Fatalf("second append result %+v, want list %v", r2, want)
	}
	// The list returned by the first append is not changed by the second.
	if !reflect.DeepEqual(r1.Value, []any{json.Number("1")}) {
		t.Fatalf("first append's list changed to %v", r1.Value)
	}
	// A caller appending to a list it got earlier (as a speculative answer
	// might) must not write into the store's array. Three elements leave
	// spare capacity in the store's array.
	r3 := s.Apply(5, Command{Op: OpAppend, Key: "l", Value: "y"})
	got, _ := s.Get("l")
	s.Apply(6, Command{Op: OpAppend, Key: "l", Value: "z"})
	_ = append(got.([]any), "caller's")
	_ = append(r3.Value.([]any), "caller's")
	if v, _ := s.Get("l"); v.([]any)[3] != "z" {
		t.Fatalf("store list corrupted by a caller's append: %v", v)
	}

	s.Apply(3, Command{Op: OpPut, Key: "scalar", Value: 5})
	if r := s.Apply(4, Command{Op: OpAppend, Key: "scalar", Value: 6}); r.Err != ErrNotAList {
		t.Fatalf("append to a number: %+v, want Err %q", r, ErrNotAList)
	}
	if v, _ := s.Get("scalar"); v != json.Number("5") {
		t.Fatalf("failed append changed scalar to %v", v)
	}
}

func TestUnknownOpIsRefusedWithoutChange(t *testing.T) {
	s := New(nil)
	r := s.Apply(1, Command{Op: "incr", Key: "k"})
	if r.Err == "" {
		t.Fatal("unknown op applied without error")
	}
	if s.Len() != 0 || s.Applied() != 1 {
		t.Fatalf("unknown op: len %d applied %d", s.Len(), s.Applied())
	}
}

func TestSessionAppliesRetryOnce(t *testing.T) {
	s := New(nil)
	c := Command{Op: OpAppend, Key: "l", Value: 1, ClientID: "c", Seq: 1}
	first := s.Apply(1, c)
	second := s.Apply(2, c) // the retry, committed again at a later index
	if !reflect.DeepEqual(first, second) {
		t.Fatalf("retry got %+v, want the first result %+v", second, first)
	}
	if v, _ := s.Get("l"); !reflect.DeepEqual(v, []any{json.Number("1")}) {
		t.Fatalf("list after a retried append = %v, want [1]", v)
	}
	// Another client with the same seq is independent.
	s.Apply(3, Command{Op: OpAppend, Key: "l", Value: 2, ClientID: "d", Seq: 1})
	if v, _ := s.Get("l"); len(v.([]any)) != 2 {
		t.Fatalf("a different client's seq 1 was deduplicated: %v", v)
	}
}

func TestNoDedupBugAppliesRetryTwice(t *testing.T) {
	s := New(bugs.Set{bugs.NoDedup: true})
	c := Command{Op: OpAppend, Key: "l", Value: 1, ClientID: "c", Seq: 1}
	s.Apply(1, c)
	s.Apply(2, c)
	want := []any{json.Number("1"), json.Number("1")}
	if v, _ := s.Get("l"); !reflect.DeepEqual(v, want) {
		t.Fatalf("with no-dedup the list is %v, want %v", v, want)
	}
}

func TestSessionOutOfOrderSeqsAndStaleness(t *testing.T) {
	s := New(nil)
	idx := uint64(0)
	apply := func(seq uint64, v int) Result {
		idx++
		return s.Apply(idx, Command{Op: OpPut, Key: fmt.Sprint("k", v), Value: v, ClientID: "c", Seq: seq})
	}
	// Two operations in flight from one client id commit out of seq order:
	// both apply.
	apply(2, 2)
	if r := apply(1, 1); r.Err != "" {
		t.Fatalf("seq 1 after seq 2: %+v", r)
	}
	if _, found := s.Get("k1"); !found {
		t.Fatal("seq 1 committed after seq 2 was not applied")
	}
	// Push seq 1 and 2 out of the window.
	for seq := uint64(3); seq < 3+sessionWindow; seq++ {
		apply(seq, int(seq))
	}
	if r := apply(1, 1); r.Err != ErrStaleSequence {
		t.Fatalf("evicted seq 1 retried: %+v, want Err %q", r, ErrStaleSequence)
	}
	// The newest seq is still answered from the session.
	last := uint64(2 + sessionWindow)
	if r := apply(last, -1); r.Err != "" {
		t.Fatalf("retry of the newest seq: %+v", r)
	}
	if _, found := s.Get("k-1"); found {
		t.Fatal("retry of the newest seq was applied again")
	}
}

func TestSnapshotRoundTripIncludesSessions(t *testing.T) {
	s := New(nil)
	s.Apply(1, Command{Op: OpPut, Key: "a", Value: 9007199254740993})
	s.Apply(2, Command{Op: OpAppend, Key: "l", Value: "x", ClientID: "c", Seq: 5})
	s.Apply(3, Command{Op: OpCas, Key: "a", Expect: 1, Value: 2, ClientID: "c", Seq: 6})
	s.Advance(4)
	img, err := s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	r := New(nil)
	if err := r.Restore(img); err != nil {
		t.Fatal(err)
	}
	if r.Applied() != 4 {
		t.Fatalf("restored applied = %d, want 4", r.Applied())
	}
	if v, _ := r.Get("a"); v != json.Number("9007199254740993") {
		t.Fatalf("restored a = %#v", v)
	}
	// The session survived: retrying seq 5 returns the stored result and
	// does not append again; retrying seq 6 still says not swapped.
	res := r.Apply(5, Command{Op: OpAppend, Key: "l", Value: "x", ClientID: "c", Seq: 5})
	if !reflect.DeepEqual(res.Value, []any{"x"}) {
		t.Fatalf("retried append after restore: %+v", res)
	}
	if v, _ := r.Get("l"); !reflect.DeepEqual(v, []any{"x"}) {
		t.Fatalf("list after restore and retry: %v", v)
	}
	if res := r.Apply(6, Command{Op: OpCas, Key: "a", Expect: 9007199254740993, Value: 2, ClientID: "c", Seq: 6}); res.Swapped {
		t.Fatalf("retried cas after restore was applied: %+v", res)
	}
	// Equal states give equal images.
	s.Apply(5, Command{Op: OpAppend, Key: "l", Value: "x", ClientID: "c", Seq: 5})
	s.Apply(6, Command{Op: OpCas, Key: "a", Expect: 9007199254740993, Value: 2, ClientID: "c", Seq: 6})
	a, _ := s.Snapshot()
	b, _ := r.Snapshot()
	if !bytes.Equal(a, b) {
		t.Fatalf("equal stores gave different images:\n%s\n%s", a, b)
	}
}

func TestRestoreRejectsGarbageAndKeepsState(t *testing.T) {
	s := New(nil)
	s.Apply(1, Command{Op: OpPut, Key: "k", Value: 1})
	for _, bad := range []string{`{`, `{"version":99}`, `{"version":1,"sessions":{"c":null}}`} {
		if err := s.Restore([]byte(bad)); err == nil {
			t.Errorf("Restore(%s) accepted garbage", bad)
		}
	}
	if v, _ := s.Get("k"); v != json.Number("1") || s.Applied() != 1 {
		t.Fatal("failed Restore changed the store")
	}
}

func TestConcurrentReadersWithApplier(t *testing.T) {
	s := New(nil)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if v, ok := s.Get("l"); ok {
					if l := v.([]any); len(l) > 0 && l[0] != json.Number("0") {
						t.Errorf("reader saw first element %v", l[0])
						return
					}
				}
				_ = s.Applied()
				if _, err := s.Snapshot(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for i := 1; i <= 500; i++ {
		s.Apply(uint64(i), Command{Op: OpAppend, Key: "l", Value: i - 1})
	}
	close(stop)
	wg.Wait()
	v, _ := s.Get("l")
	if n := len(v.([]any)); n != 500 {
		t.Fatalf("list has %d elements, want 500", n)
	}
}

func TestAckForgetsAnsweredResults(t *testing.T) {
	s := New(nil)
	put := func(idx, seq, ack uint64) Result {
		return s.Apply(idx, Command{Op: OpPut, Key: fmt.Sprint("k", seq), Value: seq, ClientID: "c", Seq: seq, Ack: ack})
	}
	put(1, 1, 1)
	put(2, 2, 1) // seq 1 still unanswered: both kept
	if n := len(s.sessions["c"].Results); n != 2 {
		t.Fatalf("%d results kept, want 2", n)
	}
	put(3, 3, 3) // 1 and 2 answered
	sess := s.sessions["c"]
	if len(sess.Results) != 1 || sess.Floor != 2 {
		t.Fatalf("after ack 3: %d results, floor %d; want 1 and 2", len(sess.Results), sess.Floor)
	}
	// A late copy of an answered seq is refused, not applied.
	s.Apply(4, Command{Op: OpDelete, Key: "k1"})
	if r := put(5, 1, 1); r.Err != ErrStaleSequence {
		t.Fatalf("late copy of seq 1: %+v", r)
	}
	if _, found := s.Get("k1"); found {
		t.Fatal("late copy of an acknowledged seq was applied")
	}
	// The current seq's retry still gets its result.
	if r := put(6, 3, 3); r.Err != "" {
		t.Fatalf("retry of seq 3: %+v", r)
	}
	if _, err := EncodeCommand(Command{Op: OpPut, Key: "k", ClientID: "c", Seq: 2, Ack: 3}); err == nil {
		t.Fatal("ack above seq accepted")
	}
}
