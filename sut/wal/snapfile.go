package wal

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os"

	"github.com/faultline/faultline/sut/raft"
)

// A snapshot file is
//
//	magic "FLSNAP01" | meta length uint32 LE | data length uint64 LE |
//	crc uint32 LE | meta (JSON of raft.SnapshotMeta) | data
//
// where crc is CRC-32C over the two lengths, the meta and the data.
var snapMagic = []byte("FLSNAP01")

const snapHeaderSize = 8 + 4 + 8 + 4

func encodeSnapshot(s raft.Snapshot) ([]byte, error) {
	meta, err := json.Marshal(s.Meta)
	if err != nil {
		return nil, fmt.Errorf("wal: encoding snapshot meta at index %d: %w", s.Meta.Index, err)
	}
	buf := make([]byte, snapHeaderSize, snapHeaderSize+len(meta)+len(s.Data))
	copy(buf, snapMagic)
	binary.LittleEndian.PutUint32(buf[8:12], uint32(len(meta)))
	binary.LittleEndian.PutUint64(buf[12:20], uint64(len(s.Data)))
	buf = append(buf, meta...)
	buf = append(buf, s.Data...)
	c := crc32.Update(0, castagnoli, buf[8:20])
	c = crc32.Update(c, castagnoli, buf[snapHeaderSize:])
	binary.LittleEndian.PutUint32(buf[20:24], c)
	return buf, nil
}

// readSnapshotFile loads and verifies the snapshot at path; index is the one
// its name claims. Any damage is a *CorruptError naming the file.
func readSnapshotFile(path string, index uint64) (*raft.Snapshot, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("wal: reading snapshot: %w", err)
	}
	bad := func(format string, a ...any) error {
		return &CorruptError{File: path, Offset: -1, Reason: fmt.Sprintf(format, a...)}
	}
	if len(b) < snapHeaderSize || !bytes.Equal(b[:8], snapMagic) {
		return nil, bad("not a snapshot file (bad magic or shorter than its %d-byte header)", snapHeaderSize)
	}
	metaLen := uint64(binary.LittleEndian.Uint32(b[8:12]))
	dataLen := binary.LittleEndian.Uint64(b[12:20])
	if uint64(len(b)-snapHeaderSize) != metaLen+dataLen {
		return nil, bad("size %d does not match its header (meta %d + data %d bytes)", len(b), metaLen, dataLen)
	}
	c := crc32.Update(0, castagnoli, b[8:20])
	c = crc32.Update(c, castagnoli, b[snapHeaderSize:])
	if want := binary.LittleEndian.Uint32(b[20:24]); c != want {
		return nil, bad("crc mismatch (stored %08x, computed %08x)", want, c)
	}
	var s raft.Snapshot
	metaEnd := snapHeaderSize + metaLen
	if err := json.Unmarshal(b[snapHeaderSize:metaEnd], &s.Meta); err != nil {
		return nil, bad("meta: %v", err)
	}
	if s.Meta.Index != index {
		return nil, bad("holds index %d but its name says %d", s.Meta.Index, index)
	}
	s.Data = b[metaEnd:]
	return &s, nil
}
