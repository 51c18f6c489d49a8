package check

import (
	"slices"
	"testing"
	"time"

	"github.com/faultline/faultline/history"
)

const (
	fR = history.FRead
	fW = history.FWrite
	fC = history.FCas
)

func TestRegisterValidWithConcurrencyAndUnknowns(t *testing.T) {
	res := mustCheck(t, histOf(
		ok(1, fR, "k", nil, nil, 0, 5, "n1"), // absent before any write
		ok(1, fW, "k", 1, nil, 10, 30, "n1"),
		ok(2, fR, "k", nil, 1, 15, 20, "n2"), // concurrent with the write: may see it
		ok(3, fR, "k", nil, nil, 12, 25, "n3"),
		ok(2, fC, "k", []int{1, 2}, nil, 40, 50, "n1"),
		fail(3, fC, "k", []int{1, 9}, 41, 55), // did not happen
		info(4, fW, "k", 7, 60, 70),           // unknown: takes effect later
		ok(2, fR, "k", nil, 2, 80, 90, "n2"),
		ok(3, fR, "k", nil, 7, 100, 110, "n1"),
		info(5, fC, "k", []int{7, 8}, 120, -1), // never completed, never took effect
		ok(2, fR, "k", nil, 7, 130, 140, "n2"),
		info(6, fR, "k", nil, 150, 160), // reads of unknown outcome constrain nothing
	), Options{})
	expectValid(t, res)
	if res.Workload != WorkloadRegister || res.Stats.Ops != 12 || res.Stats.Info != 3 || res.Stats.Fail != 1 || res.Stats.Keys != 1 {
		t.Errorf("workload %q stats %+v", res.Workload, res.Stats)
	}
}

func TestRegisterStaleRead(t *testing.T) {
	res := mustCheck(t, histOf(
		ok(1, fW, "k7", 41, nil, 10000, 10100, "n1"),
		ok(1, fW, "k7", 42, nil, 11800, 11900, "n1"),
		ok(2, fR, "k7", nil, 41, 12400, 12450, "n3"),
		ok(1, fW, "k7", 43, nil, 13000, 13100, "n1"),
		ok(2, fR, "k7", nil, 43, 14000, 14100, "n1"),
	), Options{})
	expectAnomalies(t, res, StaleRead)
	a := res.Anomalies[0]
	expectExplanation(t, a, "read of k7 at 12.4 s on n3 returned 41; write 42 was acknowledged at 11.9 s on n1, 0.5 s before the read began")
	if a.StaleBy != 500*ms || a.Time != 12400*ms || a.Node != "n3" || a.Key != "k7" {
		t.Errorf("anomaly %+v", a)
	}
	// Events: the read first, then the write it missed, then the write it saw.
	if !slices.Equal(a.Events, []int{4, 5, 2, 3, 0, 1}) {
		t.Errorf("events %v", a.Events)
	}
	if res.Counts[StaleRead] != 1 || res.Keys[0].Valid != Invalid {
		t.Errorf("counts %v keys %+v", res.Counts, res.Keys)
	}
}

func TestRegisterStaleReadOfAbsent(t *testing.T) {
	res := mustCheck(t, histOf(
		ok(1, fW, "k", 1, nil, 0, 100, "n1"),
		ok(2, fR, "k", nil, nil, 200, 210, "n2"),
		ok(1, fW, "k", 2, nil, 300, 400, "n1"),
		ok(2, fR, "k", nil, 2, 500, 510, "n2"),
	), Options{})
	expectAnomalies(t, res, StaleRead)
	expectExplanation(t, res.Anomalies[0], "returned nothing (absent)", "0.1 s before the read began", "initial absent state")
}

func TestRegisterUnknownWriteIsNotStale(t *testing.T) {
	// Write 1 never completed: it may take effect after write 2, so reading 1
	// later is linearizable, and no classifier may call it stale.
	res := mustCheck(t, histOf(
		info(1, fW, "k", 1, 0, -1),
		ok(2, fW, "k", 2, nil, 100, 200, "n1"),
		ok(3, fR, "k", nil, 1, 300, 400, "n2"),
		ok(3, fR, "k", nil, 1, 500, 600, "n2"),
	), Options{})
	expectValid(t, res)
}

