package check

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/faultline/faultline/history"
)

// Options tune a check.
type Options struct {
	// Workload is "register", "set" or "append"; "" infers it from the
	// operations' f names.
	Workload string
	// Timeout bounds the whole check; keys not decided in time make the
	// verdict unknown. Zero means no limit.
	Timeout time.Duration
	// Workers is how many keys are checked at once; 0 means GOMAXPROCS.
	Workers int
	// CrossCheck runs the anomaly classifiers on every key, not only on
	// those Porcupine does not find linearizable, and counts what they
	// report on linearizable keys in Stats.ClassifierDisagreements (which
	// must stay 0: the classifiers are sound). The tests run with it.
	CrossCheck bool
	// MemoryBudget bounds what Porcupine's searches may hold, in bytes; a
	// key whose search would exceed its share stops and is unknown
	// ("memory budget"). Zero means DefaultMemoryBudget().
	MemoryBudget int64
	// Tolerate is which refused lines of a history file end it instead of
	// failing CheckFile.
	Tolerate Tolerance
}

// Tolerance says what CheckFile does with a line the history reader
// refuses.
type Tolerance int

const (
	// TolerateNone fails the check on any refused line.
	TolerateNone Tolerance = iota
	// TolerateCut takes a last line without its newline that does not
	// parse (a writer stopped mid-event: a crash, an interrupted run) as
	// the end of the history: the events before it are checked. Any other
	// refused line still fails the check.
	TolerateCut
	// TolerateAny checks the events before the first refused line, cut or
	// corrupt: what a campaign does with its own history, so that nothing
	// it recorded goes unchecked.
	TolerateAny
)

// tolerates reports whether err, from the history reader, ends the
// history rather than the check.
func (t Tolerance) tolerates(err error) bool {
	var pe *history.ParseError
	if !errors.As(err, &pe) {
		return false
	}
	return t == TolerateAny || t == TolerateCut && pe.Truncated
}

func (opt Options) memoryBudget() int64 {
	if opt.MemoryBudget > 0 {
		return opt.MemoryBudget
	}
	return DefaultMemoryBudget()
}

// keyOutcome is Porcupine's answer for one key.
type keyOutcome struct {
	kh      *keyHistory
	result  porcupine.CheckResult
	elapsed time.Duration
	// info is the verbose re-check's linearization data; only failing keys have it.
	info *porcupine.LinearizationInfo
	// found is what the classifiers report on the key.
	found []Anomaly
	err   error
	// outOfMemory is set when the memory guard stopped the search.
	outOfMemory bool
}

// Check decides whether a history is linearizable, key by key, and explains
// the violations. The verdict comes from Porcupine alone: Invalid iff some
// key is not linearizable, Unknown if none is but some key ran out of time
// (never a pass). The anomaly classifiers only explain.
func Check(events []history.Event, opt Options) (*Result, error) {
	start := time.Now()
	ops, err := history.Pair(events)
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	b, err := newBuilder(opt.Workload)
	if err != nil {
		return nil, err
	}
	if err := b.ops(ops); err != nil {
		return nil, err
	}
	for i, e := range events {
		if e.Process.Nemesis {
			b.faults.Add(i, e)
		}
	}
	return b.check(start, opt)
}

// CheckFile is Check of the history file at path, read as a stream: the
// events are never all in memory, only each key's compact operations.
// Errors in the file name its line (a *history.ParseError). When
// opt.Tolerate lets a refused line end the history, the events before it
// are checked and CheckFile returns the result together with the reader's
// error, for the caller to say what was left out.
func CheckFile(path string, opt Options) (*Result, error) {
	start := time.Now()
	b, err := newBuilder(opt.Workload)
	if err != nil {
		return nil, err
	}
	readErr := b.readFile(path)
	if readErr != nil && !opt.Tolerate.tolerates(readErr) {
		return nil, readErr
	}
	res, err := b.check(start, opt)
	if err != nil {
		return nil, errors.Join(readErr, err)
	}
	return res, readErr
}

