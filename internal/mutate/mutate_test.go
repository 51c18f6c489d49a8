package mutate

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func TestBytesEditsACopyWithinReach(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	in := []byte(`{"value":1}`)
	changed := 0
	for range 1000 {
		out := Bytes(rng, in, "xy")
		if !bytes.Equal(in, []byte(`{"value":1}`)) {
			t.Fatal("the input was modified")
		}
		if d := len(out) - len(in); d < -3 || d > 3 {
			t.Fatalf("%q is more than three edits from %q", out, in)
		}
		for _, c := range out {
			if !bytes.ContainsRune(in, rune(c)) && c != 'x' && c != 'y' {
				t.Fatalf("%q holds %q, from neither the input nor the alphabet", out, c)
			}
		}
		if !bytes.Equal(out, in) {
			changed++
		}
	}
	if changed < 900 {
		t.Errorf("only %d of 1000 outputs differ from the input", changed)
	}
}
