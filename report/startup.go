package report

import (
	"encoding/json"
	"fmt"
)

// startupView is one node's start-up after the corrupt nemesis damaged its
// data directory: what was damaged and whether the node refused to start or
// recovered (from the fault's end event).
type startupView struct {
	At, Node, Damage, Outcome, Reason string
}

// startupRows lists the start-up outcome of every corrupt fault, in order.
func startupRows(h *History) []startupView {
	var out []startupView
	for _, f := range h.Faults {
		if f.Kind != "corrupt" || f.EndDetail == "" {
			continue
		}
		var v struct {
			Mode    string   `json:"mode"`
			Nodes   []string `json:"nodes"`
			File    string   `json:"file"`
			Offset  int64    `json:"offset"`
			Length  int64    `json:"length"`
			Outcome string   `json:"outcome"`
			Error   string   `json:"error"`
		}
		if json.Unmarshal([]byte(f.EndDetail), &v) != nil || len(v.Nodes) == 0 {
			continue
		}
		row := startupView{At: secs(f.Start), Node: v.Nodes[0], Outcome: v.Outcome, Reason: v.Error,
			Damage: fmt.Sprintf("%s: %s at byte %d (%d)", v.Mode, v.File, v.Offset, v.Length)}
		if row.Outcome == "" {
			row.Outcome = "not started (the fault failed before the restart)"
		}
		out = append(out, row)
	}
	return out
}
