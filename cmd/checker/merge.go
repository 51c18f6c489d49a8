package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/faultline/faultline/campaign"
	"github.com/faultline/faultline/campaign/sweep"
)

func mergeUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: checker merge [--store DIR] SHARD_STORE|SWEEP_DIR...")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Puts the shards of a sweep (`checker sweep --shard i/N`, one store each, or their")
	fmt.Fprintln(w, "sweep directories) back together: every run directory is copied into --store, and one")
	fmt.Fprintln(w, "matrix of the whole sweep, judged over every seed, is printed and written to")
	fmt.Fprintln(w, "store/sweeps/<timestamp>/ (sweep.json, index.html, junit.xml; store/sweeps/latest).")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Exit: 0 every control valid and every safety bug detected at least once; 1 a false")
	fmt.Fprintln(w, "positive, a bug missed in every seed, or a campaign no shard ran; 3 the shards could not")
	fmt.Fprintln(w, "be read or are not slices of one sweep.")
	fmt.Fprintln(w)
	var store string
	printDefaults(w, mergeFlags(&store))
}

func mergeFlags(store *string) *flag.FlagSet {
	fs := flag.NewFlagSet("merge", flag.ContinueOnError)
	fs.StringVar(store, "store", campaign.DefaultStore, "store `directory` the merged sweep and its runs go to")
	return fs
}

func cmdMerge(_ context.Context, args []string, stdout, stderr io.Writer) int {
	var store string
	sources, err := parseFlags(mergeFlags(&store), args)
	if err == nil && len(sources) == 0 {
		err = fmt.Errorf("name at least one shard store or sweep directory")
	}
	if err != nil {
		return flagError(err, "merge", mergeUsage, stdout, stderr)
	}
	s, err := sweep.Merge(sources, store)
	if err != nil {
		fmt.Fprintf(stderr, "checker merge: %v\n", err)
		if s == nil {
			return exitCannotGo
		}
	}
	if err := sweep.WriteTable(stdout, s.Matrix); err != nil {
		fmt.Fprintf(stderr, "checker merge: %v\n", err)
	}
	fmt.Fprintf(stdout, "sweep page: %s\n", filepath.Join(s.Dir, sweep.PageFile))
	fmt.Fprintf(stdout, "junit: %s\n", filepath.Join(s.Dir, sweep.JUnitFile))
	writeStoreIndex(store, stderr)
	return s.Matrix.ExitCode()
}
