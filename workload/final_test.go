package workload

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/history"
)

func TestFinalReadsReadEveryKeyOnce(t *testing.T) {
	srv := newEmulator(t, nil)
	srv.store["k1"] = int64(17)
	rec, path := newRecorder(t)
	cfg := baseConfig(Register)
	cfg.StaleReads = true // final reads ignore it: they must be linearizable
	if err := FinalReads(context.Background(), cfg, oneNode(srv.addr()), rec); err != nil {
		t.Fatal(err)
	}
	rec.Close()
	events, err := history.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ops := pairs(t, events)
	if len(ops) != cfg.Keys {
		t.Fatalf("%d final reads, want one per key (%d)", len(ops), cfg.Keys)
	}
	byKey := map[string]history.Op{}
	for _, op := range ops {
		if op.F != history.FRead || op.Type != history.Ok {
			t.Errorf("final op %+v, want an ok read", op)
		}
		if op.Process < FinalReadProcessBase {
			t.Errorf("final read as process %d, below FinalReadProcessBase", op.Process)
		}
		byKey[op.Key] = op
	}
	if v := byKey["k1"].Output; history.ValueKey(v) != "17" {
		t.Errorf("final read of k1 = %v, want 17", v)
	}
	if v := byKey["k0"].Output; v != nil {
		t.Errorf("final read of absent k0 = %v, want null", v)
	}
	if srv.localSeen.Load() != 0 {
		t.Error("final reads asked for local reads")
	}
}

func TestFinalReadsRetryAndRecordEveryAttempt(t *testing.T) {
	var mu sync.Mutex
	attempts := map[string]int{}
	srv := newEmulator(t, func(r *http.Request) answer {
		mu.Lock()
		defer mu.Unlock()
		attempts[r.URL.Path]++
		switch {
		case r.URL.Path == "/kv/k0" && attempts[r.URL.Path] <= 2*clientAttempts:
			// The client tries clientAttempts times before it reports a
			// definite failure: two recorded failures.
			return unavailable
		case r.URL.Path == "/kv/k1" && attempts[r.URL.Path] <= 1+clientResends:
			// Unanswered, and unanswered again when re-sent: info.
			return hang
		}
		return serve
	})
	rec, path := newRecorder(t)
	cfg := baseConfig(Append)
	cfg.Keys = 2
	// Long enough that a loaded machine (-race, two shared cores) answers
	// every 503 within it; only the hung requests time out.
	cfg.Timeout = 300 * time.Millisecond
	if err := finalReads(context.Background(), cfg, oneNode(srv.addr()), rec, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	rec.Close()
	events, err := history.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var k0, k1 []history.Op
	for _, op := range pairs(t, events) {
		if op.Key == "k0" {
			k0 = append(k0, op)
		} else {
			k1 = append(k1, op)
		}
	}
	if len(k0) != 3 || k0[0].Type != history.Fail || k0[1].Type != history.Fail || k0[2].Type != history.Ok {
		t.Fatalf("k0 attempts %+v, want fail, fail, ok", k0)
	}
	if k0[0].Process != k0[2].Process {
		t.Errorf("a definite failure moved k0 to a new process (%d then %d)", k0[0].Process, k0[2].Process)
	}
	if len(k1) != 2 || k1[0].Type != history.Info || k1[1].Type != history.Ok {
		t.Fatalf("k1 attempts %+v, want info, ok", k1)
	}
	if k1[1].Process != k1[0].Process+cfg.Keys {
		t.Errorf("after info k1 continued as process %d, want %d", k1[1].Process, k1[0].Process+cfg.Keys)
	}
	if list, ok := history.List(k0[2].Output); !ok || len(list) != 0 {
		t.Errorf("final read of an absent append key = %#v, want []", k0[2].Output)
	}
}

func TestFinalReadsNameKeysThatNeverAnswered(t *testing.T) {
	srv := newEmulator(t, func(r *http.Request) answer {
		if r.URL.Path == "/kv/k2" {
			return unavailable
		}
		return serve
	})
	rec, _ := newRecorder(t)
	err := finalReads(context.Background(), baseConfig(Register), oneNode(srv.addr()), rec, time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "k2") || strings.Contains(err.Error(), "k1") {
		t.Fatalf("err = %v, want one naming k2 only", err)
	}
	if got, want := rec.Len(), 2*(2+finalReadAttempts); got != want {
		t.Fatalf("%d events, want %d (k0, k1 once; k2 every attempt)", got, want)
	}
}
