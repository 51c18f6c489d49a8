package report

import (
	"reflect"
	"testing"
)

func TestOverlappingFaultsGetTheirOwnLanes(t *testing.T) {
	faults := []Fault{
		{Kind: "partition", Start: 0, End: 100},
		{Kind: "kill", Start: 50, End: 150},   // overlaps the partition
		{Kind: "clock", Start: 60, End: 70},   // overlaps both
		{Kind: "pause", Start: 100, End: 120}, // the partition's lane is free again
		{Kind: "heal", Start: 200, End: 200},  // a point event
	}
	if got, want := faultLanes(faults), []int{0, 1, 2, 0, 0}; !reflect.DeepEqual(got, want) {
		t.Errorf("lanes %v, want %v", got, want)
	}
	if got := faultLanes(nil); len(got) != 0 {
		t.Errorf("lanes of no faults: %v", got)
	}
}
