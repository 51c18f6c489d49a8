package wal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

const metaName = "meta.json"

// identity is the content of meta.json: whose data this directory holds.
type identity struct {
	NodeID  string `json:"node_id"`
	Cluster string `json:"cluster"`
}

// checkIdentity writes meta.json on first use of dir, and refuses a
// directory that belongs to another node or cluster. A directory holding log
// or snapshot files but no meta.json is refused too: whose they are is
// unknown.
func (w *WAL) checkIdentity() error {
	path := filepath.Join(w.dir, metaName)
	want := identity{NodeID: w.opt.NodeID, Cluster: w.opt.Cluster}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		segs, err := listNumbered(w.dir, segmentPrefix, segmentSuffix)
		if err != nil {
			return err
		}
		snaps, err := listNumbered(w.dir, snapshotPrefix, snapshotSuffix)
		if err != nil {
			return err
		}
		if len(segs)+len(snaps) > 0 {
			return fmt.Errorf("wal: data directory %s holds log or snapshot files but no %s; refusing to adopt data of unknown origin", w.dir, metaName)
		}
		out, err := json.MarshalIndent(want, "", "  ")
		if err != nil {
			return err
		}
		return w.writeFileAtomic(metaName, append(out, '\n'))
	}
	if err != nil {
		return fmt.Errorf("wal: reading %s: %w", path, err)
	}
	var got identity
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		return fmt.Errorf("wal: %s: not a valid identity file: %w", path, err)
	}
	if got.NodeID == "" {
		return fmt.Errorf("wal: %s: field node_id is empty", path)
	}
	if got != want {
		return fmt.Errorf("wal: data directory %s belongs to node %q of cluster %q, not to node %q of cluster %q (%s)",
			w.dir, got.NodeID, got.Cluster, want.NodeID, want.Cluster, path)
	}
	return nil
}

// writeFileAtomic makes name in the data directory hold exactly b, or leaves
// the old file: write a temporary file, sync it, rename it over name, sync
// the directory.
func (w *WAL) writeFileAtomic(name string, b []byte) error {
	path := filepath.Join(w.dir, name)
	tmp := path + tmpSuffix
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("wal: creating %s: %w", tmp, err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = w.sync(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("wal: writing %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("wal: renaming %s to %s: %w", tmp, path, err)
	}
	return w.syncDir()
}

// sync makes f durable unless Options.NoSync; every fsync goes through the
// syncFile hook so tests can count them.
func (w *WAL) sync(f *os.File) error {
	if w.opt.NoSync {
		return nil
	}
	return w.syncFile(f)
}

// syncDir makes renames, creations and deletions in the data directory
// durable.
func (w *WAL) syncDir() error {
	if w.opt.NoSync {
		return nil
	}
	d, err := os.Open(w.dir)
	if err != nil {
		return fmt.Errorf("wal: opening data directory to sync it: %w", err)
	}
	defer d.Close()
	if err := w.syncFile(d); err != nil {
		return fmt.Errorf("wal: syncing data directory %s: %w", w.dir, err)
	}
	return nil
}
