package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/template"

	"github.com/faultline/faultline/interop"
	"github.com/faultline/faultline/nemesis"
	"github.com/faultline/faultline/sut/bugs"
	"github.com/faultline/faultline/sut/system"
)

// completionShells are the shells `checker completion` writes scripts for.
var completionShells = []string{"bash", "zsh", "fish"}

// completionSpec is what a completion script knows: each command's flags
// (read from the command's own usage, so a new flag completes at once) and
// the values of the flags that take names.
type completionSpec struct {
	Commands []completionCommand
	Values   []completionValues
	// FileFlags take a path (files or directories).
	FileFlags []string
}

type completionCommand struct {
	Name  string
	Flags []string // without the leading --
}

type completionValues struct {
	Flag   string
	Values []string
	// List marks flags that take comma lists (complete after the last comma).
	List bool
}

// flagValues lists the completions of the flags that take names.
func flagValues() []completionValues {
	var faults []string
	for _, k := range nemesis.AllKinds {
		faults = append(faults, string(k))
		for _, m := range nemesis.KindModes(k) {
			faults = append(faults, string(k)+":"+m)
		}
	}
	shells := completionShells
	return []completionValues{
		{Flag: "nemesis", Values: append([]string{"all", "none"}, faults...), List: true},
		{Flag: "bug", Values: bugs.Names(), List: true},
		{Flag: "bugs", Values: append([]string{"all"}, bugs.Names()...), List: true},
		{Flag: "system", Values: system.Names},
		{Flag: "workload", Values: []string{"register", "set", "append"}},
		{Flag: "runtime", Values: []string{"auto", "docker", "process"}},
		{Flag: "read-mode", Values: []string{"readindex", "lease", "log"}},
		{Flag: "read", Values: []string{"local"}},
		{Flag: "from", Values: interop.Formats},
		{Flag: "to", Values: interop.Formats},
		{Flag: "log-format", Values: []string{"text", "json"}},
		{Flag: "shell", Values: shells},
	}
}

// buildCompletionSpec reads every command's flags from its -h output.
func buildCompletionSpec() completionSpec {
	spec := completionSpec{Values: flagValues(),
		FileFlags: []string{"store", "replay", "report", "out", "system-binary"}}
	for _, c := range commands() {
		var buf bytes.Buffer
		c.run(context.Background(), []string{"-h"}, &buf, &buf)
		cc := completionCommand{Name: c.name, Flags: []string{"log-format"}}
		for _, line := range strings.Split(buf.String(), "\n") {
			if name, ok := strings.CutPrefix(line, "  --"); ok {
				name, _, _ = strings.Cut(name, " ")
				if !slices.Contains(cc.Flags, name) {
					cc.Flags = append(cc.Flags, name)
				}
			}
		}
		spec.Commands = append(spec.Commands, cc)
	}
	return spec
}

func completionUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: checker completion bash|zsh|fish")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Prints a shell completion script: commands, their flags, fault kinds and modes")
	fmt.Fprintln(w, "(--nemesis partition:isolate-leader), bug names, systems, workloads, runtimes.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "  bash:  source <(checker completion bash)     (or save it in /etc/bash_completion.d/checker)")
	fmt.Fprintln(w, "  zsh:   source <(checker completion zsh)")
	fmt.Fprintln(w, "  fish:  checker completion fish > ~/.config/fish/completions/checker.fish")
}

func cmdCompletion(_ context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		completionUsage(stdout)
		return 0
	}
	if len(args) != 1 || !slices.Contains(completionShells, args[0]) {
		return flagError(fmt.Errorf("want one shell: %s", strings.Join(completionShells, ", ")), "completion", completionUsage, stdout, stderr)
	}
	tmpl := map[string]*template.Template{"bash": bashCompletion, "zsh": zshCompletion, "fish": fishCompletion}[args[0]]
	if err := tmpl.Execute(stdout, buildCompletionSpec()); err != nil {
		fmt.Fprintf(stderr, "checker completion: %v\n", err)
		return exitCannotGo
	}
	return 0
}

