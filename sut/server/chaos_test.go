package server

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// chaosClient appends through the HTTP handlers of whichever node leads,
// following redirects by id, retrying an indefinite outcome with the same
// X-Seq (the session makes the retry safe).
type chaosClient struct {
	c   *testCluster
	id  string
	seq uint64
}

// appendOnce returns the list the append produced, or ok=false when the
// outcome stayed unknown.
func (cl *chaosClient) appendOnce(t *testing.T, key, elem string) (list []any, ok bool) {
	cl.seq++
	h := map[string]string{"X-Client-Id": cl.id, "X-Seq": strconv.FormatUint(cl.seq, 10)}
	target := "n1"
	for attempt := 0; attempt < 40; attempt++ {
		s := cl.c.server(target)
		if s == nil { // stopped: as a refused connection would be
			target = fmt.Sprintf("n%d", 1+rand.IntN(len(cl.c.peers)))
			time.Sleep(20 * time.Millisecond)
			continue
		}
		code, out, hdr := do(t, s, "POST", "/kv/"+key+"/append", map[string]any{"value": elem}, h)
		switch {
		case code == 200:
			l, _ := out["value"].([]any)
			return l, true
		case code == 307:
			target = hdr.Get("X-Leader-Id")
		default: // 503 no leader, 504 unknown, 409...: try again, maybe elsewhere
			target = fmt.Sprintf("n%d", 1+rand.IntN(len(cl.c.peers)))
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil, false
}

// Writers append unique elements while a nemesis isolates random nodes and
// restarts others from their data directories (with frequent snapshots, so
// a restarted node often catches up by snapshot). Afterwards every acknowledged element is in its list exactly once,
// nothing appears that was never sent, and every list an append returned
// is a prefix of the final list (appends are totally ordered).
func TestChaosAppendsSurvivePartitions(t *testing.T) {
	c := newTestCluster(t, 5, func(cfg *Config) { cfg.RequestTimeout, cfg.SnapshotEvery = 500*time.Millisecond, 50 })
	c.waitLeader()
	keys := []string{"a", "b", "c"}

	var mu sync.Mutex
	acked := map[string]bool{}
	sent := map[string]bool{}
	var returned [][]any
	returnedKey := []string{}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := &chaosClient{c: c, id: fmt.Sprintf("w%d", w)}
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				key := keys[n%len(keys)]
				elem := fmt.Sprintf("w%d-%d", w, n)
				mu.Lock()
				sent[elem] = true
				mu.Unlock()
				list, ok := cl.appendOnce(t, key, elem)
				mu.Lock()
				if ok {
					acked[elem] = true
					returned = append(returned, list)
					returnedKey = append(returnedKey, key)
				}
				mu.Unlock()
			}
		}()
	}
	rng := rand.New(rand.NewPCG(1, 2))
	down := ""
	for i := 0; i < 12; i++ {
		c.net.heal()
		if down != "" {
			c.start(down)
			down = ""
		}
		switch rng.IntN(3) {
		case 0:
			c.net.isolate(fmt.Sprintf("n%d", 1+rng.IntN(5)))
		case 1:
			down = fmt.Sprintf("n%d", 1+rng.IntN(5))
			c.stop(down)
		}
		time.Sleep(250 * time.Millisecond)
	}
	c.net.heal()
	if down != "" {
		c.start(down)
	}
	close(stop)
	wg.Wait()

	leader := c.waitLeader()
	final := map[string][]any{}
	for _, key := range keys {
		code, out, _ := do(t, leader, "GET", "/kv/"+key, nil, nil)
		if code != 200 {
			t.Fatalf("final read of %s: %d %v", key, code, out)
		}
		final[key], _ = out["value"].([]any)
	}
	seen := map[string]int{}
	for key, list := range final {
		for _, e := range list {
			s := fmt.Sprint(e)
			seen[s]++
			if !sent[s] {
				t.Errorf("%s holds %q, which no client sent", key, s)
			}
		}
	}
	for e, n := range seen {
		if n > 1 {
			t.Errorf("%q appears %d times: a write was applied twice", e, n)
		}
	}
	lost := 0
	for e := range acked {
		if seen[e] == 0 {
			lost++
			t.Errorf("acknowledged %q is missing from the final lists", e)
		}
	}
	for i, list := range returned {
		f := final[returnedKey[i]]
		if len(list) > len(f) || !slices.EqualFunc(list, f[:len(list)], func(a, b any) bool { return fmt.Sprint(a) == fmt.Sprint(b) }) {
			t.Errorf("an append on %s returned %v, not a prefix of the final %v", returnedKey[i], list, f)
			break
		}
	}
	if len(acked) < 20 {
		t.Fatalf("only %d appends acknowledged: the cluster hardly served under the nemesis", len(acked))
	}
	t.Logf("%d appends sent, %d acknowledged, %d lost", len(sent), len(acked), lost)
}
