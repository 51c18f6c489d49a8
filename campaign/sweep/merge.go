package sweep

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/faultline/faultline/store"
)

// shardSweep is one sweep read for a merge: its matrix and the store its
// run directories are relative to.
type shardSweep struct {
	source string // as given
	dir    string // the sweep directory (holding sweep.json)
	store  string
	matrix *Matrix
}

// FindSweep resolves what a user names as a shard: a sweep directory
// (holding sweep.json) or a store whose sweeps/latest is the sweep. It
// returns the sweep directory and the store its runs live in.
func FindSweep(path string) (dir, store string, err error) {
	if _, err := os.Stat(filepath.Join(path, MatrixFile)); err == nil {
		return path, filepath.Dir(filepath.Dir(path)), nil
	}
	latest := filepath.Join(path, SweepsDir, LatestLink)
	if _, err := os.Stat(filepath.Join(latest, MatrixFile)); err == nil {
		target, err := filepath.EvalSymlinks(latest)
		if err != nil {
			return "", "", err
		}
		return target, path, nil
	}
	return "", "", fmt.Errorf("%s: neither a sweep directory (no %s) nor a store with %s/%s", path, MatrixFile, SweepsDir, LatestLink)
}

// runKey identifies a campaign of a sweep across shards.
type runKey struct {
	role, bug string
	index     int
}

func keyOf(role, bug string, index int) runKey { return runKey{role, bug, index} }

// Merge puts shard sweeps back together into store: every run directory
// they name is copied into store under the same relative path (with a
// "-2" suffix when two shards made the same one), and one matrix of the
// whole sweep, judged afresh over every seed, is written to
// store/sweeps/<timestamp>/ with its page and junit.xml. Shards must come
// from one sweep's flags (only --shard and --store may differ); each
// campaign must have run in exactly one of them. A campaign no shard ran
// stops the merged sweep, which fails it.
func Merge(sources []string, storeDir string) (*Sweep, error) {
	if len(sources) == 0 {
		return nil, errors.New("no shard to merge")
	}
	shards, err := readShards(sources)
	if err != nil {
		return nil, err
	}
	o := shards[0].matrix.Options
	o.Shard, o.Store, o.Log = Shard{}, storeDir, nil
	plan, err := o.FullPlan()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", shards[0].source, err)
	}
	results, err := collect(shards, storeDir)
	if err != nil {
		return nil, err
	}
	m := newMatrix(o, plan)
	m.Command = shards[0].matrix.Command
	var missing int
	for _, p := range plan {
		r, ok := results[keyOf(p.Role, p.Bug, p.Index)]
		if !ok {
			missing++
			continue
		}
		m.add(r)
	}
	mergeTimes(m, shards)
	for _, sh := range shards {
		m.Merged = append(m.Merged, sh.dir)
		if m.Runtime == "" {
			m.Runtime = sh.matrix.Runtime
		}
		if sh.matrix.Stopped != "" {
			m.stop(fmt.Sprintf("shard %s (%s) stopped: %s", sh.matrix.Shard, sh.source, sh.matrix.Stopped))
		}
	}
	if missing > 0 {
		m.stop(fmt.Sprintf("%d of %d campaigns ran in none of the %d shard(s) merged", missing, len(plan), len(shards)))
	}
	dir, err := store.CreateSweep(storeDir, time.Now())
	if err != nil {
		return nil, err
	}
	s := &Sweep{Matrix: m, Dir: dir}
	if err := s.write(); err != nil {
		return nil, err
	}
	if err := store.PointSweepLatest(storeDir, dir); err != nil {
		return s, fmt.Errorf("pointing %s/%s/%s at the merged sweep: %w", storeDir, SweepsDir, LatestLink, err)
	}
	return s, nil
}

// readShards reads every shard's matrix and checks that they are slices
// of one sweep.
func readShards(sources []string) ([]shardSweep, error) {
	var shards []shardSweep
	seen := map[string]string{}
	for _, src := range sources {
		dir, store, err := FindSweep(src)
		if err != nil {
			return nil, err
		}
		m, err := ReadMatrix(filepath.Join(dir, MatrixFile))
		if err != nil {
			return nil, err
		}
		if len(m.Merged) > 0 {
			return nil, fmt.Errorf("%s: already a merged sweep; merge the shards it came from", src)
		}
		if prev, dup := seen[m.Shard]; dup && m.Shard != "" {
			return nil, fmt.Errorf("%s and %s are both shard %s", prev, src, m.Shard)
		}
		seen[m.Shard] = src
		sh := shardSweep{source: src, dir: dir, store: store, matrix: m}
		if len(shards) > 0 {
			if err := sameSweep(shards[0], sh); err != nil {
				return nil, err
			}
		}
		shards = append(shards, sh)
	}
	return shards, nil
}

