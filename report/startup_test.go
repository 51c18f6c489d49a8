package report

import (
	"strings"
	"testing"
)

func TestStartupRowsFromCorruptEvents(t *testing.T) {
	h := &History{Faults: []Fault{
		{Kind: "kill", Start: 1e9, End: 2e9, Healed: true, EndDetail: `{"mode":"one","nodes":["n2"]}`},
		{Kind: "corrupt", Start: 3e9, End: 4e9, Healed: true,
			EndDetail: `{"mode":"zero-sector","nodes":["n1"],"file":"wal-1.log","offset":512,"length":512,"outcome":"refused","error":"wal: corrupt record"}`},
		{Kind: "corrupt", Start: 5e9, End: 6e9, Healed: true,
			EndDetail: `{"mode":"truncate","nodes":["n3"],"file":"wal-1.log","offset":100,"length":40,"outcome":"recovered"}`},
		{Kind: "corrupt", Start: 7e9, End: -1},
	}}
	rows := startupRows(h)
	if len(rows) != 2 {
		t.Fatalf("rows %+v, want the two ended corrupt faults", rows)
	}
	if rows[0].Node != "n1" || rows[0].Outcome != "refused" || rows[0].Reason != "wal: corrupt record" || !strings.Contains(rows[0].Damage, "zero-sector: wal-1.log at byte 512") {
		t.Errorf("first row %+v", rows[0])
	}
	if rows[1].Node != "n3" || rows[1].Outcome != "recovered" {
		t.Errorf("second row %+v", rows[1])
	}
}
