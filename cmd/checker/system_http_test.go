package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faultline/faultline/campaign"
	"github.com/faultline/faultline/store"
)

// TestHTTPSystemPrimaryBackupIsCaught drives a server that is not raftd —
// the primary-backup store in sut/system/testdata/pbserver, with
// asynchronous replication, reads served by backups and promotion on
// silence — through --system http and the documented protocol. Faultline
// must find its stale reads and the commits it loses in a failover.
func TestHTTPSystemPrimaryBackupIsCaught(t *testing.T) {
	if testing.Short() {
		t.Skip("http system campaign: skipped with -short")
	}
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "pbserver")
	build := exec.Command("go", "build", "-o", bin, "./sut/system/testdata/pbserver")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build pbserver: %v\n%s", err, out)
	}
	storeDir := filepath.Join(dir, "store")
	args := []string{"run", "--system", "http", "--system-binary", bin,
		"--system-args", "--id {id} --listen {listen} --peers {peers} --data {data}",
		"--system-capabilities", "status",
		"--runtime", "process", "--nodes", "3", "--duration", "15s", "--workload", "append",
		"--nemesis", "partition", "--interval", "2s", "--concurrency", "6", "--keys", "4",
		"--seed", "3", "--store", storeDir}
	code, out, errOut := runCLI(t, args...)
	t.Logf("checker %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), tail(out, 3000), tail(errOut, 2000))
	if code != exitInvalid {
		t.Fatalf("exit %d, want %d (invalid)", code, exitInvalid)
	}
	run := filepath.Join(storeDir, store.LatestLink)
	b, err := os.ReadFile(filepath.Join(run, store.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Counts map[string]int `json:"anomaly_counts"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"stale-read", "lost-commit"} {
		if res.Counts[kind] == 0 {
			t.Errorf("no %s found (counts %v)", kind, res.Counts)
		}
	}
	m, err := campaign.LoadOptions(run)
	if err != nil {
		t.Fatal(err)
	}
	if m.System != "http" || m.SystemBinary != bin || m.SystemCapabilities != "status" {
		t.Errorf("--replay would lose the system: %+v", m)
	}
}
