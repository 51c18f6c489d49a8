package nemesis

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseKinds(t *testing.T) {
	cases := map[string][]Kind{
		"":                     AllKinds,
		"all":                  AllKinds,
		"none":                 nil,
		"partition":            {Partition},
		"kill,partition":       {Partition, Kill},
		" clock , pause,clock": {Clock, Pause},
		"membership,partition": {Partition, Membership},
	}
	for in, want := range cases {
		got, err := ParseKinds(in)
		if err != nil {
			t.Errorf("ParseKinds(%q): %v", in, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("ParseKinds(%q) = %v, want %v", in, got, want)
		}
	}
	for _, bad := range []string{"partitions", "kill,,pause", "all,kill", "none,clock", "netem"} {
		_, err := ParseKinds(bad)
		if err == nil || !strings.Contains(err.Error(), "--nemesis") {
			t.Errorf("ParseKinds(%q) = %v, want an error naming --nemesis", bad, err)
		}
	}
}

func TestFormatKindsRoundTrips(t *testing.T) {
	for _, in := range []string{"none", "partition,clock,membership,kill,pause", "clock,pause"} {
		kinds, err := ParseKinds(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := FormatKinds(kinds); got != in {
			t.Errorf("FormatKinds(ParseKinds(%q)) = %q", in, got)
		}
	}
}

func TestOptionsValidateNamesFlags(t *testing.T) {
	good := Options{Kinds: AllKinds, Interval: 1, MaxNodes: 5, MaxClockDrift: 0.1}
	if err := good.Validate(); err != nil {
		t.Fatalf("valid options rejected: %v", err)
	}
	bad := Options{Kinds: []Kind{"bogus", Membership}, MaxNodes: 2, MaxClockDrift: 1}
	err := bad.Validate()
	for _, flag := range []string{"--interval", "--nodes", "--max-clock-drift", "--nemesis"} {
		if err == nil || !strings.Contains(err.Error(), flag) {
			t.Errorf("Validate() = %v, want it to name %s", err, flag)
		}
	}
	if err := (Options{MaxNodes: 3}).Validate(); err != nil {
		t.Errorf("no kinds need no interval: %v", err)
	}
}
