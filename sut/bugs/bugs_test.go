package bugs

import (
	"strings"
	"testing"
)

func TestCatalogueIsConsistent(t *testing.T) {
	seen := map[string]bool{}
	for _, b := range Catalogue {
		if b.Name == "" || seen[b.Name] {
			t.Errorf("bug name %q is empty or listed twice", b.Name)
		}
		seen[b.Name] = true
		if b.What == "" || b.Exposed == "" || b.ClientSees == "" {
			t.Errorf("%s: what, exposed and client-sees must all be described", b.Name)
		}
	}
	for _, name := range []string{StaleLocalRead, LeaseIgnoresDrift, ReadBeforeNoop, AckBeforeCommit, VoteIgnoresLog,
		CommitPreviousTerm, NoDedup, SingleStepMembership, FollowerReadNoWait, RemovedServerDisrupts} {
		if _, ok := Lookup(name); !ok {
			t.Errorf("constant %q names no catalogue entry", name)
		}
	}
	if len(Names()) != len(Catalogue) {
		t.Errorf("Names() lists %d of %d bugs", len(Names()), len(Catalogue))
	}
}

func TestParseRefusesUnknownNames(t *testing.T) {
	s, err := Parse([]string{" no-dedup ", "", StaleLocalRead})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Has(NoDedup) || !s.Has(StaleLocalRead) || s.Has(AckBeforeCommit) {
		t.Errorf("set %v", s.List())
	}
	if got := strings.Join(s.List(), ","); got != "no-dedup,stale-local-read" {
		t.Errorf("List() = %s, want sorted names", got)
	}
	if _, err := Parse([]string{"no-such-bug"}); err == nil || !strings.Contains(err.Error(), `unknown bug "no-such-bug"`) {
		t.Errorf("Parse of an unknown name: %v", err)
	}
}
