package sweep

import (
	"testing"

	"github.com/faultline/faultline/sut/bugs"
)

// Every planted bug has exactly one exposure, and every exposure names a
// planted bug with a complete campaign.
func TestEveryBugHasAnExposure(t *testing.T) {
	for _, b := range bugs.Catalogue {
		if _, ok := ExposureOf(b.Name); !ok {
			t.Errorf("bug %s has no exposure in exposures.go", b.Name)
		}
	}
	for name, e := range Exposures {
		if _, ok := bugs.Lookup(name); !ok {
			t.Errorf("exposure for %q, which is not a planted bug", name)
		}
		if e.Nemesis == "" || e.Workload == "" || e.ReadMode == "" {
			t.Errorf("%s: exposure %+v lacks a nemesis, workload or read mode", name, e)
		}
		if e.Keys < 0 || e.Concurrency < 0 || e.Interval < 0 || e.Nodes < 0 || e.Rate < 0 {
			t.Errorf("%s: exposure %+v has a negative override", name, e)
		}
	}
}
