package wal

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/faultline/faultline/sut/raft"
)

// State is what a data directory held at Open: the last hard state, the
// latest snapshot (nil if none) and the log entries after it, in index order.
type State struct {
	HardState raft.HardState
	Snapshot  *raft.Snapshot
	Entries   []raft.Entry
}

// Options configure Open.
type Options struct {
	NodeID, Cluster string // identity recorded in meta.json; NodeID is required
	NoSync          bool   // skip every fsync: tests only, never in raftd
	Logger          *slog.Logger
}

// WAL is an open data directory. Its methods are safe for concurrent use,
// though raftd calls them from one goroutine.
type WAL struct {
	dir    string
	opt    Options
	logger *slog.Logger
	// syncFile performs one fsync; tests replace it to count syncs.
	syncFile func(*os.File) error

	mu      sync.Mutex
	err     error // sticky: after a failed write the file state is unknown
	closed  bool
	f       *os.File // active segment, opened for append
	seq     uint64   // active segment's number
	oldSegs []numberedFile
	hs      raft.HardState
	// voteTerm and vote are what the vote file holds (votefile.go).
	voteTerm  uint64
	vote      string
	snapIndex uint64
	snapTerm  uint64
	ents      []raft.Entry // entries after snapIndex, contiguous
	buf       []byte
	unsynced  bool // the active segment holds writes not yet fsynced
	// compactionPending: replay met entries the snapshot covers, so the
	// roll that follows a snapshot did not finish; Open finishes it.
	compactionPending bool
}

// Open opens (creating if needed) the data directory dir for node
// opt.NodeID of cluster opt.Cluster and replays it.
func Open(dir string, opt Options) (*WAL, State, error) {
	if strings.TrimSpace(opt.NodeID) == "" {
		return nil, State{}, errors.New("wal: Options.NodeID is empty")
	}
	if dir == "" {
		return nil, State{}, errors.New("wal: data directory path is empty")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, State{}, fmt.Errorf("wal: creating data directory: %w", err)
	}
	w := &WAL{dir: dir, opt: opt, logger: opt.Logger, syncFile: (*os.File).Sync}
	if w.logger == nil {
		w.logger = slog.Default()
	}
	w.logger = w.logger.With("component", "wal", "dir", dir)
	if err := w.checkIdentity(); err != nil {
		return nil, State{}, err
	}
	if err := w.removeTemporaries(); err != nil {
		return nil, State{}, err
	}
	snap, err := w.loadLatestSnapshot()
	if err != nil {
		return nil, State{}, err
	}
	if err := w.replay(); err != nil {
		return nil, State{}, err
	}
	if err := w.applyVoteFile(); err != nil {
		return nil, State{}, err
	}
	if err := w.openActiveSegment(); err != nil {
		return nil, State{}, err
	}
	if w.compactionPending {
		// Until the log is rolled, a later replay would judge new entries
		// against the stale records the snapshot replaced.
		w.logger.Info("finishing an interrupted log compaction", "snapshot_index", w.snapIndex, "entries_kept", len(w.ents))
		if err := w.roll(w.ents); err != nil {
			w.f.Close()
			return nil, State{}, err
		}
		if err := w.syncDir(); err != nil {
			w.f.Close()
			return nil, State{}, err
		}
	}
	st := State{HardState: w.hs, Snapshot: snap, Entries: append([]raft.Entry(nil), w.ents...)}
	return w, st, nil
}

// removeTemporaries deletes files left by an atomic write that crashed
// before its rename; the file they were replacing is still intact.
func (w *WAL) removeTemporaries() error {
	des, err := os.ReadDir(w.dir)
	if err != nil {
		return fmt.Errorf("wal: reading data directory: %w", err)
	}
	for _, de := range des {
		if strings.HasSuffix(de.Name(), tmpSuffix) {
			p := filepath.Join(w.dir, de.Name())
			w.logger.Warn("removing leftover temporary file of an interrupted write", "file", p)
			if err := os.Remove(p); err != nil {
				return fmt.Errorf("wal: removing %s: %w", p, err)
			}
		}
	}
	return nil
}

