package server

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/faultline/faultline/sut/raft"
)

// The peer wire format: a stream of frames, each a uvarint length followed by
// one encoded raft.Message. A message is a version byte, then its fields in a
// fixed order as uvarints and length-prefixed byte strings. A compact binary
// form matters because every replicated entry crosses the wire at least twice
// per follower; membership inside snapshot metadata is rare and stays JSON.

const (
	codecVersion = 1
	// maxFrameSize bounds one message so a corrupt length cannot make the
	// receiver allocate without limit (snapshot chunks are far smaller).
	maxFrameSize = 64 << 20

	flagReject   = 1 << 0
	flagDone     = 1 << 1
	flagSnapMeta = 1 << 2
)

// appendMessage appends m, framed, to buf.
func appendMessage(buf []byte, m *raft.Message) ([]byte, error) {
	body := make([]byte, 0, 64+messageDataSize(m))
	body = append(body, codecVersion, byte(m.Type))
	body = appendString(body, m.From)
	body = appendString(body, m.To)
	for _, v := range []uint64{m.Term, m.LogTerm, m.Index, m.Commit, m.RejectHint, m.Context, m.Offset} {
		body = binary.AppendUvarint(body, v)
	}
	var flags byte
	if m.Reject {
		flags |= flagReject
	}
	if m.Done {
		flags |= flagDone
	}
	if m.SnapMeta != nil {
		flags |= flagSnapMeta
	}
	body = append(body, flags)
	body = binary.AppendUvarint(body, uint64(len(m.Entries)))
	for i := range m.Entries {
		e := &m.Entries[i]
		body = binary.AppendUvarint(body, e.Term)
		body = binary.AppendUvarint(body, e.Index)
		body = append(body, byte(e.Type))
		body = appendBytes(body, e.Data)
	}
	if m.SnapMeta != nil {
		body = binary.AppendUvarint(body, m.SnapMeta.Index)
		body = binary.AppendUvarint(body, m.SnapMeta.Term)
		conf, err := json.Marshal(m.SnapMeta.Membership)
		if err != nil {
			return buf, fmt.Errorf("encode snapshot membership: %w", err)
		}
		body = appendBytes(body, conf)
	}
	body = appendBytes(body, m.Data)
	if len(body) > maxFrameSize {
		return buf, fmt.Errorf("message %v to %s is %d bytes, over the %d-byte frame limit", m.Type, m.To, len(body), maxFrameSize)
	}
	buf = binary.AppendUvarint(buf, uint64(len(body)))
	return append(buf, body...), nil
}

func messageDataSize(m *raft.Message) int {
	n := len(m.Data)
	for i := range m.Entries {
		n += len(m.Entries[i].Data) + 24
	}
	return n
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBytes(b []byte, p []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

// keepaliveFrame is an empty frame: a sender writes it on an idle link so
// the receiver can tell a quiet link from a dead one.
var keepaliveFrame = []byte{0}

// readMessage reads one framed message, skipping keepalive frames. It returns
// io.EOF only at a clean frame boundary.
func readMessage(r *bufio.Reader) (raft.Message, error) {
	var size uint64
	for size == 0 {
		var err error
		size, err = binary.ReadUvarint(r)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return raft.Message{}, io.EOF
			}
			return raft.Message{}, fmt.Errorf("read frame length: %w", err)
		}
	}
	if size > maxFrameSize {
		return raft.Message{}, fmt.Errorf("frame of %d bytes exceeds the %d-byte limit", size, maxFrameSize)
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(r, body); err != nil {
		return raft.Message{}, fmt.Errorf("read frame of %d bytes: %w", size, io.ErrUnexpectedEOF)
	}
	return decodeMessage(body)
}

// decoder walks one frame body; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("decode message: truncated or malformed %s", what)
	}
}

func (d *decoder) byte(what string) byte {
	if d.err != nil || len(d.b) < 1 {
		d.fail(what)
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) uvarint(what string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(what string) []byte {
	n := d.uvarint(what)
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail(what)
		return nil
	}
	if n == 0 {
		return nil
	}
	v := make([]byte, n)
	copy(v, d.b[:n])
	d.b = d.b[n:]
	return v
}

func decodeMessage(body []byte) (raft.Message, error) {
	d := &decoder{b: body}
	if v := d.byte("version"); d.err == nil && v != codecVersion {
		return raft.Message{}, fmt.Errorf("decode message: unknown wire version %d", v)
	}
	var m raft.Message
	m.Type = raft.MessageType(d.byte("type"))
	m.From = string(d.bytes("from"))
	m.To = string(d.bytes("to"))
	m.Term = d.uvarint("term")
	m.LogTerm = d.uvarint("log_term")
	m.Index = d.uvarint("index")
	m.Commit = d.uvarint("commit")
	m.RejectHint = d.uvarint("reject_hint")
	m.Context = d.uvarint("context")
	m.Offset = d.uvarint("offset")
	flags := d.byte("flags")
	m.Reject = flags&flagReject != 0
	m.Done = flags&flagDone != 0
	count := d.uvarint("entry count")
	if d.err == nil && count > uint64(len(d.b)) { // every entry takes at least one byte
		d.fail("entry count")
	}
	if d.err == nil && count > 0 {
		m.Entries = make([]raft.Entry, count)
		for i := range m.Entries {
			e := &m.Entries[i]
			e.Term = d.uvarint("entry term")
			e.Index = d.uvarint("entry index")
			e.Type = raft.EntryType(d.byte("entry type"))
			e.Data = d.bytes("entry data")
		}
	}
	if flags&flagSnapMeta != 0 {
		meta := &raft.SnapshotMeta{}
		meta.Index = d.uvarint("snapshot index")
		meta.Term = d.uvarint("snapshot term")
		conf := d.bytes("snapshot membership")
		if d.err == nil {
			if err := json.Unmarshal(conf, &meta.Membership); err != nil {
				return raft.Message{}, fmt.Errorf("decode message: snapshot membership: %w", err)
			}
		}
		m.SnapMeta = meta
	}
	m.Data = d.bytes("data")
	if d.err != nil {
		return raft.Message{}, d.err
	}
	if len(d.b) != 0 {
		return raft.Message{}, fmt.Errorf("decode message: %d trailing bytes", len(d.b))
	}
	return m, nil
}
