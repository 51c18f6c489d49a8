package kv

import (
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
)

// BenchmarkApplySessionPut measures one put through the session table, as
// the applier runs it for every committed write (values arrive decoded, as
// json.Number).
func BenchmarkApplySessionPut(b *testing.B) {
	s := New(nil)
	keys := make([]string, 64)
	for i := range keys {
		keys[i] = fmt.Sprint("k", i)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		seq := uint64(i + 1)
		s.Apply(seq, Command{Op: OpPut, Key: keys[i%len(keys)], Value: json.Number(strconv.Itoa(i)), ClientID: "c", Seq: seq, Ack: seq})
	}
}

// BenchmarkApplySessionLaggingAck is a client whose acknowledgement lags
// its writes (one of its requests is stuck): the session window stays full
// and every apply evicts its lowest result.
func BenchmarkApplySessionLaggingAck(b *testing.B) {
	s := New(nil)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		seq := uint64(i + 2)
		s.Apply(seq, Command{Op: OpPut, Key: "k", Value: json.Number(strconv.Itoa(i)), ClientID: "c", Seq: seq, Ack: 1})
	}
}

// BenchmarkDecodeCommand decodes a put as the server encodes it, as every
// replica does for every committed entry before applying it.
func BenchmarkDecodeCommand(b *testing.B) {
	for _, tc := range []struct {
		name  string
		value any
	}{
		{"number", 123456},
		{"string", "value-123456"},
		{"list", []any{1, "two", map[string]any{"three": 3}}},
	} {
		data, err := EncodeCommand(Command{Op: OpPut, Key: "k123", Value: tc.value, ClientID: "bench-17", Seq: 4242, Ack: 4242})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeCommand(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
