package wal

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// CorruptError reports damage that recovery must not repair: a bad record
// that is not the torn tail of the last segment, or a damaged snapshot file.
type CorruptError struct {
	File   string
	Offset int64 // byte offset of the bad record; -1 when the whole file is bad
	Reason string
}

func (e *CorruptError) Error() string {
	if e.Offset < 0 {
		return fmt.Sprintf("wal: corrupt file %s: %s", e.File, e.Reason)
	}
	return fmt.Sprintf("wal: corrupt record in %s at byte offset %d: %s", e.File, e.Offset, e.Reason)
}

// record is one decoded frame of a segment.
type record struct {
	typ     recordType
	payload []byte
	offset  int64
}

// scanned is what scanning a segment found.
type scanned struct {
	records []record
	// end is the offset just after the last good record.
	end int64
	// tornReason is non-empty when the tail from end on is a torn record.
	tornReason string
}

// scanSegment splits data, the contents of the segment at path, into
// records. A bad record is tolerated only as the torn tail of the last
// segment (isLast): it extends past the end of the file, is the very last
// record and fails its CRC, or starts an all-zero tail (space the file system
// extended but never wrote). Anything else is a *CorruptError.
func scanSegment(path string, data []byte, isLast bool) (scanned, error) {
	var s scanned
	size := int64(len(data))
	off := int64(0)
	tear := func(reason string) (scanned, error) {
		if !isLast {
			return s, &CorruptError{File: path, Offset: off, Reason: reason + " (in a segment that is not the last)"}
		}
		s.end = off
		s.tornReason = reason
		return s, nil
	}
	for off < size {
		if size-off < headerSize {
			return tear(fmt.Sprintf("short record header (%d of %d bytes)", size-off, headerSize))
		}
		h := data[off : off+headerSize]
		n := int64(binary.LittleEndian.Uint32(h[0:4]))
		want := binary.LittleEndian.Uint32(h[4:8])
		typ := recordType(h[8])
		end := off + headerSize + n
		if end > size {
			return tear(fmt.Sprintf("record of %d bytes extends past the end of the file (%d bytes)", n, size))
		}
		payload := data[off+headerSize : end]
		lt := [5]byte{h[0], h[1], h[2], h[3], h[8]}
		if got := recordCRC(lt[:], payload); got != want {
			reason := fmt.Sprintf("crc mismatch (stored %08x, computed %08x)", want, got)
			if end == size || allZero(data[off:]) {
				return tear(reason)
			}
			return s, &CorruptError{File: path, Offset: off, Reason: reason}
		}
		if n > maxPayload {
			return s, &CorruptError{File: path, Offset: off, Reason: fmt.Sprintf("record of %d bytes exceeds the %d-byte limit", n, maxPayload)}
		}
		switch typ {
		case recEntry, recHardState:
		default:
			return s, &CorruptError{File: path, Offset: off, Reason: fmt.Sprintf("unknown record type %d", typ)}
		}
		s.records = append(s.records, record{typ: typ, payload: payload, offset: off})
		off = end
		s.end = off
	}
	return s, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// Names of files in a data directory.
const (
	segmentPrefix  = "wal-"
	segmentSuffix  = ".log"
	snapshotPrefix = "snap-"
	snapshotSuffix = ".snap"
	tmpSuffix      = ".tmp"
)

func segmentName(seq uint64) string {
	return fmt.Sprintf("%s%020d%s", segmentPrefix, seq, segmentSuffix)
}

func snapshotName(index uint64) string {
	return fmt.Sprintf("%s%020d%s", snapshotPrefix, index, snapshotSuffix)
}

// numberedFile is a segment or snapshot file and the number in its name.
type numberedFile struct {
	n    uint64
	path string
}

// listNumbered returns the files in dir named prefix<number>suffix, sorted by
// number. A file with the prefix and suffix but no valid number is an error:
// it is ours and damaged, or someone else's in our directory.
func listNumbered(dir, prefix, suffix string) ([]numberedFile, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("wal: reading data directory: %w", err)
	}
	var out []numberedFile
	for _, de := range des {
		name := de.Name()
		if !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, suffix) {
			continue
		}
		num := strings.TrimSuffix(strings.TrimPrefix(name, prefix), suffix)
		n, err := strconv.ParseUint(num, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("wal: %s: unexpected file name (want %s<number>%s)", filepath.Join(dir, name), prefix, suffix)
		}
		out = append(out, numberedFile{n: n, path: filepath.Join(dir, name)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].n < out[j].n })
	return out, nil
}
