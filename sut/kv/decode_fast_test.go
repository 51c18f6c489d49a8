package kv

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/faultline/faultline/internal/mutate"
)

// The scanner and encoding/json agree on every input: the same command, or
// the same error. Inputs are what EncodeCommand writes for many shapes of
// command, hand-written oddities, and random byte mutations of both.
func TestDecodeCommandFastAgreesWithJSON(t *testing.T) {
	var inputs [][]byte
	for _, c := range []Command{
		{Op: OpPut, Key: "k", Value: 1},
		{Op: OpPut, Key: "k 1/ü", Value: json.Number("-12.5e+3"), ClientID: "c", Seq: 7, Ack: 3},
		{Op: OpPut, Key: "k", Value: "plain text ✓", ClientID: "c", Seq: 18446744073709551615},
		{Op: OpPut, Key: "k", Value: "needs \"escapes\" \n <&>"},
		{Op: OpCas, Key: "k", Expect: json.Number("0"), Value: true},
		{Op: OpCas, Key: "k", Expect: false, Value: "x"},
		{Op: OpAppend, Key: "k", Value: []any{1, "two", map[string]any{"three": nil}}},
		{Op: OpDelete, Key: "k\u2028", ClientID: "c\x00d", Seq: 1},
		{Op: OpGet, Key: "k"},
	} {
		b, err := EncodeCommand(c)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, b)
	}
	inputs = append(inputs, [][]byte{
		[]byte(`{}`), []byte(``), []byte(`{"op":"put","key":"k","value":01}`),
		[]byte(`{"op":"put","key":"k","value":1,"value":2}`), []byte(`{"OP":"put","key":"k"}`),
		[]byte(`{"op":"put","key":"k","seq":-1,"client_id":"c"}`), []byte(`{"op":"put","key":"k","seq":1.5,"client_id":"c"}`),
		[]byte(`{"op":"put","key":"k","seq":18446744073709551616,"client_id":"c"}`), []byte(`{"op":"put","key":"k","value":null}`),
		[]byte(`{"op":"put","key":"k","value":1} `), []byte(`{"op":"put","key":"k","value":1}{}`), []byte(`{"op":"put","key":"k","extra":1}`),
		[]byte(`{"op":"put","key":"k","value":1.}`), []byte(`{"op":"put","key":"k","value":-}`), []byte(`{"op":"put","key":"k","value":tru}`),
		[]byte("{\"op\":\"put\",\"key\":\"k\xff\"}"), []byte("{\"op\":\"put\",\"key\":\"k\x01\"}"), []byte(`{"op":"put","key":"k",}`),
	}...)
	// The commands puts of numbers and plain strings make take the scanner.
	for _, b := range inputs[:3] {
		if _, ok := decodeCommandFast(b); !ok {
			t.Errorf("%s: not read by the scanner", b)
		}
	}
	for _, b := range inputs {
		agree(t, b)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = `{}[]":,\-+.eE0123456789 ntrufalsx` + "\x00\xff"
	for range 20000 {
		agree(t, mutate.Bytes(rng, inputs[rng.IntN(len(inputs))], alphabet))
	}
}

func agree(t *testing.T, b []byte) {
	t.Helper()
	got, gotErr := DecodeCommand(b)
	want, wantErr := decodeCommandJSON(b)
	if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
		t.Fatalf("%q: error %v, encoding/json says %v", b, gotErr, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: decoded %#v, encoding/json %#v", b, got, want)
	}
}
