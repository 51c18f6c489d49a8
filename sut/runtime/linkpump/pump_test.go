package linkpump

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

// pumped copies data through a pump with fault f over a real TCP
// connection and returns what arrived and how long it took.
func pumped(t *testing.T, data []byte, f Fault) ([]byte, time.Duration) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []byte, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer conn.Close()
		b, _ := io.ReadAll(conn)
		got <- b
	}()
	out, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	quit := make(chan struct{})
	defer close(quit)
	start := time.Now()
	done := make(chan struct{})
	go func() {
		Pump(out, bytes.NewReader(data), func() Fault { return f }, quit)
		out.Close()
		close(done)
	}()
	<-done
	b := <-got
	return b, time.Since(start)
}

func payload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}

func TestHealthyPumpCopiesEverything(t *testing.T) {
	data := payload(200 << 10)
	got, _ := pumped(t, data, Fault{})
	if !bytes.Equal(got, data) {
		t.Fatalf("got %d bytes, want the %d sent, in order", len(got), len(data))
	}
}

// A delayed or lossy link delivers every byte, in order (TCP retransmits
// what it loses), but no sooner than its delay or stall.
func TestSlowPumpsDeliverEverythingNoSoonerThanTheirFault(t *testing.T) {
	for name, tc := range map[string]struct {
		f       Fault
		atLeast time.Duration
	}{
		"delay": {Fault{DelayMs: 150, JitterMs: 50}, 150 * time.Millisecond},
		"loss":  {Fault{LossPct: 100, StallMs: 100}, 100 * time.Millisecond},
	} {
		data := payload(64 << 10)
		got, took := pumped(t, data, tc.f)
		if !bytes.Equal(got, data) {
			t.Errorf("%s: got %d bytes, want the %d sent, in order", name, len(got), len(data))
		}
		if took < tc.atLeast {
			t.Errorf("%s: delivered in %v, sooner than %v", name, took, tc.atLeast)
		}
	}
}

func TestResettingPumpCutsTheStream(t *testing.T) {
	got, _ := pumped(t, payload(64<<10), Fault{ResetPct: 100})
	if len(got) != 0 {
		t.Fatalf("%d bytes passed a link that resets every chunk", len(got))
	}
}

func TestThrottledPumpKeepsToItsBandwidth(t *testing.T) {
	data := payload(4 * ChunkSize)
	got, took := pumped(t, data, Fault{BandwidthKBps: 64})
	if !bytes.Equal(got, data) {
		t.Fatalf("got %d bytes, want the %d sent", len(got), len(data))
	}
	// The first chunk goes at once; the other three wait for the budget.
	if min := 3 * ChunkSize * time.Second / (64 << 10); took < min {
		t.Fatalf("%d bytes at 64 KiB/s took %v, under %v", len(data), took, min)
	}
}

func TestFlakyLinkIsDownPartOfEachPeriod(t *testing.T) {
	f := Fault{FlakyUpMs: 60, FlakyDownMs: 40}
	base := time.Unix(0, 0).Add(1000 * time.Millisecond) // a period boundary
	cases := map[time.Duration]time.Duration{
		0:                      0,
		59 * time.Millisecond:  0,
		60 * time.Millisecond:  40 * time.Millisecond,
		90 * time.Millisecond:  10 * time.Millisecond,
		100 * time.Millisecond: 0,
	}
	for at, want := range cases {
		if got := flakyWait(f, base.Add(at)); got != want {
			t.Errorf("at %v into a period: wait %v, want %v", at, got, want)
		}
	}
}

func TestFaultValidateNamesTheProblem(t *testing.T) {
	for _, bad := range []Fault{{DelayMs: -1}, {LossPct: 101}, {FlakyUpMs: 10}} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if err := (Fault{DelayMs: 10, JitterMs: 5, LossPct: 5, StallMs: 200, BandwidthKBps: 8, FlakyUpMs: 50, FlakyDownMs: 20}).Validate(); err != nil {
		t.Errorf("a sane fault refused: %v", err)
	}
}
