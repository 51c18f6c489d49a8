package raft

import "fmt"

var messageTypeNames = map[MessageType]string{
	MsgVote:          "MsgVote",
	MsgVoteResp:      "MsgVoteResp",
	MsgApp:           "MsgApp",
	MsgAppResp:       "MsgAppResp",
	MsgHeartbeat:     "MsgHeartbeat",
	MsgHeartbeatResp: "MsgHeartbeatResp",
	MsgSnap:          "MsgSnap",
	MsgSnapResp:      "MsgSnapResp",
}

// String names the message type for logs and errors.
func (t MessageType) String() string {
	if s, ok := messageTypeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("MessageType(%d)", uint8(t))
}

var entryTypeNames = map[EntryType]string{EntryNormal: "normal", EntryNoOp: "no-op", EntryConfig: "config"}

// String names the entry type for logs and errors.
func (t EntryType) String() string {
	if s, ok := entryTypeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("EntryType(%d)", uint8(t))
}
