package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/faultline/faultline/campaign"
	"github.com/faultline/faultline/check"
)

// Values of --until.
const (
	untilInvalid = "invalid" // stop at the first invalid verdict
	untilFail    = "fail"    // stop at the first run that is not valid
)

// runExtras are `checker run` flags that are not campaign options: how
// often to repeat the campaign and how to print the outcome.
type runExtras struct {
	count  int
	until  string
	asJSON bool
}

func (e *runExtras) register(fs *flag.FlagSet) {
	fs.IntVar(&e.count, "count", 1, "run the campaign `N` times, each with a fresh seed (seed, seed+1, ... when --seed is given)")
	fs.StringVar(&e.until, "until", "", "with --count: stop at the first `invalid` verdict, or at the first run that is not valid (fail)")
	fs.BoolVar(&e.asJSON, "json", false, "print the outcome as JSON on stdout (the human summary goes to stderr)")
}

func (e *runExtras) validate() error {
	if e.count < 1 {
		return fmt.Errorf("--count must be at least 1, got %d", e.count)
	}
	switch e.until {
	case "", untilInvalid, untilFail:
	default:
		return fmt.Errorf("--until must be %s or %s, got %q", untilInvalid, untilFail, e.until)
	}
	return nil
}

// stops reports whether a run with this exit code ends a --count series.
func (e *runExtras) stops(code int) bool {
	switch e.until {
	case untilInvalid:
		return code == exitInvalid
	case untilFail:
		return code != exitValid
	}
	return false
}

// runOutcome is one run of `checker run --json`.
type runOutcome struct {
	Seed      int64          `json:"seed"`
	ExitCode  int            `json:"exit_code"`
	Verdict   string         `json:"verdict"` // valid, invalid, unknown or none
	Status    string         `json:"status,omitempty"`
	Error     string         `json:"error,omitempty"`
	RunDir    string         `json:"run_dir,omitempty"`
	Report    string         `json:"report,omitempty"`
	Reproduce string         `json:"reproduce,omitempty"`
	Anomalies map[string]int `json:"anomalies,omitempty"`
	Result    *check.Result  `json:"result,omitempty"`
}

// runSeries is the whole of `checker run --json`: every run, and the exit
// code of the series (the worst: invalid over unknown over could-not-run).
type runSeries struct {
	ExitCode int          `json:"exit_code"`
	Runs     []runOutcome `json:"runs"`
}

func outcomeOf(o campaign.Options, out *campaign.Outcome, err error) runOutcome {
	r := runOutcome{Seed: o.Seed, ExitCode: out.ExitCode(), Verdict: "none"}
	if err != nil {
		r.ExitCode, r.Error = exitCannotGo, err.Error()
	}
	if out == nil {
		return r
	}
	r.Status, r.RunDir, r.Reproduce = out.Manifest.Status, out.RunDir, out.Manifest.Reproduce
	if r.Error == "" {
		r.Error = out.Manifest.Error
	}
	if out.RunDir != "" {
		r.Report = out.ReportPath()
	}
	if out.Result != nil {
		r.Verdict, r.Result = out.Result.Valid.String(), out.Result
		r.Anomalies = map[string]int{}
		for _, a := range out.Result.Anomalies {
			r.Anomalies[a.Kind]++
		}
	}
	return r
}

// worseExit orders exit codes for a series: invalid, then unknown, then
// could not run, then valid.
func worseExit(a, b int) int {
	rank := func(c int) int {
		switch c {
		case exitInvalid:
			return 3
		case exitUnknown:
			return 2
		case exitCannotGo:
			return 1
		}
		return 0
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// runSeriesOf runs the campaign e.count times (once by default), each run
// with its own seed, stopping early as --until says or on Ctrl-C.
func runSeriesOf(ctx context.Context, o campaign.Options, e runExtras, display *display, stdout, stderr io.Writer) int {
	human := stdout
	if e.asJSON {
		human = stderr
	}
	first := o.Seed
	series := runSeries{Runs: []runOutcome{}}
	for i := 0; i < e.count; i++ {
		o.Seed = first + int64(i)
		if first == 0 {
			o.Seed = campaign.NewSeed()
		}
		if e.count > 1 {
			fmt.Fprintf(stderr, "run %d of %d\n", i+1, e.count)
		}
		fmt.Fprintf(stderr, "seed %d; reproduce with: %s\n", o.Seed, o.ReproduceCommand())
		out, err := campaign.Run(ctx, o, display)
		display.Finish()
		r := outcomeOf(o, out, err)
		if err != nil {
			fmt.Fprintf(stderr, "checker run: the campaign could not run: %v\n", err)
			if out != nil && out.RunDir != "" {
				fmt.Fprintf(stderr, "run directory: %s\n", out.RunDir)
			}
		} else {
			printOutcome(human, out)
		}
		writeStoreIndex(o.Store, stderr)
		series.Runs = append(series.Runs, r)
		series.ExitCode = worseExit(series.ExitCode, r.ExitCode)
		if e.stops(r.ExitCode) || ctx.Err() != nil {
			break
		}
	}
	if e.count > 1 {
		printSeries(human, series, e)
	}
	if e.asJSON {
		if code := writeJSON(stdout, stderr, "run", series); code != 0 {
			return code
		}
	}
	return series.ExitCode
}

func printSeries(w io.Writer, s runSeries, e runExtras) {
	counts := map[string]int{}
	for _, r := range s.Runs {
		counts[r.Verdict]++
	}
	fmt.Fprintf(w, "\nseries: %d of %d run(s): %d valid, %d invalid, %d unknown, %d without a verdict\n",
		len(s.Runs), e.count, counts["valid"], counts["invalid"], counts["unknown"], counts["none"])
	last := s.Runs[len(s.Runs)-1]
	if len(s.Runs) < e.count && e.stops(last.ExitCode) {
		fmt.Fprintf(w, "stopped at run %d (--until %s): %s\n", len(s.Runs), e.until, last.RunDir)
	}
}