var completionFuncs = template.FuncMap{
	"join": strings.Join,
	"commandNames": func(cs []completionCommand) string {
		names := make([]string, len(cs))
		for i, c := range cs {
			names[i] = c.Name
		}
		return strings.Join(append(names, "help"), " ")
	},
	"flags": func(flags []string) string {
		out := make([]string, len(flags))
		for i, f := range flags {
			out[i] = "--" + f
		}
		return strings.Join(out, " ")
	},
}

// bashCompletion completes the command, then its flags, then the value of
// the flag before the cursor (after the last comma for list flags).
var bashCompletion = template.Must(template.New("bash").Funcs(completionFuncs).Parse(
	"# bash completion for checker (Faultline): source <(checker completion bash)\n" + bashFunction))

const bashFunction = `# The words are read from COMP_LINE, not COMP_WORDS, so that values with a
# colon (--nemesis partition:isolate-leader) stay one word whatever
# COMP_WORDBREAKS says.
_checker_candidates() {
    local cur="$1" prev="$2" cmd="$3" nwords="$4"
    if [ "$nwords" -le 1 ]; then
        COMPREPLY=($(compgen -W "{{commandNames .Commands}}" -- "$cur"))
        return 0
    fi
    case "$cmd" in
    completion) COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur")); return 0;;
    help) COMPREPLY=($(compgen -W "{{commandNames .Commands}}" -- "$cur")); return 0;;
    esac
    case "$prev" in
{{- range .Values}}
    --{{.Flag}}|-{{.Flag}})
{{- if .List}}
        local head=""
        case "$cur" in *,*) head="${cur%,*},";; esac
        COMPREPLY=($(compgen -P "$head" -W "{{join .Values " "}}" -- "${cur##*,}"))
{{- else}}
        COMPREPLY=($(compgen -W "{{join .Values " "}}" -- "$cur"))
{{- end}}
        return 0;;
{{- end}}
{{- range .FileFlags}}
    --{{.}}|-{{.}})
        COMPREPLY=($(compgen -f -- "$cur"))
        return 0;;
{{- end}}
    esac
    case "$cmd" in
{{- range .Commands}}
    {{.Name}}) COMPREPLY=($(compgen -W "{{flags .Flags}}" -- "$cur"));;
{{- end}}
    esac
    if [[ "$cur" != -* ]]; then
        COMPREPLY+=($(compgen -f -- "$cur"))
    fi
}
_checker() {
    local line="${COMP_LINE:0:COMP_POINT}"
    local cur="${line##*[[:space:]]}"
    local -a words
    read -r -a words <<< "${line%"$cur"}"
    COMPREPLY=()
    _checker_candidates "$cur" "${words[${#words[@]}-1]}" "${words[1]}" "${#words[@]}"
    # Bash replaces only the part of the word after the last break
    # character: drop what comes before it from every candidate.
    if [[ "$cur" == *:* && "$COMP_WORDBREAKS" == *:* ]]; then
        local colon="${cur%"${cur##*:}"}" i
        for i in "${!COMPREPLY[@]}"; do COMPREPLY[$i]="${COMPREPLY[$i]#"$colon"}"; done
    fi
    return 0
}
complete -o default -F _checker checker
`

// zshCompletion reuses the bash function through zsh's bashcompinit, which
// every zsh ships.
var zshCompletion = template.Must(template.New("zsh").Funcs(completionFuncs).Parse(`#compdef checker
# zsh completion for checker (Faultline): source <(checker completion zsh)
autoload -U +X bashcompinit && bashcompinit
` + bashFunction))

var fishCompletion = template.Must(template.New("fish").Funcs(completionFuncs).Parse(`# fish completion for checker (Faultline): checker completion fish > ~/.config/fish/completions/checker.fish
complete -c checker -f
complete -c checker -n __fish_use_subcommand -a "{{commandNames .Commands}}"
complete -c checker -n "__fish_seen_subcommand_from completion" -a "bash zsh fish"
{{- range $c := .Commands}}
{{- range $c.Flags}}
complete -c checker -n "__fish_seen_subcommand_from {{$c.Name}}" -l {{.}}
{{- end}}
{{- end}}
{{- range .Values}}
complete -c checker -l {{.Flag}} -x -a "{{join .Values " "}}"
{{- end}}
{{- range .FileFlags}}
complete -c checker -l {{.}} -r -F
{{- end}}
`))
