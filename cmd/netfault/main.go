// Command netfault cuts and heals directed peer links from inside a node's
// network namespace (a container of the docker runtime). It owns exactly
// one nftables table, inet "faultline", and never touches any other table:
// flushing the whole ruleset would break Docker's embedded DNS, whose NAT
// rules live in the same namespace.
//
//	netfault drop --from IP[,IP...] [--all]   replace our table: drop traffic from those IPs
//	netfault heal                            delete our table
//	netfault show                            print the IPs our table drops, one a line
//
// By default only packets of connections the listed peers initiated are
// dropped (conntrack direction "original"), so the peer's stream to this
// node is cut while this node's own stream to the peer keeps working: a
// directed link. --all drops every packet from the peers (a two-way cut).
//
// The direction of a connection is what conntrack saw first. Connections
// are tracked from their SYN, not picked up mid-stream, because conntrack
// is already active in every container of a user-defined Docker network:
// the embedded DNS's NAT rules, installed before the node starts, need it.
// The runtime tests check that a one-way cut stays one-way.
package main

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"strings"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "netfault:", err)
		os.Exit(1)
	}
}

func usage() error {
	return fmt.Errorf("usage: netfault drop --from IP[,IP...] [--all] | netfault heal | netfault show")
}

func run(args []string) error {
	if len(args) == 0 {
		return usage()
	}
	switch args[0] {
	case "drop":
		fs := flag.NewFlagSet("drop", flag.ContinueOnError)
		from := fs.String("from", "", "comma-separated peer IPs whose traffic this node drops")
		all := fs.Bool("all", false, "drop every packet from the peers, not only their own connections")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return fmt.Errorf("drop: unexpected argument %q", fs.Arg(0))
		}
		ips, err := parseIPs(*from)
		if err != nil {
			return err
		}
		return replaceDropTable(ips, *all)
	case "heal":
		if len(args) > 1 {
			return fmt.Errorf("heal: unexpected argument %q", args[1])
		}
		return deleteTable()
	case "show":
		ips, err := droppedIPs()
		if err != nil {
			return err
		}
		for _, ip := range ips {
			fmt.Println(ip)
		}
		return nil
	default:
		return usage()
	}
}

// parseIPs parses the --from list; the error names the bad entry.
func parseIPs(list string) ([]netip.Addr, error) {
	if strings.TrimSpace(list) == "" {
		return nil, fmt.Errorf("drop: --from is empty (use heal to remove every rule)")
	}
	var ips []netip.Addr
	for i, s := range strings.Split(list, ",") {
		ip, err := netip.ParseAddr(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("drop: --from entry %d %q: not an IP address", i+1, s)
		}
		ips = append(ips, ip.Unmap())
	}
	return ips, nil
}
