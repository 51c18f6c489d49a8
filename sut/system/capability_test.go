package system

import (
	"strings"
	"testing"
)

func TestCapabilitiesHasAndString(t *testing.T) {
	cs := Capabilities{Status, Membership}
	if !cs.Has(Status) || cs.Has(ClockSkew) {
		t.Fatalf("Has: got status=%v clock=%v", cs.Has(Status), cs.Has(ClockSkew))
	}
	if got := cs.String(); got != "status,membership" {
		t.Fatalf("String = %q", got)
	}
	if got := (Capabilities{}).String(); got != "none" {
		t.Fatalf("empty String = %q", got)
	}
}

func TestMissingErrorNamesSystemCapabilityAndAlternatives(t *testing.T) {
	err := &MissingError{System: "etcd", Capability: ClockSkew, Wanted: "nemesis kind clock", Available: []string{"partition", "kill"}}
	msg := err.Error()
	for _, want := range []string{"etcd", "clock-skew", "nemesis kind clock", "partition, kill"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not name %q", msg, want)
		}
	}
}
