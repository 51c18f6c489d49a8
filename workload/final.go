package workload

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/sut/system"
)

// FinalReadProcessBase is the first process number of the final reads. Run
// never reaches it, so the final reads are fresh processes whatever
// happened during the run, and a report can tell them apart.
const FinalReadProcessBase = 1_000_000

// finalReadAttempts is how many reads of one key FinalReads tries before it
// gives up on that key; finalReadBackoff doubles between attempts, giving a
// cluster that is still settling about 6 s.
const (
	finalReadAttempts = 6
	finalReadBackoff  = 200 * time.Millisecond
)

// FinalReads performs one linearizable read of every key (whatever
// cfg.StaleReads says) and records it. A read that fails or times out is
// recorded as such and retried, after an indeterminate outcome under a new
// process. Keys are read in parallel, at most cfg.Concurrency at a time. The
// error lists every key that got no successful read.
func FinalReads(ctx context.Context, cfg Config, addrs func() map[string]string, rec *history.Recorder) error {
	return finalReads(ctx, cfg, addrs, rec, finalReadBackoff)
}

func finalReads(ctx context.Context, cfg Config, addrs func() map[string]string, rec *history.Recorder, backoff time.Duration) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if addrs == nil || rec == nil {
		return errors.New("workload: FinalReads needs an address book and a recorder")
	}
	keys := cfg.KeyNames()
	book := addrs()
	var (
		wg     sync.WaitGroup
		sem    = make(chan struct{}, cfg.Concurrency)
		mu     sync.Mutex
		missed []int // indexes into keys
		errs   []error
	)
	for i, key := range keys {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			ok, err := finalRead(ctx, cfg, maps.Clone(book), rec, i, len(keys), key, backoff)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			} else if !ok {
				missed = append(missed, i)
			}
		})
	}
	wg.Wait()
	if len(missed) > 0 {
		// Reported in key order, whatever order the reads finished in.
		slices.Sort(missed)
		names := make([]string, len(missed))
		for j, i := range missed {
			names[j] = keys[i]
		}
		why := fmt.Sprintf("after %d attempts each", finalReadAttempts)
		if ctx.Err() != nil {
			why = "before " + ctx.Err().Error()
		}
		errs = append(errs, fmt.Errorf("workload: final reads: no successful read of %s %s", strings.Join(names, ", "), why))
	}
	return errors.Join(errs...)
}

// finalRead reads one key until a read succeeds or attempts run out. Key i
// of n starts as process FinalReadProcessBase+i and moves on by n after an
// indeterminate outcome, so no two keys ever share a process.
func finalRead(ctx context.Context, cfg Config, book map[string]string, rec *history.Recorder, i, n int, key string, backoff time.Duration) (bool, error) {
	process := FinalReadProcessBase + i
	c := newFinalClient(cfg, book, process)
	defer func() { c.Close() }()
	for attempt := 0; attempt < finalReadAttempts; attempt++ {
		if attempt > 0 && !sleepCtx(ctx, backoff) {
			return false, nil
		}
		backoff *= 2
		out, err := invokeAndComplete(ctx, rec, history.Client(process), cfg, c, Op{F: history.FRead, Key: key}, false)
		if err != nil {
			return false, fmt.Errorf("workload: final read of %s: %w", key, err)
		}
		switch out.Type {
		case history.Ok:
			return true, nil
		case history.Info:
			process += n
			c.Close()
			c = newFinalClient(cfg, book, process)
		}
	}
	return false, nil
}

func newFinalClient(cfg Config, book map[string]string, process int) system.Client {
	return cfg.System.NewClient(maps.Clone(book), system.ClientOptions{
		Timeout:         cfg.Timeout,
		ClientID:        processClientID(process),
		MaxAttempts:     clientAttempts,
		RetryIndefinite: clientResends,
	})
}
