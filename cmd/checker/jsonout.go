package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/faultline/faultline/campaign/sweep"
	"github.com/faultline/faultline/sut/bugs"
)

// writeJSON prints v as indented JSON (the --json output of a command).
func writeJSON(stdout, stderr io.Writer, cmd string, v any) int {
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(stderr, "checker %s: %v\n", cmd, err)
		return exitCannotGo
	}
	return 0
}

// bugJSON is one bug of `checker bugs --json`: the catalogue entry and the
// `checker run` line of its exposure.
type bugJSON struct {
	Name       string `json:"name"`
	Kind       string `json:"kind"` // safety or liveness
	What       string `json:"what"`
	ExposedBy  string `json:"exposed_by"`
	ClientSees string `json:"client_sees"`
	Nemesis    string `json:"nemesis"`
	Workload   string `json:"workload"`
	ReadMode   string `json:"read_mode,omitempty"`
	Try        string `json:"try"`
}

func bugsJSON() []bugJSON {
	out := make([]bugJSON, len(bugs.Catalogue))
	for i, b := range bugs.Catalogue {
		kind := "safety"
		if b.Liveness {
			kind = "liveness"
		}
		e := sweep.Exposures[b.Name]
		out[i] = bugJSON{Name: b.Name, Kind: kind, What: b.What, ExposedBy: b.Exposed, ClientSees: b.ClientSees,
			Nemesis: e.Nemesis, Workload: e.Workload, ReadMode: e.ReadMode, Try: exposureCommand(b)}
	}
	return out
}
