package bench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTable prints the results side by side, one row per phase (op and
// client count), one group of columns per figure with a column per system,
// and, with two or more systems, the throughput ratio of the first to the
// second. Every result must have run the same phases.
func WriteTable(w io.Writer, results []Result) error {
	if len(results) == 0 {
		return fmt.Errorf("no results to print")
	}
	for _, r := range results[1:] {
		if len(r.Phases) != len(results[0].Phases) {
			return fmt.Errorf("%s ran %d phases, %s %d", r.System, len(r.Phases), results[0].System, len(results[0].Phases))
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join(header(results), "\t")+"\t")
	for i, p := range results[0].Phases {
		row := []string{string(p.Op), fmt.Sprint(p.Clients)}
		row = append(row, column(results, i, func(p Phase) string { return fmt.Sprintf("%.0f", p.PerSecond) })...)
		if len(results) > 1 {
			row = append(row, ratio(results[0].Phases[i].PerSecond, results[1].Phases[i].PerSecond))
		}
		row = append(row, column(results, i, func(p Phase) string { return ms(p.P50) })...)
		row = append(row, column(results, i, func(p Phase) string { return ms(p.P99) })...)
		row = append(row, column(results, i, func(p Phase) string { return us(p.ServerCPUPerOp) })...)
		row = append(row, column(results, i, func(p Phase) string { return fmt.Sprint(p.Errors) })...)
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range results {
		for _, p := range r.Phases {
			if p.Errors > 0 {
				fmt.Fprintf(w, "%s %s with %d clients: %d errors, the first: %s\n", r.System, p.Op, p.Clients, p.Errors, p.FirstError)
			}
		}
	}
	return nil
}

func header(results []Result) []string {
	h := []string{"op", "clients"}
	group := func(figure string) {
		for _, r := range results {
			h = append(h, r.System+" "+figure)
		}
	}
	group("ops/s")
	if len(results) > 1 {
		h = append(h, results[0].System+"/"+results[1].System)
	}
	group("p50")
	group("p99")
	group("cpu/op")
	group("errors")
	return h
}

func column(results []Result, phase int, f func(Phase) string) []string {
	out := make([]string, len(results))
	for i, r := range results {
		out[i] = f(r.Phases[phase])
	}
	return out
}

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

func ms(m Millis) string { return fmt.Sprintf("%.2fms", float64(m)/float64(time.Millisecond)) }
func us(m Millis) string { return fmt.Sprintf("%.0fµs", float64(m)/float64(time.Microsecond)) }
