package check

import (
	"math"
	"slices"
	"testing"

	"github.com/anishathalye/porcupine"
)

// pop builds a Porcupine operation on the models' inputs; ret < 0 means unknown outcome.
func pop(in input, out output, call, ret int64) porcupine.Operation {
	if ret < 0 {
		in.unknown = true
		ret = math.MaxInt64
	}
	return porcupine.Operation{Input: &in, Output: &out, Call: call, Return: ret}
}

func rd(v string) (input, output) { return input{kind: kindRead}, output{value: v} }
func rdSet(l ...string) (input, output) {
	out := output{list: slices.Sorted(slices.Values(l))}
	readDigests(&out, true)
	return input{kind: kindRead}, out
}
func rdApp(l ...string) (input, output) {
	out := output{list: l}
	readDigests(&out, false)
	return input{kind: kindRead}, out
}
func wr(v string) (input, output)         { return input{kind: kindWrite, arg: v}, output{} }
func cas(from, to string) (input, output) { return input{kind: kindCas, arg: from, new: to}, output{} }
func add(e string) (input, output) {
	return input{kind: kindAdd, arg: e, argHash: elemHash(e), mayRepeat: true}, output{}
}
func app(e string) (input, output) {
	return input{kind: kindAppend, arg: e, argHash: elemHash(e)}, output{}
}

func at2(in input, out output) func(call, ret int64) porcupine.Operation {
	return func(call, ret int64) porcupine.Operation { return pop(in, out, call, ret) }
}

func TestModels(t *testing.T) {
	cases := []struct {
		name  string
		model porcupine.Model
		ops   []porcupine.Operation
		want  bool
	}{
		{"register reads absent first", registerModel, []porcupine.Operation{at2(rd(nullValue))(0, 1)}, true},
		{"register read of unwritten value", registerModel, []porcupine.Operation{at2(rd("1"))(0, 1)}, false},
		{"register write then read", registerModel, []porcupine.Operation{at2(wr("1"))(0, 1), at2(rd("1"))(2, 3)}, true},
		{"register read overlapping write may see either", registerModel,
			[]porcupine.Operation{at2(wr("1"))(0, 10), at2(rd(nullValue))(1, 2), at2(rd("1"))(3, 4)}, true},
		{"register no going back", registerModel,
			[]porcupine.Operation{at2(wr("1"))(0, 10), at2(rd("1"))(1, 2), at2(rd(nullValue))(3, 4)}, false},
		{"register cas swaps", registerModel,
			[]porcupine.Operation{at2(wr("1"))(0, 1), at2(cas("1", "2"))(2, 3), at2(rd("2"))(4, 5)}, true},
		{"register ok cas needs a match", registerModel,
			[]porcupine.Operation{at2(wr("1"))(0, 1), at2(cas("3", "2"))(2, 3)}, false},
		{"register unknown cas without match is a no-op", registerModel,
			[]porcupine.Operation{at2(wr("1"))(0, 1), at2(cas("3", "2"))(2, -1), at2(rd("1"))(4, 5)}, true},
		{"register unknown write may land late", registerModel,
			[]porcupine.Operation{at2(wr("1"))(0, -1), at2(wr("2"))(2, 3), at2(rd("2"))(4, 5), at2(rd("1"))(6, 7)}, true},
		{"register unknown write cannot land before its call", registerModel,
			[]porcupine.Operation{at2(rd("1"))(0, 1), at2(wr("1"))(2, -1)}, false},
		{"set grows", setModel,
			[]porcupine.Operation{at2(add("1"))(0, 1), at2(add("2"))(2, 3), at2(rdSet("1", "2"))(4, 5)}, true},
		{"set adding twice is idempotent", setModel,
			[]porcupine.Operation{at2(add("1"))(0, 1), at2(add("1"))(2, 3), at2(rdSet("1"))(4, 5)}, true},
		{"set read with a duplicate", setModel,
			[]porcupine.Operation{at2(add("1"))(0, 1), at2(rdSet("1", "1"))(4, 5)}, false},
		{"set read missing an element", setModel,
			[]porcupine.Operation{at2(add("1"))(0, 1), at2(rdSet())(2, 3)}, false},
		{"append keeps order", appendModel,
			[]porcupine.Operation{at2(app("a"))(0, 1), at2(app("b"))(2, 3), at2(rdApp("a", "b"))(4, 5)}, true},
		{"append wrong order", appendModel,
			[]porcupine.Operation{at2(app("a"))(0, 1), at2(app("b"))(2, 3), at2(rdApp("b", "a"))(4, 5)}, false},
		{"append concurrent either order", appendModel,
			[]porcupine.Operation{at2(app("a"))(0, 3), at2(app("b"))(0, 3), at2(rdApp("b", "a"))(4, 5)}, true},
		{"append same element twice", appendModel,
			[]porcupine.Operation{at2(app("a"))(0, 1), at2(app("a"))(2, 3), at2(rdApp("a", "a"))(4, 5)}, true},
	}
	for _, c := range cases {
		if got := porcupine.CheckOperations(c.model, c.ops); got != c.want {
			t.Errorf("%s: linearizable = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestModelsArePureAndHashConsistent(t *testing.T) {
	appendTo := func(s any, e string) any {
		_, next := appendModel.Step(s, &input{kind: kindAppend, arg: e, argHash: elemHash(e)}, &output{})
		return next
	}
	a := appendTo(appendModel.Init(), "a")
	ab, ac := appendTo(a, "b"), appendTo(a, "c")
	if got := ab.(*collection).elems(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("a sibling step changed the state: %v", got)
	}
	ac2 := appendTo(appendTo(appendModel.Init(), "a"), "c")
	if !appendModel.Equal(ac, ac2) || appendModel.Hash(ac) != appendModel.Hash(ac2) || appendModel.Equal(ab, ac) {
		t.Fatal("append states: equal lists must be Equal with equal hashes, different ones not Equal")
	}
	ca := appendTo(appendTo(appendModel.Init(), "c"), "a")
	if appendModel.Equal(ac, ca) || appendModel.Hash(ac) == appendModel.Hash(ca) {
		t.Fatal("append states must depend on order")
	}

	addTo := func(s any, e string) any {
		_, next := setModel.Step(s, &input{kind: kindAdd, arg: e, argHash: elemHash(e), mayRepeat: true}, &output{})
		return next
	}
	s13 := addTo(addTo(setModel.Init(), "1"), "3")
	s31 := addTo(addTo(addTo(setModel.Init(), "3"), "1"), "3")
	if !setModel.Equal(s13, s31) || setModel.Hash(s13) != setModel.Hash(s31) {
		t.Fatal("set states: the same members in another order must be Equal with equal hashes")
	}
	if setModel.DescribeState(addTo(s13, "2")) != "{1 2 3}" || appendModel.DescribeState(ca) != "[c a]" {
		t.Fatalf("descriptions %q %q", setModel.DescribeState(addTo(s13, "2")), appendModel.DescribeState(ca))
	}
	if registerModel.DescribeState(nullValue) != "absent" ||
		registerModel.DescribeOperation(&input{kind: kindCas, arg: "1", new: "2", unknown: true}, &output{}) != "cas(1 → 2) ?" {
		t.Fatal("register descriptions")
	}
}
