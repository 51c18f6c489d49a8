package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version is the release, set at build time with
// -ldflags "-X main.version=v1.2.3"; otherwise the module's version from the
// build information ("(devel)" for a build from a checkout).
var version = ""

// buildVersion is what `checker version` prints.
type buildVersion struct {
	Version  string `json:"version"`
	Commit   string `json:"commit,omitempty"`
	Time     string `json:"commit_time,omitempty"`
	Modified bool   `json:"modified,omitempty"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
}

func currentVersion() buildVersion {
	v := buildVersion{Version: version, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		if v.Version == "" {
			v.Version = "unknown"
		}
		return v
	}
	if v.Version == "" {
		v.Version = info.Main.Version
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

func (v buildVersion) String() string {
	s := "checker " + v.Version
	if v.Commit != "" {
		s += " (commit " + v.Commit
		if v.Modified {
			s += ", modified"
		}
		if v.Time != "" {
			s += ", " + v.Time
		}
		s += ")"
	}
	return s + ", " + v.Go + " " + v.Platform
}

func cmdVersion(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the version as a JSON object")
	printUsage := func(w io.Writer) {
		fmt.Fprintln(w, "Usage: checker version [--json]")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Prints the checker's version, the commit it was built from (when the build knew it),")
		fmt.Fprintln(w, "the Go version and the platform.")
		fmt.Fprintln(w)
		printDefaults(w, fs)
	}
	rest, err := parseFlags(fs, args)
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("unexpected argument %q", rest[0])
	}
	if err != nil {
		return flagError(err, "version", printUsage, stdout, stderr)
	}
	v := currentVersion()
	if *asJSON {
		return writeJSON(stdout, stderr, "version", v)
	}
	fmt.Fprintln(stdout, v)
	return 0
}

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
