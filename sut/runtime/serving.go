package runtime

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// servingPollInterval is how often a starting node is asked whether it
// serves; small, because cluster start-up latency is part of every run.
const servingPollInterval = 25 * time.Millisecond

// waitServing polls GET http://addr+path until it answers 200. alive, when
// not nil, reports why the node can no longer come up (it exited), so a
// node that crashes at start fails fast instead of at the deadline.
func waitServing(ctx context.Context, addr, path string, alive func() error) error {
	client := &http.Client{Timeout: time.Second}
	url := "http://" + addr + path
	var last error
	for {
		if alive != nil {
			if err := alive(); err != nil {
				return err
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s to serve: %w (last: %v)", url, ctx.Err(), last)
		case <-time.After(servingPollInterval):
		}
	}
}

// freePort asks the kernel for a TCP port that is free on ip right now.
// Another process may take it before the node binds it; callers that can
// keep the listener open should do so instead.
func freePort(ip string) (int, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return 0, fmt.Errorf("find a free port on %s: %w", ip, err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return strconv.Atoi(port)
}
