package raft

// This file is the contract between the core and the server that drives it
// (sut/server). Fields may be added; existing names and meanings stay.

// EntryType says what a log entry carries.
type EntryType uint8

const (
	// EntryNormal carries an opaque state-machine command.
	EntryNormal EntryType = iota
	// EntryNoOp is appended by every new leader at the start of its term.
	EntryNoOp
	// EntryConfig carries a whole Membership (see EncodeMembership); a server
	// uses the latest one in its log whether or not it is committed.
	EntryConfig
)

// Entry is one log entry.
type Entry struct {
	Term  uint64    `json:"term"`
	Index uint64    `json:"index"`
	Type  EntryType `json:"type"`
	Data  []byte    `json:"data,omitempty"`
}

// HardState is what must be durable before any message that depends on it is sent.
type HardState struct {
	Term   uint64 `json:"term"`
	Vote   string `json:"vote"`
	Commit uint64 `json:"commit"`
}

// IsEmpty reports whether hs is the zero value.
func (hs HardState) IsEmpty() bool { return hs == HardState{} }

// Membership is a cluster configuration. While Outgoing is non-empty the
// configuration is joint: C(old) = Outgoing, C(new) = Voters, and elections and
// commitment need a majority of each.
type Membership struct {
	Voters   []string          `json:"voters"`
	Outgoing []string          `json:"outgoing,omitempty"`
	Learners []string          `json:"learners,omitempty"`
	Addrs    map[string]string `json:"addrs"` // id -> host:port for every member
}

// Joint reports whether m is a joint configuration C(old,new).
func (m Membership) Joint() bool { return len(m.Outgoing) > 0 }

// SnapshotMeta identifies a snapshot: the last entry it covers and the
// configuration in force at that entry.
type SnapshotMeta struct {
	Index      uint64     `json:"index"`
	Term       uint64     `json:"term"`
	Membership Membership `json:"membership"`
}

// Snapshot is a state-machine image plus its metadata.
type Snapshot struct {
	Meta SnapshotMeta `json:"meta"`
	Data []byte       `json:"data"`
}

// Role is a node's role.
type Role uint8

const (
	Follower Role = iota
	Candidate
	Leader
	Learner
)

func (r Role) String() string {
	switch r {
	case Follower:
		return "follower"
	case Candidate:
		return "candidate"
	case Leader:
		return "leader"
	case Learner:
		return "learner"
	}
	return "unknown"
}

// MessageType names a Raft RPC or its response.
type MessageType uint8

const (
	MsgVote MessageType = iota + 1
	MsgVoteResp
	MsgApp
	MsgAppResp
	MsgHeartbeat
	MsgHeartbeatResp
	MsgSnap     // one chunk of InstallSnapshot
	MsgSnapResp // acknowledges a chunk
)

// Message is the one envelope for every RPC between peers. It is plain data so
// the transport can encode it (JSON or gob) without knowing its meaning.
type Message struct {
	Type    MessageType `json:"type"`
	From    string      `json:"from"`
	To      string      `json:"to"`
	Term    uint64      `json:"term"`
	LogTerm uint64      `json:"log_term,omitempty"` // prevLogTerm, or the candidate's last log term
	Index   uint64      `json:"index,omitempty"`    // prevLogIndex, candidate's last index, or the acked index
	Entries []Entry     `json:"entries,omitempty"`
	Commit  uint64      `json:"commit,omitempty"`
	Reject  bool        `json:"reject,omitempty"`
	// RejectHint lets a leader back off fast on a conflict.
	RejectHint uint64 `json:"reject_hint,omitempty"`
	// Context carries the ReadIndex round a heartbeat belongs to.
	Context uint64 `json:"context,omitempty"`
	// Snapshot chunk fields (MsgSnap): the metadata, the byte offset of Data in
	// the whole image, and whether this is the last chunk.
	SnapMeta *SnapshotMeta `json:"snap_meta,omitempty"`
	Offset   uint64        `json:"offset,omitempty"`
	Data     []byte        `json:"data,omitempty"`
	Done     bool          `json:"done,omitempty"`
}

// ReadState releases a linearizable read: once the server has applied up to
// Index it may answer the read identified by RequestCtx.
type ReadState struct {
	Index      uint64
	RequestCtx uint64
}

// SoftState is volatile state the server reports (status, logs, redirects).
type SoftState struct {
	Lead string
	Role Role
}

// Ready is one batch of work for the server. The server must, in order:
//  1. persist Snapshot (if any), Entries and HardState with one fsync when MustSync,
//  2. send Messages,
//  3. apply CommittedEntries (and install Snapshot into the state machine),
//  4. answer reads in ReadStates once applied >= Index,
//  5. call Advance(rd).
type Ready struct {
	SoftState        *SoftState // nil when unchanged
	HardState        HardState  // zero when unchanged
	Entries          []Entry    // append; entries at or after Entries[0].Index that are stored get replaced
	Snapshot         *Snapshot  // a snapshot received from the leader, to persist and install
	CommittedEntries []Entry
	Messages         []Message
	ReadStates       []ReadState
	// DroppedReads are read contexts that can no longer be served (leadership
	// lost, not leader): the server answers them with a definite failure.
	DroppedReads []uint64
	MustSync     bool
}

// ReadMode selects how linearizable reads are confirmed.
type ReadMode uint8

const (
	// ReadIndex: record commit index, confirm leadership with a heartbeat round
	// acknowledged by a majority, then release once applied.
	ReadIndex ReadMode = iota
	// ReadLease: serve without a round while the leader lease holds.
	ReadLease
	// ReadLog: the server sends reads through the log as ordinary entries; the core never sees them as reads.
	ReadLog
)