// loadLatestSnapshot reads the newest snapshot file. A damaged newest
// snapshot is an error: falling back to an older one would silently lose the
// log it replaced.
func (w *WAL) loadLatestSnapshot() (*raft.Snapshot, error) {
	snaps, err := listNumbered(w.dir, snapshotPrefix, snapshotSuffix)
	if err != nil || len(snaps) == 0 {
		return nil, err
	}
	latest := snaps[len(snaps)-1]
	s, err := readSnapshotFile(latest.path, latest.n)
	if err != nil {
		return nil, err
	}
	w.snapIndex, w.snapTerm = s.Meta.Index, s.Meta.Term
	return s, nil
}

// replay reads every segment in order and rebuilds the hard state and the
// entries after the snapshot. Replay semantics: an entry record with index i
// replaces every entry >= i.
func (w *WAL) replay() error {
	segs, err := listNumbered(w.dir, segmentPrefix, segmentSuffix)
	if err != nil {
		return err
	}
	// termAtSnap is the term of the log's own entry at the snapshot index (0:
	// the log has none). If it differs from the snapshot's term, the entries
	// after it belong to another history and are dropped (Raft §7).
	var termAtSnap uint64
	for i, seg := range segs {
		data, err := os.ReadFile(seg.path)
		if err != nil {
			return fmt.Errorf("wal: reading segment: %w", err)
		}
		last := i == len(segs)-1
		sc, err := scanSegment(seg.path, data, last)
		if err != nil {
			return err
		}
		for _, r := range sc.records {
			switch r.typ {
			case recHardState:
				hs, err := decodeHardState(r.payload)
				if err != nil {
					return &CorruptError{File: seg.path, Offset: r.offset, Reason: err.Error()}
				}
				w.hs = hs
			case recEntry:
				e, err := decodeEntry(r.payload)
				if err != nil {
					return &CorruptError{File: seg.path, Offset: r.offset, Reason: err.Error()}
				}
				if e.Index <= w.snapIndex {
					// Covered by the snapshot, but it still cuts off
					// every later entry in the raw log. Its presence
					// means a compaction was interrupted.
					w.compactionPending = true
					w.ents = w.ents[:0]
					termAtSnap = 0
					if e.Index == w.snapIndex {
						termAtSnap = e.Term
					}
					continue
				}
				if lastIdx := w.lastIndex(); e.Index > lastIdx+1 {
					return &CorruptError{File: seg.path, Offset: r.offset,
						Reason: fmt.Sprintf("entry %d leaves a gap after entry %d", e.Index, lastIdx)}
				}
				w.ents = append(w.ents[:e.Index-w.snapIndex-1], e)
			}
		}
		if sc.tornReason != "" {
			w.logger.Warn("truncating torn record at the tail of the log",
				"file", seg.path, "offset", sc.end, "dropped_bytes", int64(len(data))-sc.end, "reason", sc.tornReason)
			if err := w.truncate(seg.path, sc.end); err != nil {
				return err
			}
		}
	}
	if termAtSnap != 0 && termAtSnap != w.snapTerm && len(w.ents) > 0 {
		w.logger.Warn("dropping log entries that conflict with the snapshot",
			"snapshot_index", w.snapIndex, "snapshot_term", w.snapTerm, "log_term", termAtSnap, "dropped", len(w.ents))
		w.ents = nil
	}
	if len(segs) > 0 {
		w.seq = segs[len(segs)-1].n
		w.oldSegs = segs[:len(segs)-1]
	}
	return nil
}

func (w *WAL) truncate(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("wal: opening %s to truncate its torn tail: %w", path, err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("wal: truncating %s at byte offset %d: %w", path, size, err)
	}
	if err := w.sync(f); err != nil {
		return fmt.Errorf("wal: syncing %s after truncation: %w", path, err)
	}
	return nil
}

