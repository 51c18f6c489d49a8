package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// parseFlags parses args with fs, allowing flags after positional arguments
// (`checker check RUN_DIR --workload set`). It returns the positionals.
// Parse errors come back as errors naming the flag; -h as flag.ErrHelp.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if rest[0] == "--" {
			return append(positional, rest[1:]...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// flagError prints a parse error (or the usage for -h) and returns the exit
// code: 0 for -h, 3 for a bad flag.
// parseFlagsOnly is parseFlags for a command that takes no positional
// argument: one is an error naming it.
func parseFlagsOnly(fs *flag.FlagSet, args []string) error {
	rest, err := parseFlags(fs, args)
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("unexpected argument %q (flags only)", rest[0])
	}
	return err
}

func flagError(err error, cmd string, printUsage func(io.Writer), stdout, stderr io.Writer) int {
	if errors.Is(err, flag.ErrHelp) {
		printUsage(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "checker %s: %v\nRun `checker %s -h` for usage.\n", cmd, err, cmd)
	return exitCannotGo
}

// printDefaults prints the flags of fs in the `--name value  usage` style.
func printDefaults(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if name != "" {
			line += " " + name
		}
		fmt.Fprintln(w, line)
		usage = strings.ReplaceAll(usage, "\n", "\n    \t")
		fmt.Fprintf(w, "    \t%s", usage)
		if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "[]" && f.DefValue != "false" {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
}

// stringList is a repeatable flag. A fresh parse replaces the list it was
// seeded with (so --replay's recorded bugs give way to --bug on the command
// line) instead of appending to it.
type stringList struct {
	list  *[]string
	fresh bool
}

func (s *stringList) String() string {
	if s == nil || s.list == nil {
		return ""
	}
	return strings.Join(*s.list, ",")
}

func (s *stringList) Set(v string) error {
	if !s.fresh {
		*s.list = nil
		s.fresh = true
	}
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*s.list = append(*s.list, part)
		}
	}
	return nil
}
