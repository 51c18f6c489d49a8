package main

import (
	"strings"
	"testing"

	"github.com/faultline/faultline/sut/runtime/powerfs"
)

func TestParseRunReadsMountForwardAndNode(t *testing.T) {
	o, err := parseRun([]string{"--disk", "/data", "--durable", "/durable", "--forward", "0.0.0.0:7947=127.0.0.1:8080", "--", "/raftd", "--id", "n1"})
	if err != nil {
		t.Fatal(err)
	}
	if o.disk != "/data" || o.durable != "/durable" || o.listen != "0.0.0.0:7947" || o.target != "127.0.0.1:8080" ||
		strings.Join(o.node, " ") != "/raftd --id n1" {
		t.Fatalf("parsed %+v", o)
	}
}

func TestParseRunNamesTheBadFlag(t *testing.T) {
	for args, want := range map[string]string{
		"--disk /data -- /raftd":        "--durable",
		"--forward 0.0.0.0:1 -- /raftd": "--forward",
		"--disk /d --durable /e":        "no node command",
		"--forward =127.0.0.1:1 -- /x":  "LISTEN=TARGET",
	} {
		if _, err := parseRun(strings.Fields(args)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseRun(%s) = %v, want an error naming %s", args, err, want)
		}
	}
}

func TestParseRequest(t *testing.T) {
	req, err := parseRequest("power-fail", []string{"--loss", "torn", "--seed", "7", "--stream", "2"})
	if err != nil || req.Loss != powerfs.LoseTorn || req.Seed != 7 || req.Stream != 2 {
		t.Fatalf("power-fail: %+v %v", req, err)
	}
	req, err = parseRequest("links", []string{`{"sources":{"172.18.0.2":"n1"},"in":{"n1":{"delay_ms":50}}}`})
	if err != nil || req.Links.Sources["172.18.0.2"] != "n1" || req.Links.In["n1"].DelayMs != 50 {
		t.Fatalf("links: %+v %v", req, err)
	}
	for _, bad := range []struct {
		op   string
		args []string
		want string
	}{
		{"power-fail", []string{"--loss", "some"}, "--loss"},
		{"crash", []string{"now"}, "now"},
		{"links", []string{`{"in":{"n1":{"loss_pct":200}}}`}, "links.in[n1]"},
		{"links", nil, "one JSON argument"},
	} {
		if _, err := parseRequest(bad.op, bad.args); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("parseRequest(%s %q) = %v, want an error naming %s", bad.op, bad.args, err, bad.want)
		}
	}
}
