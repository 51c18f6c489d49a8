package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBashCompletionLoadsAndCompletes sources the script in a real bash and
// asks it for completions the way bash would (COMP_LINE and COMP_POINT).
func TestBashCompletionLoadsAndCompletes(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatalf("bash is needed to test the completion script: %v", err)
	}
	code, script, errOut := runCLI(t, "completion", "bash")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	path := filepath.Join(t.TempDir(), "checker.bash")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	probe := `set -e
source "$1"
complete -p checker
t() { COMP_LINE="$1"; COMP_POINT=${#1}; _checker; echo "[$1] ${COMPREPLY[*]}"; }
t "checker ru"
t "checker run --nemesis partition,clock:skew-is"
t "checker run --nemesis memb"
t "checker run --bug ack"
t "checker sweep --bugs no-dedup,stale"
t "checker run --sys"
t "checker run --system "
t "checker check --from j"
t "checker completion f"
`
	out, err := exec.Command(bash, "--norc", "--noprofile", "-c", probe, "probe", path).CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	want := []string{
		"complete -o default -F _checker checker",
		"[checker ru] run",
		// Bash replaces only what follows the last colon of the word.
		"[checker run --nemesis partition,clock:skew-is] skew-isolate-leader",
		"[checker run --nemesis memb] membership membership:add",
		"[checker run --bug ack] ack-before-commit",
		"[checker sweep --bugs no-dedup,stale] no-dedup,stale-local-read",
		"[checker run --sys] --system",
		"[checker run --system ] raftd",
		"[checker check --from j] jepsen",
		"[checker completion f] fish",
	}
	for _, w := range want {
		if !strings.Contains(string(out), w) {
			t.Errorf("bash completion lacks %q:\n%s", w, out)
		}
	}
}

func TestZshAndFishCompletion(t *testing.T) {
	code, zsh, _ := runCLI(t, "completion", "zsh")
	if code != 0 || !strings.HasPrefix(zsh, "#compdef checker") || !strings.Contains(zsh, "bashcompinit") || !strings.Contains(zsh, "slow:apply-isolate-leader") {
		t.Errorf("zsh script: exit %d\n%.400s", code, zsh)
	}
	code, fish, _ := runCLI(t, "completion", "fish")
	if code != 0 || !strings.Contains(fish, `complete -c checker -n "__fish_seen_subcommand_from run" -l nemesis`) ||
		!strings.Contains(fish, "no-dedup") || !strings.Contains(fish, "partition:isolate-leader") {
		t.Errorf("fish script: exit %d\n%.600s", code, fish)
	}
	if code, _, errOut := runCLI(t, "completion", "powershell"); code != exitCannotGo || !strings.Contains(errOut, "want one shell: bash, zsh, fish") {
		t.Errorf("unknown shell: exit %d %s", code, errOut)
	}
}
