package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/faultline/faultline/sut/bugs"
)

// printBugs lists the planted bugs, one line each.
func printBugs(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tWHAT IS WRONG\tEXPOSED BY\tCLIENT SEES")
	for _, b := range bugs.Catalogue {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", b.Name, b.What, b.Exposed, b.ClientSees)
	}
	tw.Flush()
}
