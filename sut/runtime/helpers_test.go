package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/sut/system"
)

// peerSystem runs testdata/peerserver, a stand-in node whose status tells
// which peers it hears, so tests can see exactly which directed links are
// cut.
type peerSystem struct{}

func (peerSystem) Name() string       { return "peerserver" }
func (peerSystem) HealthPath() string { return "/admin/status" }
func (peerSystem) Program() system.Program {
	return system.Program{Package: "./sut/runtime/testdata/peerserver"}
}
func (peerSystem) Args(n system.NodeArgs) []string {
	args := []string{"--id", n.ID, "--listen", n.Listen, "--peers", system.FormatPeers(n.Peers), "--data", n.Data, "--cluster", n.Cluster}
	if n.Join {
		args = append(args, "--join")
	}
	return args
}

type peerStatus struct {
	ID      string           `json:"id"`
	PID     int              `json:"pid"`
	Boots   int              `json:"boots"`
	Join    bool             `json:"join"`
	HeardMs map[string]int64 `json:"heard_ms"`
}

func getStatus(addr string, timeout time.Duration) (peerStatus, error) {
	client := http.Client{Timeout: timeout}
	resp, err := client.Get("http://" + addr + "/admin/status")
	if err != nil {
		return peerStatus{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return peerStatus{}, fmt.Errorf("status %s", resp.Status)
	}
	var st peerStatus
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// Heartbeats flow every 50 ms: a link heard within hearsWithin is up; one
// silent for longer than deafAfter is cut.
const (
	hearsWithin = 400 * time.Millisecond
	deafAfter   = 1000 * time.Millisecond
)

func hears(st peerStatus, peer string) bool {
	ms, ok := st.HeardMs[peer]
	return ok && time.Duration(ms)*time.Millisecond < hearsWithin
}

func deaf(st peerStatus, peer string) bool {
	ms, ok := st.HeardMs[peer]
	return !ok || time.Duration(ms)*time.Millisecond > deafAfter
}

// eventually polls cond until it holds; it fails the test with cond's last
// explanation after a generous deadline (a liveness bound, not a timing
// assertion).
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var why string
	for time.Now().Before(deadline) {
		var ok bool
		if ok, why = cond(); ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: never happened; last: %s", what, why)
}

// linkState samples every node and reports the links (dst<-src) it hears.
func linkState(c Cluster) (map[string]peerStatus, error) {
	out := map[string]peerStatus{}
	for _, id := range c.Nodes() {
		st, err := getStatus(c.ClientAddr(id), 2*time.Second)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", id, err)
		}
		out[id] = st
	}
	return out, nil
}

// waitLinks waits until, in one sample of every node, each listed link
// dst<-src is cut and every other link among the nodes is up.
func waitLinks(t *testing.T, c Cluster, cut map[string][]string) {
	t.Helper()
	isCut := func(dst, src string) bool {
		for _, s := range cut[dst] {
			if s == src {
				return true
			}
		}
		return false
	}
	eventually(t, fmt.Sprintf("links cut exactly %v", cut), func() (bool, string) {
		sts, err := linkState(c)
		if err != nil {
			return false, err.Error()
		}
		var bad []string
		for dst, st := range sts {
			for src := range sts {
				if src == dst {
					continue
				}
				if isCut(dst, src) && !deaf(st, src) {
					bad = append(bad, fmt.Sprintf("%s still hears %s (%d ms ago)", dst, src, st.HeardMs[src]))
				}
				if !isCut(dst, src) && !hears(st, src) {
					bad = append(bad, fmt.Sprintf("%s does not hear %s (%v)", dst, src, st.HeardMs))
				}
			}
		}
		return len(bad) == 0, strings.Join(bad, "; ")
	})
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.DiscardHandler)
}

func testLoggerB() *slog.Logger { return slog.New(slog.DiscardHandler) }

func uniqueCampaign(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), time.Now().UnixNano()%1e6)
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
