package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/faultline/faultline/sut/raft"
)

// recordType says what a record's payload holds.
type recordType uint8

const (
	recEntry     recordType = 1 // term u64 | index u64 | entry type u8 | data
	recHardState recordType = 2 // term u64 | commit u64 | vote (rest)
)

const (
	// headerSize is length (4) + crc (4) + type (1).
	headerSize = 9
	// maxPayload bounds a record so a damaged length field cannot make
	// recovery allocate or skip gigabytes.
	maxPayload = 64 << 20
	entryFixed = 17 // term + index + type
	hsFixed    = 16 // term + commit
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// recordCRC covers the length field, the type and the payload, so a flipped
// length is caught as surely as a flipped payload byte.
func recordCRC(lengthAndType []byte, payload []byte) uint32 {
	c := crc32.Update(0, castagnoli, lengthAndType)
	return crc32.Update(c, castagnoli, payload)
}

// appendRecord frames payload as one record of type t at the end of buf.
func appendRecord(buf []byte, t recordType, payload []byte) []byte {
	var hdr [headerSize]byte
	binary.LittleEndian.PutUint32(hdr[0:4], uint32(len(payload)))
	hdr[8] = byte(t)
	lt := [5]byte{hdr[0], hdr[1], hdr[2], hdr[3], hdr[8]}
	binary.LittleEndian.PutUint32(hdr[4:8], recordCRC(lt[:], payload))
	buf = append(buf, hdr[:]...)
	return append(buf, payload...)
}

// appendEntryRecord appends e as an entry record, encoding the payload in
// place to avoid a copy per entry.
func appendEntryRecord(buf []byte, e raft.Entry) []byte {
	n := entryFixed + len(e.Data)
	start := len(buf)
	buf = append(buf, make([]byte, headerSize+n)...)
	p := buf[start+headerSize:]
	binary.LittleEndian.PutUint64(p[0:8], e.Term)
	binary.LittleEndian.PutUint64(p[8:16], e.Index)
	p[16] = byte(e.Type)
	copy(p[17:], e.Data)
	hdr := buf[start : start+headerSize]
	binary.LittleEndian.PutUint32(hdr[0:4], uint32(n))
	hdr[8] = byte(recEntry)
	lt := [5]byte{hdr[0], hdr[1], hdr[2], hdr[3], hdr[8]}
	binary.LittleEndian.PutUint32(hdr[4:8], recordCRC(lt[:], p))
	return buf
}

func appendHardStateRecord(buf []byte, hs raft.HardState) []byte {
	p := make([]byte, hsFixed+len(hs.Vote))
	binary.LittleEndian.PutUint64(p[0:8], hs.Term)
	binary.LittleEndian.PutUint64(p[8:16], hs.Commit)
	copy(p[16:], hs.Vote)
	return appendRecord(buf, recHardState, p)
}

func decodeEntry(p []byte) (raft.Entry, error) {
	if len(p) < entryFixed {
		return raft.Entry{}, fmt.Errorf("entry payload of %d bytes, need at least %d", len(p), entryFixed)
	}
	e := raft.Entry{
		Term:  binary.LittleEndian.Uint64(p[0:8]),
		Index: binary.LittleEndian.Uint64(p[8:16]),
		Type:  raft.EntryType(p[16]),
	}
	if len(p) > entryFixed {
		e.Data = append([]byte(nil), p[entryFixed:]...)
	}
	if e.Index == 0 {
		return raft.Entry{}, errors.New("entry with index 0")
	}
	return e, nil
}

func decodeHardState(p []byte) (raft.HardState, error) {
	if len(p) < hsFixed {
		return raft.HardState{}, fmt.Errorf("hard state payload of %d bytes, need at least %d", len(p), hsFixed)
	}
	return raft.HardState{
		Term:   binary.LittleEndian.Uint64(p[0:8]),
		Commit: binary.LittleEndian.Uint64(p[8:16]),
		Vote:   string(p[16:]),
	}, nil
}