// sameSweep compares the flags that decide the campaigns.
func sameSweep(a, b shardSweep) error {
	flagsOf := func(o Options) string {
		o.Shard, o.Store, o.Log = Shard{}, "", nil
		j, _ := json.Marshal(o)
		return string(j)
	}
	if fa, fb := flagsOf(a.matrix.Options), flagsOf(b.matrix.Options); fa != fb {
		return fmt.Errorf("%s and %s are not shards of one sweep: their flags differ (%s vs %s)", a.source, b.source, fa, fb)
	}
	if a.matrix.Shard != "" && b.matrix.Shard != "" {
		sa, _ := ParseShard(a.matrix.Shard)
		sb, _ := ParseShard(b.matrix.Shard)
		if sa.Count != sb.Count {
			return fmt.Errorf("%s is shard %s but %s is shard %s: shards of different splits", a.source, a.matrix.Shard, b.source, b.matrix.Shard)
		}
	}
	return nil
}

// collect gathers every shard's runs by campaign, copying their run
// directories into store.
func collect(shards []shardSweep, store string) (map[runKey]RunResult, error) {
	results := map[runKey]RunResult{}
	from := map[runKey]string{}
	for _, sh := range shards {
		for _, r := range allRuns(sh.matrix) {
			k := keyOf(r.Role, r.Bug, r.Index)
			if prev, dup := from[k]; dup {
				return nil, fmt.Errorf("%s and %s both ran the %s campaign %s seed %d", prev, sh.source, r.Role, r.Bug, r.Seed)
			}
			from[k] = sh.source
			var err error
			if r.RunDir, err = copyRun(sh.store, store, r.RunDir); err != nil {
				r.Error = joinText(r.Error, fmt.Sprintf("merge: run directory of shard %s not copied: %v", sh.source, err))
				r.RunDir = ""
			}
			if r.FailedAttempt, err = copyRun(sh.store, store, r.FailedAttempt); err != nil {
				r.FailedAttempt = ""
			}
			results[k] = r
		}
	}
	return results, nil
}

// allRuns lists a matrix's runs: bug runs, baselines, controls.
func allRuns(m *Matrix) []RunResult {
	var runs []RunResult
	for _, row := range m.Bugs {
		runs = append(runs, row.Runs...)
		runs = append(runs, row.Baselines...)
	}
	return append(runs, m.Controls.Runs...)
}

// copyRun copies the run directory rel of store from into store to and
// returns its path there, relative and with forward slashes ("" stays "").
func copyRun(from, to, rel string) (string, error) {
	if rel == "" {
		return "", nil
	}
	src := filepath.Join(from, filepath.FromSlash(rel))
	if same, err := sameDir(from, to); err != nil || same {
		if _, serr := os.Stat(src); serr != nil {
			return "", serr
		}
		return rel, err
	}
	if _, err := os.Stat(src); err != nil {
		return "", err
	}
	dst := rel
	for i := 2; ; i++ {
		_, err := os.Lstat(filepath.Join(to, filepath.FromSlash(dst)))
		if errors.Is(err, fs.ErrNotExist) {
			break
		}
		if err != nil {
			return "", err
		}
		if i > 1000 {
			return "", fmt.Errorf("too many run directories named %s", rel)
		}
		dst = rel + "-" + strconv.Itoa(i)
	}
	if err := os.CopyFS(filepath.Join(to, filepath.FromSlash(dst)), os.DirFS(src)); err != nil {
		return "", err
	}
	return dst, nil
}

// sameDir reports whether a and b are one directory (shards run one after
// another into one store need no copying).
func sameDir(a, b string) (bool, error) {
	ia, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	ib, err := os.Stat(b)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(ia, ib), nil
}

// mergeTimes spans the merged sweep from the first shard's start to the
// last shard's end (no end while a shard has none).
func mergeTimes(m *Matrix, shards []shardSweep) {
	var end *time.Time
	for i, sh := range shards {
		if i == 0 || sh.matrix.StartedAt.Before(m.StartedAt) {
			m.StartedAt = sh.matrix.StartedAt
		}
		e := sh.matrix.EndedAt
		switch {
		case e == nil:
			m.EndedAt = nil
			return
		case end == nil || e.After(*end):
			end = e
		}
	}
	m.EndedAt = end
}
