// Package mutate makes near-miss inputs for the tests that hold a fast
// decoder to the encoding/json path it stands in for (raftd's log entries in
// sut/kv, its put bodies in sut/server): one owner for how an input is
// bent, so both tests explore the same neighbourhood. Imported only by tests.
package mutate

import "math/rand/v2"

// Bytes returns a copy of in with one to three edits at random places: a
// byte replaced, inserted or deleted, the new bytes drawn from alphabet.
func Bytes(rng *rand.Rand, in []byte, alphabet string) []byte {
	b := append([]byte(nil), in...)
	for range 1 + rng.IntN(3) {
		i := rng.IntN(len(b) + 1)
		c := alphabet[rng.IntN(len(alphabet))]
		switch rng.IntN(3) {
		case 0:
			if i < len(b) {
				b[i] = c
			}
		case 1:
			b = append(b[:i], append([]byte{c}, b[i:]...)...)
		default:
			if i < len(b) {
				b = append(b[:i], b[i+1:]...)
			}
		}
	}
	return b
}
