package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"

	"github.com/faultline/faultline/campaign"
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

// currentVersion reads the build through campaign.BuildVersions, the same
// reading campaign.json records, with -X main.version taking precedence.
func currentVersion() buildVersion {
	b := campaign.BuildVersions()
	v := buildVersion{Version: version, Commit: b.Revision, Time: b.Time, Modified: b.Modified,
		Go: b.Go, Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if v.Version == "" {
		v.Version = b.Version
	}
	if v.Version == "" {
		v.Version = "unknown"
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
	err := parseFlagsOnly(fs, args)
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