// sortedKeys are the keys in order of name.
func (b *builder) sortedKeys() []*keyHistory {
	keys := slices.Clone(b.keys)
	slices.SortFunc(keys, func(x, y *keyHistory) int { return strings.Compare(x.key, y.key) })
	return keys
}

// check runs Porcupine over the gathered keys and assembles the result.
func (b *builder) check(start time.Time, opt Options) (*Result, error) {
	workload := b.workload.result()
	keys := b.sortedKeys()
	var deadline time.Time
	if opt.Timeout > 0 {
		deadline = start.Add(opt.Timeout)
	}
	model := modelFor(workload)
	limit := searchLimit(opt.memoryBudget(), workers(opt))
	outcomes := checkKeys(keys, workload, model, deadline, workers(opt), limit, opt.CrossCheck)
	for _, o := range outcomes {
		if o.err != nil {
			return nil, o.err
		}
	}
	verboseRecheck(outcomes, model, deadline, workers(opt), limit)

	res := &Result{Workload: workload, Anomalies: []Anomaly{}, Counts: map[string]int{},
		verbose: map[string]*porcupine.LinearizationInfo{}, failing: map[string]*keyHistory{},
		intervals: b.faults.Intervals()}
	res.Stats = recordStats(keys)
	res.Stats.Keys = len(keys)
	var undecided, stopped []string
	for _, o := range outcomes {
		kr := KeyResult{Key: o.kh.key, Ops: len(o.kh.recs), Elapsed: int64(o.elapsed)}
		found := o.found
		switch o.result {
		case porcupine.Ok:
			kr.Valid = Valid
			res.Stats.KeysValid++
			// The classifiers are sound: on a linearizable key they must find
			// nothing. Anything they do find is a classifier bug, not a violation.
			res.Stats.ClassifierDisagreements += len(found)
			found = nil
		case porcupine.Illegal:
			kr.Valid = Invalid
			res.Stats.KeysBad++
			if o.info != nil {
				res.verbose[o.kh.key] = o.info
			}
			res.failing[o.kh.key] = o.kh
			if len(found) == 0 {
				found = []Anomaly{explainNonLinearizable(o.kh, model, o.info)}
			}
		default:
			kr.Valid = Unknown
			res.Stats.KeysUnk++
			if o.outOfMemory {
				stopped = append(stopped, o.kh.key)
			} else {
				undecided = append(undecided, o.kh.key)
			}
		}
		if o.result != porcupine.Illegal {
			o.kh.release()
		}
		res.Keys = append(res.Keys, kr)
		res.Anomalies = append(res.Anomalies, found...)
	}
	slices.SortStableFunc(res.Anomalies, func(a, b Anomaly) int {
		if a.Time != b.Time {
			return cmpInt64(a.Time, b.Time)
		}
		return strings.Compare(a.Key, b.Key)
	})
	for _, a := range res.Anomalies {
		res.Counts[a.Kind]++
	}
	switch {
	case res.Stats.KeysBad > 0:
		res.Valid = Invalid
	case len(undecided)+len(stopped) > 0:
		res.Valid = Unknown
		res.Reason = undecidedReason(undecided, stopped, len(keys), opt, len(res.Anomalies))
	default:
		res.Valid = Valid
	}
	res.Stats.CheckNs = int64(time.Since(start))
	return res, nil
}

