package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/faultline/faultline/sut/runtime"
)

func cmdGC(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gc", flag.ContinueOnError)
	printUsage := func(w io.Writer) {
		fmt.Fprintln(w, "Usage: checker gc")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Removes every container and network labelled faultline=1 (unpausing first):")
		fmt.Fprintln(w, "what an abandoned campaign left behind. Prints what it removed.")
	}
	rest, err := parseFlags(fs, args)
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("unexpected argument %q", rest[0])
	}
	if err != nil {
		return flagError(err, "gc", printUsage, stdout, stderr)
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	removed, err := runtime.GC(ctx, log)
	for _, r := range removed {
		fmt.Fprintf(stdout, "removed %s\n", r)
	}
	if err != nil {
		fmt.Fprintf(stderr, "checker gc: %v\n", err)
		return exitCannotGo
	}
	if len(removed) == 0 {
		fmt.Fprintln(stdout, "nothing to remove")
	}
	return 0
}