func TestRegisterLostCommit(t *testing.T) {
	res := mustCheck(t, histOf(
		ok(1, fW, "k", 41, nil, 1000, 1100, "n1"),
		ok(2, fW, "k", 42, nil, 2000, 2100, "n2"),
		// Final reads, after every write: the key lost write 42.
		ok(3, fR, "k", nil, 41, 30000, 30100, "n3"),
		ok(4, fR, "k", nil, 41, 30000, 30200, "n1"),
	), Options{})
	expectAnomalies(t, res, LostCommit)
	a := res.Anomalies[0]
	expectExplanation(t, a, "write 42 to k, acknowledged at 2.1 s on n2, is lost: the final read at 30.0 s on n3 returned 41")
	if a.Time != 2000*ms || a.Node != "n2" || !slices.Equal(a.Events[:2], []int{2, 3}) {
		t.Errorf("anomaly %+v", a)
	}
}

func TestRegisterPhantom(t *testing.T) {
	res := mustCheck(t, histOf(
		ok(1, fW, "k", 1, nil, 0, 10, "n1"),
		ok(2, fR, "k", nil, 99, 20, 30, "n2"),
		ok(2, fR, "k", nil, 5, 40, 50, "n2"),
		ok(1, fW, "k", 5, nil, 60, 70, "n1"), // written only after it was read
	), Options{})
	expectAnomalies(t, res, Phantom, Phantom)
	expectExplanation(t, res.Anomalies[0], "read of k at 0.0 s on n2 returned 99, a value no write ever wrote")
	expectExplanation(t, res.Anomalies[1], "returned 5, a value no write had begun to write by the time the read returned")
}

func TestRegisterFailedWriteIsNotASource(t *testing.T) {
	res := mustCheck(t, histOf(
		fail(1, fW, "k", 3, 0, 10),
		ok(2, fR, "k", nil, 3, 20, 30, "n2"),
	), Options{})
	expectAnomalies(t, res, Phantom)
}

func TestRegisterNonLinearizable(t *testing.T) {
	// Two concurrent writes, then reads that flip back: 1, 2, 1. No finer
	// classifier applies (either order of the writes is possible).
	res := mustCheck(t, histOf(
		ok(1, fW, "k", 1, nil, 0, 100, "n1"),
		ok(2, fW, "k", 2, nil, 0, 100, "n2"),
		ok(3, fR, "k", nil, 1, 200, 300, "n3"),
		ok(3, fR, "k", nil, 2, 400, 500, "n3"),
		ok(3, fR, "k", nil, 1, 600, 700, "n1"),
	), Options{})
	expectAnomalies(t, res, NonLinearizable)
	a := res.Anomalies[0]
	expectExplanation(t, a, "k is not linearizable", "longest linearizable prefix (3 of 5 operations", "the state is 1",
		"read() → 2 (invoked at 0.4 s on n3, returned at 0.5 s) cannot be placed next")
	if a.Time != 400*ms || a.Node != "n3" {
		t.Errorf("anomaly %+v", a)
	}
}

func TestRegisterCasOnWrongValue(t *testing.T) {
	res := mustCheck(t, histOf(
		ok(1, fW, "k", 1, nil, 0, 10, "n1"),
		ok(1, fC, "k", []int{3, 4}, nil, 20, 30, "n1"),
	), Options{})
	expectAnomalies(t, res, NonLinearizable)
	expectExplanation(t, res.Anomalies[0], "cas(3 → 4)", "the state is 1")
}

func TestValuesCompareAcrossDecoders(t *testing.T) {
	// A history read from disk has json.Number; one built in memory has ints.
	events := histOf(
		ok(1, fW, "k", 42, nil, 0, 10, "n1"),
		ok(2, fR, "k", nil, "42", 20, 30, "n2"), // the string "42" is not the number 42
	)
	expectAnomalies(t, mustCheck(t, events, Options{}), Phantom)
	events[3].Value = jsonNumber("42")
	expectValid(t, mustCheck(t, events, Options{}))
}

