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
