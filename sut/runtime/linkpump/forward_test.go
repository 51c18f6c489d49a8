package linkpump

import (
	"bufio"
	"net"
	"testing"
	"time"
)

// echoServer answers every line with itself.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				r := bufio.NewReader(conn)
				for {
					line, err := r.ReadBytes('\n')
					if err != nil {
						return
					}
					conn.Write(line)
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// roundTrip sends a line through addr and waits for its echo.
func roundTrip(t *testing.T, addr string) time.Duration {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	began := time.Now()
	if _, err := conn.Write([]byte("ping\n")); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(conn).ReadString('\n'); err != nil || line != "ping\n" {
		t.Fatalf("echo %q %v", line, err)
	}
	return time.Since(began)
}

// The forwarder delays the streams of the source its Links name, both
// ways, and forwards a stream from an address it does not know.
func TestForwarderAppliesTheLinksOfTheSourceItNames(t *testing.T) {
	f, err := Forward("127.0.0.1:0", echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const delay = 100 * time.Millisecond
	d := Fault{DelayMs: delay.Milliseconds()}
	f.SetLinks(Links{Sources: map[string]string{"127.0.0.1": "n1"}, In: map[string]Fault{"n1": d}, Out: map[string]Fault{"n1": d}})
	if took := roundTrip(t, f.Addr()); took < 2*delay {
		t.Errorf("a round trip through both delayed links took %v, under %v", took, 2*delay)
	}
	f.SetLinks(Links{Sources: map[string]string{"127.0.0.2": "n1"}, In: map[string]Fault{"n1": d}})
	roundTrip(t, f.Addr()) // from an address Links does not name: forwarded
	if f.Links().Sources["127.0.0.2"] != "n1" {
		t.Errorf("Links() = %+v", f.Links())
	}
}
