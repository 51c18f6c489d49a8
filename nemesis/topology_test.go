package nemesis

import (
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/faultline/faultline/sut/runtime"
)

var five = []string{"n1", "n2", "n3", "n4", "n5"}

func TestIsolateGrudge(t *testing.T) {
	groups := IsolateGroups(five, "n3")
	if !reflect.DeepEqual(groups, [][]string{{"n3"}, {"n1", "n2", "n4", "n5"}}) {
		t.Fatalf("groups %v", groups)
	}
	want := runtime.Grudge{
		"n3": {"n1", "n2", "n4", "n5"},
		"n1": {"n3"}, "n2": {"n3"}, "n4": {"n3"}, "n5": {"n3"},
	}
	if got := GroupsGrudge(groups); !reflect.DeepEqual(got, want) {
		t.Fatalf("grudge %v, want %v", got, want)
	}
}

func TestHalvesGrudge(t *testing.T) {
	groups := HalvesGroups(five)
	if !reflect.DeepEqual(groups, [][]string{{"n1", "n2"}, {"n3", "n4", "n5"}}) {
		t.Fatalf("groups %v: want the minority first", groups)
	}
	want := runtime.Grudge{
		"n1": {"n3", "n4", "n5"}, "n2": {"n3", "n4", "n5"},
		"n3": {"n1", "n2"}, "n4": {"n1", "n2"}, "n5": {"n1", "n2"},
	}
	if got := GroupsGrudge(groups); !reflect.DeepEqual(got, want) {
		t.Fatalf("grudge %v, want %v", got, want)
	}
}

func TestMajoritiesRingGrudge(t *testing.T) {
	// Ring n1-n2-n3-n4-n5-n1: each node hears itself and its two neighbours.
	want := runtime.Grudge{
		"n1": {"n3", "n4"}, "n2": {"n4", "n5"}, "n3": {"n1", "n5"},
		"n4": {"n1", "n2"}, "n5": {"n2", "n3"},
	}
	if got := MajoritiesRingGrudge(five); !reflect.DeepEqual(got, want) {
		t.Fatalf("grudge %v, want %v", got, want)
	}
	for n := 4; n <= 9; n++ {
		nodes := make([]string, n)
		for i := range nodes {
			nodes[i] = fmt.Sprintf("n%d", i+1)
		}
		g := MajoritiesRingGrudge(nodes)
		seen := map[string]string{}
		for _, dst := range nodes {
			var hears []string
			for _, src := range nodes {
				if Hears(g, dst, src) {
					hears = append(hears, src)
				}
				if Hears(g, dst, src) != Hears(g, src, dst) {
					t.Errorf("n=%d: ring is not symmetric between %s and %s", n, dst, src)
				}
			}
			if len(hears) < n/2+1 || len(hears) == n {
				t.Errorf("n=%d: %s hears %v: want a majority, not everyone", n, dst, hears)
			}
			key := fmt.Sprint(hears)
			if other, dup := seen[key]; dup {
				t.Errorf("n=%d: %s and %s see the same majority %v", n, dst, other, hears)
			}
			seen[key] = dst
		}
	}
}

func TestBridgeGrudge(t *testing.T) {
	want := runtime.Grudge{
		"n1": {"n4", "n5"}, "n2": {"n4", "n5"},
		"n4": {"n1", "n2"}, "n5": {"n1", "n2"},
	}
	g := BridgeGrudge(five)
	if !reflect.DeepEqual(g, want) {
		t.Fatalf("grudge %v, want %v", g, want)
	}
	if b := BridgeNode(five); b != "n3" {
		t.Fatalf("bridge %s, want n3", b)
	}
	for _, n := range five {
		if !Hears(g, "n3", n) || !Hears(g, n, "n3") {
			t.Errorf("the bridge and %s must hear each other", n)
		}
	}
}

func TestOneWayGrudge(t *testing.T) {
	g := OneWayGrudge(five, "n2")
	want := runtime.Grudge{"n2": {"n1", "n3", "n4", "n5"}}
	if !reflect.DeepEqual(g, want) {
		t.Fatalf("grudge %v, want %v", g, want)
	}
	if Hears(g, "n2", "n1") || !Hears(g, "n1", "n2") {
		t.Fatal("one-way: n2 must not hear n1, while n1 still hears n2")
	}
}

func TestGrudgeListsAreSortedAndSkipSelf(t *testing.T) {
	shuffled := []string{"n4", "n1", "n5", "n3", "n2"}
	for name, g := range map[string]runtime.Grudge{
		"ring":   MajoritiesRingGrudge(shuffled),
		"bridge": BridgeGrudge(shuffled),
		"halves": GroupsGrudge(HalvesGroups(shuffled)),
	} {
		for dst, srcs := range g {
			if !slices.IsSorted(srcs) {
				t.Errorf("%s: %s drops %v, not sorted", name, dst, srcs)
			}
			if slices.Contains(srcs, dst) || len(srcs) == 0 {
				t.Errorf("%s: %s drops %v", name, dst, srcs)
			}
		}
	}
}
