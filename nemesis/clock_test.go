package nemesis

import (
	"math"
	"testing"
)

func TestRateBoundsKeepEveryPairWithinTheDrift(t *testing.T) {
	for _, d := range []float64{0.01, 0.1, 0.25, 0.5} {
		slow, fast := RateBounds(d)
		if slow >= 1 || fast <= 1 {
			t.Errorf("d=%g: bounds %g..%g must straddle 1", d, slow, fast)
		}
		if ratio := fast / slow; math.Abs(ratio-1/(1-d)) > 1e-9 {
			t.Errorf("d=%g: fastest/slowest = %g, want 1/(1-d) = %g", d, ratio, 1/(1-d))
		}
	}
	for _, d := range []float64{0, -1, 1, 2} {
		if slow, fast := RateBounds(d); slow != 1 || fast != 1 {
			t.Errorf("d=%g: bounds %g..%g, want no skew", d, slow, fast)
		}
	}
}