// openActiveSegment opens the last segment for appending, or creates the
// first one.
func (w *WAL) openActiveSegment() error {
	if w.seq == 0 {
		w.seq = 1
		f, err := w.createSegment(w.seq, nil)
		if err != nil {
			return err
		}
		w.f = f
		return nil
	}
	path := filepath.Join(w.dir, segmentName(w.seq))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("wal: opening segment %s: %w", path, err)
	}
	w.f = f
	return nil
}

// createSegment durably creates segment seq holding exactly content and
// returns it opened for appending.
func (w *WAL) createSegment(seq uint64, content []byte) (*os.File, error) {
	name := segmentName(seq)
	if err := w.writeFileAtomic(name, content); err != nil {
		return nil, err
	}
	path := filepath.Join(w.dir, name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("wal: opening segment %s: %w", path, err)
	}
	return f, nil
}

// lastIndex is the index of the last entry, or the snapshot's index.
func (w *WAL) lastIndex() uint64 {
	if n := len(w.ents); n > 0 {
		return w.ents[n-1].Index
	}
	return w.snapIndex
}

// LastIndex is the index of the last stored entry (or of the snapshot when
// the log after it is empty).
func (w *WAL) LastIndex() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lastIndex()
}

// termAt is the term of the entry at index i as far as the WAL knows (0:
// unknown).
func (w *WAL) termAt(i uint64) uint64 {
	if i == w.snapIndex {
		return w.snapTerm
	}
	if i > w.snapIndex && i <= w.lastIndex() {
		return w.ents[i-w.snapIndex-1].Term
	}
	return 0
}

func (w *WAL) usable() error {
	if w.closed {
		return errors.New("wal: closed")
	}
	return w.err
}

// Save appends ents and records hs (unless empty or unchanged) in one write;
// with sync it fsyncs once for the whole batch before returning. ents must be
// contiguous; when ents[0].Index <= the last stored index, the stored entries
// from ents[0].Index on are replaced. Entries are written before the hard
// state, so a torn write never leaves a commit index pointing past the log.
func (w *WAL) Save(hs raft.HardState, ents []raft.Entry, sync bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return err
	}
	if len(ents) > 0 {
		first := ents[0].Index
		for i, e := range ents {
			if e.Index != first+uint64(i) {
				return fmt.Errorf("wal: Save: entries not contiguous: ents[%d] has index %d, want %d", i, e.Index, first+uint64(i))
			}
		}
		if first <= w.snapIndex {
			return fmt.Errorf("wal: Save: entry %d is covered by the snapshot at index %d", first, w.snapIndex)
		}
		if last := w.lastIndex(); first > last+1 {
			return fmt.Errorf("wal: Save: entry %d would leave a gap after the last stored entry %d", first, last)
		}
	}
	writeHS := !hs.IsEmpty() && hs != w.hs
	if len(ents) == 0 && !writeHS {
		if sync && w.unsynced {
			// Nothing new, but earlier unsynced writes must be durable now.
			if err := w.sync(w.f); err != nil {
				w.err = fmt.Errorf("wal: syncing %s: %w", w.f.Name(), err)
				return w.err
			}
			w.unsynced = false
		}
		return nil
	}
	buf := w.buf[:0]
	for _, e := range ents {
		if len(e.Data) > maxPayload-entryFixed {
			return fmt.Errorf("wal: Save: entry %d carries %d bytes, over the %d-byte record limit", e.Index, len(e.Data), maxPayload-entryFixed)
		}
		buf = appendEntryRecord(buf, e)
	}
	if writeHS {
		buf = appendHardStateRecord(buf, hs)
	}
	w.buf = buf
	if _, err := w.f.Write(buf); err != nil {
		w.err = fmt.Errorf("wal: writing %d bytes to %s: %w", len(buf), w.f.Name(), err)
		return w.err
	}
	w.unsynced = !sync
	if sync {
		if err := w.sync(w.f); err != nil {
			w.err = fmt.Errorf("wal: syncing %s: %w", w.f.Name(), err)
			return w.err
		}
	}
	if len(ents) > 0 {
		keep := ents[0].Index - w.snapIndex - 1
		w.ents = append(w.ents[:keep], ents...)
	}
	if writeHS {
		w.hs = hs
		if err := w.saveVote(hs); err != nil {
			w.err = err
			return err
		}
	}
	return nil
}

