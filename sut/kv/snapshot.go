package kv

import (
	"encoding/json"
	"fmt"
	"maps"
)

// snapshotVersion is bumped whenever the image layout changes incompatibly.
const snapshotVersion = 1

// image is the JSON form of a whole store.
type image struct {
	Version  int                 `json:"version"`
	Applied  uint64              `json:"applied"`
	Data     map[string]any      `json:"data"`
	Sessions map[string]*session `json:"sessions"`
}

// Snapshot encodes the whole state: data, client sessions and the applied
// index. The encoding is deterministic (keys sorted), so equal stores give
// equal bytes.
//
// Only a copy of the maps is taken under the lock; the slow encoding runs
// after it, so the applier is not held up. That is safe because stored
// values are never modified in place (a list only grows past the length a
// copy holds).
func (s *Store) Snapshot() ([]byte, error) {
	s.mu.RLock()
	img := image{
		Version:  snapshotVersion,
		Applied:  s.applied,
		Data:     maps.Clone(s.data),
		Sessions: make(map[string]*session, len(s.sessions)),
	}
	for id, sess := range s.sessions {
		img.Sessions[id] = &session{Floor: sess.Floor, Results: maps.Clone(sess.Results)}
	}
	s.mu.RUnlock()
	b, err := json.Marshal(img)
	if err != nil {
		return nil, fmt.Errorf("kv: encoding snapshot at index %d: %w", img.Applied, err)
	}
	return b, nil
}

// Restore replaces the whole state with the image b made by Snapshot. On
// error the store is left unchanged.
func (s *Store) Restore(b []byte) error {
	var img image
	if err := decodeJSON(b, &img); err != nil {
		return fmt.Errorf("kv: decoding snapshot (%d bytes): %w", len(b), err)
	}
	if img.Version != snapshotVersion {
		return fmt.Errorf("kv: snapshot field version: got %d, this build reads %d", img.Version, snapshotVersion)
	}
	if img.Data == nil {
		img.Data = make(map[string]any)
	}
	if img.Sessions == nil {
		img.Sessions = make(map[string]*session)
	}
	for id, sess := range img.Sessions {
		if sess == nil {
			return fmt.Errorf("kv: snapshot field sessions[%q] is null", id)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data = img.Data
	s.sessions = img.Sessions
	s.applied = img.Applied
	return nil
}
