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
// segment (isLast), under the rule stated in the package comment: nothing
// valid follows it (validRecordFollows) and it looks like an append cut
// short (looksInterrupted). Anything else is a *CorruptError.
func scanSegment(path string, data []byte, isLast bool) (scanned, error) {
	var s scanned
	size := int64(len(data))
	off := int64(0)
	damaged := func(reason string) (scanned, error) {
		if !isLast {
			return s, &CorruptError{File: path, Offset: off, Reason: reason + " (in a segment that is not the last)"}
		}
		if next, ok := validRecordFollows(data, off); ok {
			return s, &CorruptError{File: path, Offset: off, Reason: fmt.Sprintf("%s, and a valid record follows at byte offset %d", reason, next)}
		}
		if why, ok := looksInterrupted(data, off); !ok {
			return s, &CorruptError{File: path, Offset: off, Reason: fmt.Sprintf("%s; nothing valid follows, but %s", reason, why)}
		}
		s.end = off
		s.tornReason = reason
		return s, nil
	}
	for off < size {
		if size-off < headerSize {
			return damaged(fmt.Sprintf("short record header (%d of %d bytes)", size-off, headerSize))
		}
		h := data[off : off+headerSize]
		n := int64(binary.LittleEndian.Uint32(h[0:4]))
		want := binary.LittleEndian.Uint32(h[4:8])
		typ := recordType(h[8])
		end := off + headerSize + n
		if end > size {
			return damaged(fmt.Sprintf("record of %d bytes extends past the end of the file (%d bytes)", n, size))
		}
		payload := data[off+headerSize : end]
		lt := [5]byte{h[0], h[1], h[2], h[3], h[8]}
		if got := recordCRC(lt[:], payload); got != want {
			return damaged(fmt.Sprintf("crc mismatch (stored %08x, computed %08x)", want, got))
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

// sectorSize is the unit a disk writes atomically; an append cut short
// leaves whole sectors of it unwritten, and they read back as zeros.
const sectorSize = 512

// validRecordAt reports whether a record with a known type, a plausible
// payload size and a matching CRC starts at off. A random match has odds of
// 2^-32 per offset, and a false match only ever refuses a start-up.
func validRecordAt(data []byte, off int64) bool {
	size := int64(len(data))
	if size-off < headerSize {
		return false
	}
	h := data[off : off+headerSize]
	var min int64
	switch recordType(h[8]) {
	case recEntry:
		min = entryFixed
	case recHardState:
		min = hsFixed
	default:
		return false
	}
	n := int64(binary.LittleEndian.Uint32(h[0:4]))
	if n < min || n > maxPayload || n > size-off-headerSize {
		return false
	}
	lt := [5]byte{h[0], h[1], h[2], h[3], h[8]}
	return recordCRC(lt[:], data[off+headerSize:off+headerSize+n]) == binary.LittleEndian.Uint32(h[4:8])
}

// validRecordFollows looks for a valid record starting anywhere after the
// bad one at off. An append cut short is the last thing in its file, so a
// valid record after the damage proves the damage is not a torn tail.
func validRecordFollows(data []byte, off int64) (int64, bool) {
	for p := off + 1; p+headerSize <= int64(len(data)); p++ {
		if validRecordAt(data, p) {
			return p, true
		}
	}
	return 0, false
}

// looksInterrupted reports whether the bytes from the bad record at off to
// the end of the file are what an append cut short leaves: the file ends
// inside the record, or the record's bytes in the file's last sector (from
// the later of off and that sector's start) are zeros, space the file system
// extended but the disk never wrote. When not, it says why: a flipped bit
// in a record that was written in full is damage, not a tear.
func looksInterrupted(data []byte, off int64) (string, bool) {
	size := int64(len(data))
	if size-off < headerSize {
		return "", true
	}
	n := int64(binary.LittleEndian.Uint32(data[off : off+4]))
	if off+headerSize+n > size {
		if completeWithDamagedLength(data, off) {
			return "the record is complete and only its length field is damaged", false
		}
		return "", true
	}
	from := max(off, (size-1)/sectorSize*sectorSize)
	if allZero(data[from:]) {
		return "", true
	}
	return fmt.Sprintf("the record was written in full (non-zero bytes up to the end of the file at %d)", size), false
}

// completeWithDamagedLength reports whether the record at off, the last in
// its file, checks out when its length field is taken to be the bytes that
// remain: its payload is all there and only the length field lies.
func completeWithDamagedLength(data []byte, off int64) bool {
	h := data[off : off+headerSize]
	rest := data[off+headerSize:]
	var lt [5]byte
	binary.LittleEndian.PutUint32(lt[0:4], uint32(len(rest)))
	lt[4] = h[8]
	return recordCRC(lt[:], rest) == binary.LittleEndian.Uint32(h[4:8])
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
