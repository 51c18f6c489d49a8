package main

import (
	"fmt"
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// tableName is our own table; nothing else in the namespace is touched.
const tableName = "faultline"

// ctDirOriginal is IP_CT_DIR_ORIGINAL: the packet travels in the direction
// of the connection's first packet, i.e. it belongs to a connection its
// sender initiated.
const ctDirOriginal = 0

func ourTable() *nftables.Table {
	return &nftables.Table{Family: nftables.TableFamilyINet, Name: tableName}
}

// replaceDropTable atomically replaces our table with one whose input chain
// drops traffic from ips. The add-delete-add sequence in one batch works
// whether or not the table exists, and the kernel applies the batch as a
// whole, so there is no moment without rules when rules change.
func replaceDropTable(ips []netip.Addr, all bool) error {
	conn, err := nftables.New()
	if err != nil {
		return fmt.Errorf("netlink: %w", err)
	}
	conn.AddTable(ourTable())
	conn.DelTable(ourTable())
	table := conn.AddTable(ourTable())
	policy := nftables.ChainPolicyAccept
	chain := conn.AddChain(&nftables.Chain{
		Name:     "input",
		Table:    table,
		Type:     nftables.ChainTypeFilter,
		Hooknum:  nftables.ChainHookInput,
		Priority: nftables.ChainPriorityFilter,
		Policy:   &policy,
	})
	for _, ip := range ips {
		conn.AddRule(&nftables.Rule{Table: table, Chain: chain, Exprs: dropFrom(ip, all)})
	}
	if err := conn.Flush(); err != nil {
		return fmt.Errorf("replace table %s: %w", tableName, err)
	}
	return nil
}

// dropFrom is "meta nfproto ipvX ip saddr IP [ct direction original] drop".
func dropFrom(ip netip.Addr, all bool) []expr.Any {
	proto, offset := byte(unix.NFPROTO_IPV4), uint32(12)
	if ip.Is6() {
		proto, offset = byte(unix.NFPROTO_IPV6), 8
	}
	raw := ip.AsSlice()
	exprs := []expr.Any{
		&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: uint32(len(raw))},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: raw},
	}
	if !all {
		exprs = append(exprs,
			&expr.Ct{Register: 1, Key: expr.CtKeyDIRECTION},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{ctDirOriginal}},
		)
	}
	return append(exprs, &expr.Verdict{Kind: expr.VerdictDrop})
}

// deleteTable removes our table if it exists (adding it first makes the
// delete valid either way).
func deleteTable() error {
	conn, err := nftables.New()
	if err != nil {
		return fmt.Errorf("netlink: %w", err)
	}
	conn.AddTable(ourTable())
	conn.DelTable(ourTable())
	if err := conn.Flush(); err != nil {
		return fmt.Errorf("delete table %s: %w", tableName, err)
	}
	return nil
}

// droppedIPs lists the source IPs our table drops (empty when healed).
func droppedIPs() ([]netip.Addr, error) {
	conn, err := nftables.New()
	if err != nil {
		return nil, fmt.Errorf("netlink: %w", err)
	}
	tables, err := conn.ListTablesOfFamily(nftables.TableFamilyINet)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	var ips []netip.Addr
	for _, t := range tables {
		if t.Name != tableName {
			continue
		}
		rules, err := conn.GetRules(t, &nftables.Chain{Name: "input", Table: t})
		if err != nil {
			return nil, fmt.Errorf("list rules: %w", err)
		}
		for _, r := range rules {
			if ip, ok := ruleSource(r); ok {
				ips = append(ips, ip)
			}
		}
	}
	return ips, nil
}

// ruleSource finds the address compared against the source address field.
func ruleSource(r *nftables.Rule) (netip.Addr, bool) {
	for i, e := range r.Exprs {
		p, ok := e.(*expr.Payload)
		if !ok || p.Base != expr.PayloadBaseNetworkHeader || i+1 >= len(r.Exprs) {
			continue
		}
		if c, ok := r.Exprs[i+1].(*expr.Cmp); ok {
			if ip, ok := netip.AddrFromSlice(c.Data); ok {
				return ip, true
			}
		}
	}
	return netip.Addr{}, false
}