// SaveSnapshot durably stores s, then compacts the log: it rolls to a new
// segment holding the hard state and the entries after s (kept only when the
// log's entry at s.Meta.Index has s.Meta.Term; otherwise the log conflicts
// with the snapshot and is dropped), and deletes the older segments and
// snapshot files. A snapshot not newer than the stored one is ignored.
func (w *WAL) SaveSnapshot(s raft.Snapshot) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return err
	}
	if s.Meta.Index == 0 {
		return errors.New("wal: SaveSnapshot: snapshot index is 0")
	}
	if s.Meta.Index <= w.snapIndex {
		w.logger.Debug("ignoring snapshot not newer than the stored one", "index", s.Meta.Index, "stored", w.snapIndex)
		return nil
	}
	img, err := encodeSnapshot(s)
	if err != nil {
		return err
	}
	if err := w.writeFileAtomic(snapshotName(s.Meta.Index), img); err != nil {
		return err
	}

	var kept []raft.Entry
	if w.termAt(s.Meta.Index) == s.Meta.Term {
		kept = append(kept, w.ents[s.Meta.Index-w.snapIndex:]...)
	} else if s.Meta.Index < w.lastIndex() {
		w.logger.Warn("snapshot conflicts with the log: dropping the entries after it",
			"snapshot_index", s.Meta.Index, "snapshot_term", s.Meta.Term,
			"log_term", w.termAt(s.Meta.Index), "dropped", w.lastIndex()-s.Meta.Index)
	}
	if err := w.roll(kept); err != nil {
		return err
	}
	w.snapIndex, w.snapTerm = s.Meta.Index, s.Meta.Term

	snaps, err := listNumbered(w.dir, snapshotPrefix, snapshotSuffix)
	if err != nil {
		return err
	}
	for _, sf := range snaps {
		if sf.n < s.Meta.Index {
			if err := os.Remove(sf.path); err != nil {
				w.logger.Warn("could not delete an older snapshot", "file", sf.path, "err", err)
			}
		}
	}
	return w.syncDir()
}

// roll makes a new segment holding exactly kept and the hard state, makes
// it the active one, and deletes every older segment. On failure the WAL is
// unusable (the old segments are still intact on disk).
func (w *WAL) roll(kept []raft.Entry) error {
	// The old segments stay until the new one is durable; sync the active
	// one so that, if we crash in between, replay does not find a torn
	// record in a segment that is no longer the last.
	if err := w.sync(w.f); err != nil {
		w.err = fmt.Errorf("wal: syncing %s: %w", w.f.Name(), err)
		return w.err
	}
	var content []byte
	for _, e := range kept {
		content = appendEntryRecord(content, e)
	}
	if !w.hs.IsEmpty() {
		content = appendHardStateRecord(content, w.hs)
	}
	f, err := w.createSegment(w.seq+1, content)
	if err != nil {
		w.err = err
		return err
	}
	old := append(w.oldSegs, numberedFile{n: w.seq, path: w.f.Name()})
	w.f.Close()
	w.f = f
	w.seq++
	w.oldSegs = nil
	w.ents = kept
	w.unsynced = false
	for _, seg := range old {
		if err := os.Remove(seg.path); err != nil {
			w.logger.Warn("could not delete a compacted segment", "file", seg.path, "err", err)
		}
	}
	return nil
}

// Close syncs and closes the active segment. The WAL is unusable afterwards.
func (w *WAL) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	var err error
	if w.err == nil {
		err = w.sync(w.f)
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("wal: closing %s: %w", w.f.Name(), err)
	}
	return nil
}
