package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/faultline/faultline/sut/raft"
)

// The vote file keeps a second copy of the term and the vote, outside the
// log. A log whose tail is lost (a torn tail truncated on restart, or damage
// that looks like one) would otherwise take the node back to an older term
// and vote, and let it vote twice in one term (Alagappan et al., FAST '18).
// It changes only with the term or the vote, so elections pay for it and
// ordinary writes do not. It is written atomically (a temporary file, fsync,
// rename, directory fsync) and is never torn: any damage to it stops Open.
//
//	magic "FLVOTE01" | term uint64 LE | vote length uint16 LE | vote |
//	crc uint32 LE (CRC-32C of everything before it)
const voteName = "vote"

var voteMagic = []byte("FLVOTE01")

func encodeVote(term uint64, vote string) []byte {
	b := append([]byte(nil), voteMagic...)
	b = binary.LittleEndian.AppendUint64(b, term)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(vote)))
	b = append(b, vote...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// readVote loads the vote file; ok is false when there is none.
func readVote(path string) (term uint64, vote string, ok bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, "", false, nil
	}
	if err != nil {
		return 0, "", false, fmt.Errorf("wal: reading %s: %w", path, err)
	}
	bad := func(reason string) error { return &CorruptError{File: path, Offset: -1, Reason: reason} }
	const fixed = 8 + 8 + 2 + 4
	if len(b) < fixed || !bytes.Equal(b[:8], voteMagic) {
		return 0, "", false, bad("not a vote file (bad magic or shorter than its header)")
	}
	n := int(binary.LittleEndian.Uint16(b[16:18]))
	if len(b) != fixed+n {
		return 0, "", false, bad(fmt.Sprintf("size %d does not match its %d-byte vote", len(b), n))
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if got := crc32.Checksum(body, castagnoli); got != sum {
		return 0, "", false, bad(fmt.Sprintf("crc mismatch (stored %08x, computed %08x)", sum, got))
	}
	return binary.LittleEndian.Uint64(b[8:16]), string(b[18 : 18+n]), true, nil
}

// applyVoteFile lifts the replayed hard state to the vote file's term and
// vote when the log lost them. A vote file that contradicts the log (another
// vote in the same term) is damage.
func (w *WAL) applyVoteFile() error {
	path := filepath.Join(w.dir, voteName)
	term, vote, ok, err := readVote(path)
	if err != nil || !ok {
		return err
	}
	switch {
	case term > w.hs.Term:
		w.logger.Warn("the log lost the latest term and vote; taking them from the vote file",
			"log_term", w.hs.Term, "log_vote", w.hs.Vote, "term", term, "vote", vote)
		w.hs.Term, w.hs.Vote = term, vote
	case term == w.hs.Term && w.hs.Vote == "" && vote != "":
		w.logger.Warn("the log lost the vote of the current term; taking it from the vote file", "term", term, "vote", vote)
		w.hs.Vote = vote
	case term == w.hs.Term && vote != "" && vote != w.hs.Vote:
		return &CorruptError{File: path, Offset: -1,
			Reason: fmt.Sprintf("holds a vote for %q in term %d, the log a vote for %q", vote, term, w.hs.Vote)}
	}
	w.voteTerm, w.vote = term, vote
	return nil
}

// saveVote makes the vote file hold hs's term and vote when they changed.
func (w *WAL) saveVote(hs raft.HardState) error {
	if hs.Term == w.voteTerm && hs.Vote == w.vote {
		return nil
	}
	if err := w.writeFileAtomic(voteName, encodeVote(hs.Term, hs.Vote)); err != nil {
		return err
	}
	w.voteTerm, w.vote = hs.Term, hs.Vote
	return nil
}