func TestPerKeyVerdicts(t *testing.T) {
	res := mustCheck(t, histOf(
		ok(1, fW, "a", 1, nil, 0, 10, "n1"),
		ok(1, fR, "a", nil, 1, 20, 30, "n1"),
		ok(2, fW, "b", 1, nil, 0, 10, "n1"),
		ok(2, fR, "b", nil, 2, 20, 30, "n1"),
	), Options{Workers: 1})
	if res.Valid != Invalid || len(res.Keys) != 2 || res.Keys[0].Valid != Valid || res.Keys[1].Valid != Invalid ||
		res.Stats.KeysValid != 1 || res.Stats.KeysBad != 1 {
		t.Fatalf("result %+v", res)
	}
}

func TestUnknownOnTimeout(t *testing.T) {
	// Many overlapping writes and reads with no consistent order: Porcupine
	// has to try a great many orders before it can say no.
	var ops []tOp
	const n = 24
	for i := range n {
		ops = append(ops, ok(i, fW, "k", i, nil, 0, 1000, "n1"))
		ops = append(ops, ok(n+i, fR, "k", nil, (i*7)%n, 1+int64(i), 1000, "n2"))
	}
	ops = append(ops, ok(3*n, fR, "k", nil, 999, 2000, 2001, "n1"), ok(3*n+1, fW, "k", 998, nil, 1500, 1600, "n1"))
	res := mustCheck(t, histOf(ops...), Options{Timeout: time.Millisecond})
	if res.Valid != Unknown || res.Reason == "" || res.Keys[0].Valid != Unknown || res.Stats.KeysUnk != 1 {
		t.Fatalf("verdict %s reason %q keys %+v", res.Valid, res.Reason, res.Keys)
	}
	if res.Valid.ExitCode() != 2 {
		t.Fatal("an unknown verdict must exit 2")
	}
}

func TestEmptyHistoryIsValid(t *testing.T) {
	res := mustCheck(t, nil, Options{})
	expectValid(t, res)
}

func TestUnobservedUnknownWritesLeaveTheModel(t *testing.T) {
	ops, err := history.Pair(histOf(
		ok(1, fW, "k", 1, nil, 0, 10, "n1"),
		info(2, fW, "k", 2, 5, 20),           // never read: left out
		info(3, fW, "k", 3, 6, -1),           // read below: kept
		info(4, fC, "k", []int{1, 4}, 7, 30), // 4 never read, 1 is: left out
		info(5, fC, "k", []int{9, 5}, 8, 30), // expects 9, writes 5, both unseen: left out
		info(6, fW, "k", 9, 9, 30),           // a cas expected 9: kept
		fail(7, fW, "k", 6, 10, 11),          // failed: left out
		info(8, fR, "k", nil, 12, 13),        // unknown read: left out
		ok(9, fR, "k", nil, 3, 40, 50, "n2"),
	))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := splitByKey(ops, WorkloadRegister)
	if err != nil {
		t.Fatal(err)
	}
	var kept []int
	for _, op := range keys[0].model {
		kept = append(kept, op.Metadata.(*opMeta).process)
	}
	if !slices.Equal(kept, []int{1, 3, 6, 9}) {
		t.Fatalf("model keeps processes %v, want [1 3 6 9]", kept)
	}
}

func TestRegisterLostAfterBeingRead(t *testing.T) {
	// Write 42 was read, then the key went back to 41: the final read shows
	// the acknowledged write lost (a rollback), not merely a stale replica.
	res := mustCheck(t, histOf(
		ok(1, fW, "k", 41, nil, 1000, 1100, "n1"),
		ok(1, fW, "k", 42, nil, 2000, 2100, "n1"),
		ok(2, fR, "k", nil, 42, 2500, 2600, "n2"),
		ok(2, fR, "k", nil, 41, 9000, 9100, "n3"),
	), Options{})
	expectAnomalies(t, res, LostCommit)
	expectExplanation(t, res.Anomalies[0], "write 42 to k, acknowledged at 2.1 s on n1, is lost: the final read at 9.0 s on n3 returned 41, from write 41, acknowledged at 1.1 s on n1, before the write began")
}