func workers(opt Options) int {
	if opt.Workers > 0 {
		return opt.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// remaining is the time left before deadline: 0 means no limit, negative
// means none left.
func remaining(deadline time.Time) time.Duration {
	if deadline.IsZero() {
		return 0
	}
	left := time.Until(deadline)
	if left <= 0 {
		return -1
	}
	return left
}

// checkKeys runs Porcupine on every key with a pool of workers, largest
// keys first so that one big key does not start last and hold up the end.
// Each key's model is built just before its search. The classifiers run on
// the keys Porcupine does not find linearizable (on every key with
// crossCheck), even when time is up: they are cheap.
func checkKeys(keys []*keyHistory, workload string, model porcupine.Model, deadline time.Time, workers int, limit int64, crossCheck bool) []*keyOutcome {
	outcomes := make([]*keyOutcome, len(keys))
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
		outcomes[i] = &keyOutcome{kh: keys[i], result: porcupine.Unknown}
	}
	slices.SortStableFunc(order, func(a, b int) int { return len(keys[b].recs) - len(keys[a].recs) })
	runPool(order, workers, func(i int) {
		o := outcomes[i]
		if o.err = o.kh.buildModel(workload); o.err != nil {
			return
		}
		if left := remaining(deadline); left >= 0 {
			began := time.Now()
			g := newSearchGuard(limit, len(o.kh.model))
			o.result = porcupine.CheckOperationsTimeout(g.guard(model), o.kh.model, left)
			o.elapsed = time.Since(began)
			if g.tripped.Load() && o.result != porcupine.Ok {
				o.result, o.outOfMemory = porcupine.Unknown, true
			}
		}
		if o.result != porcupine.Ok || crossCheck {
			if o.err = o.kh.materialize(); o.err == nil {
				o.found = classify(o.kh, workload)
			}
		}
		if o.result == porcupine.Ok {
			o.kh.release()
		}
	})
	return outcomes
}

// minVerboseBudget is the least time the verbose re-check of a failing key
// gets even when the check's deadline has passed: the verdict is already
// known, and the explanation is worth a little more time.
const minVerboseBudget = time.Second

// verboseRecheck re-runs only the failing keys with
// porcupine.CheckOperationsVerbose, to get the partial linearizations that
// explain them and draw them.
func verboseRecheck(outcomes []*keyOutcome, model porcupine.Model, deadline time.Time, workers int, limit int64) {
	var failing []int
	for i, o := range outcomes {
		if o.result == porcupine.Illegal {
			failing = append(failing, i)
		}
	}
	runPool(failing, workers, func(i int) {
		budget := remaining(deadline)
		if budget != 0 && budget < minVerboseBudget {
			budget = minVerboseBudget
		}
		kh := outcomes[i].kh
		_, info := porcupine.CheckOperationsVerbose(newSearchGuard(limit, len(kh.model)).guard(model), kh.model, budget)
		outcomes[i].info = &info
	})
}

// runPool calls work on every item with at most workers goroutines.
func runPool(items []int, workers int, work func(int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(items)) {
		wg.Go(func() {
			for i := range next {
				work(i)
			}
		})
	}
	for _, i := range items {
		next <- i
	}
	close(next)
	wg.Wait()
}

func recordStats(keys []*keyHistory) Stats {
	s := Stats{ByF: map[string]int{}}
	for _, kh := range keys {
		s.Ops += len(kh.recs)
		for i := range kh.recs {
			r := &kh.recs[i]
			s.ByF[r.name()]++
			switch r.typ {
			case outcomeOk:
				s.Ok++
			case outcomeFail:
				s.Fail++
			default:
				s.Info++
			}
		}
	}
	return s
}

func undecidedReason(undecided, stopped []string, keys int, opt Options, anomalies int) string {
	var parts []string
	if len(undecided) > 0 {
		parts = append(parts, fmt.Sprintf("the check ran out of time (timeout %s): %d of %d keys undecided (%s)",
			opt.Timeout, len(undecided), keys, someKeys(undecided)))
	}
	if len(stopped) > 0 {
		parts = append(parts, fmt.Sprintf("the memory budget (%s, --check-memory) stopped the search of %d of %d keys (%s)",
			FormatBytes(opt.memoryBudget()), len(stopped), keys, someKeys(stopped)))
	}
	reason := strings.Join(parts, "; ")
	if anomalies > 0 {
		reason += fmt.Sprintf("; the classifiers found %d anomalies on undecided keys", anomalies)
	}
	return reason
}

// someKeys names up to five keys.
func someKeys(keys []string) string {
	if len(keys) <= 5 {
		return strings.Join(keys, ", ")
	}
	return strings.Join(keys[:5], ", ") + ", …"
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
