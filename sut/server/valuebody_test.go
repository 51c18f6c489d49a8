package server

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/faultline/faultline/internal/mutate"
)

// plainValueBody reads only bodies the full path (bodyFieldsOf, knownFields,
// jsonValue) accepts, and reads them to the same value; it takes the bodies
// clients send for scalars. Inputs: typical bodies, oddities, and random
// byte mutations of both.
func TestPlainValueBodyAgreesWithFullParse(t *testing.T) {
	inputs := []string{
		`{"value":123456}`, `{"value":"plain ✓"}`, `{"value":-1.5e-3}`, `{"value":true}`, `{"value":null}`, "{\"value\":7}\n",
		`{"value":"esc\"aped"}`, `{"value":[1,2]}`, `{"value":{"a":1}}`, `{"value":1,"value":2}`, `{"value":1,"x":2}`,
		`{"value":01}`, `{"value": 1}`, `{"value":1} `, `{"value":1}{}`, `{"value":"\ud800"}`, "{\"value\":\"a\xffb\"}",
		"{\"value\":\"a\x01\"}", `{"value":}`, `{"value":1`, `{"Value":1}`, `{}`, ``, `null`,
	}
	for _, in := range inputs[:6] {
		if _, ok := plainValueBody([]byte(in)); !ok {
			t.Errorf("%q: not read by the plain path", in)
		}
	}
	check := func(b []byte) {
		v, ok := plainValueBody(b)
		if !ok {
			return
		}
		fields, err := bodyFieldsOf(b)
		if err == nil {
			err = knownFields(fields, "value")
		}
		var want any
		if err == nil {
			want, err = jsonValue(fields, "value")
		}
		if err != nil {
			t.Fatalf("%q: plain path read %#v, the full parse refuses it: %v", b, v, err)
		}
		if !reflect.DeepEqual(v, want) {
			t.Fatalf("%q: plain path read %#v, the full parse %#v", b, v, want)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	const alphabet = `{}[]":,\-+.eE0123456789 ntrufalsxv` + "\x00\xff\n"
	for _, in := range inputs {
		check([]byte(in))
	}
	for range 20000 {
		check(mutate.Bytes(rng, []byte(inputs[rng.IntN(len(inputs))]), alphabet))
	}
}

// BenchmarkValueBody reads a put's body as the leader does for every write:
// "plain" is valueBody (which takes plainValueBody), "full" the encoding/json
// path it falls back to, side by side.
func BenchmarkValueBody(b *testing.B) {
	body := []byte(`{"value":1234567}`)
	b.Run("plain", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := plainValueBody(body); !ok {
				b.Fatal("not read")
			}
		}
	})
	b.Run("full", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			fields, err := bodyFieldsOf(body)
			if err == nil {
				err = knownFields(fields, "value")
			}
			if err == nil {
				_, err = jsonValue(fields, "value")
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
