package serve

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/faultline/faultline/campaign"
)

func TestLaunchDefaultsAreThoseOfCheckerRun(t *testing.T) {
	got, err := parseLaunchForm(url.Values{}, "the-store")
	if err != nil {
		t.Fatal(err)
	}
	want := campaign.DefaultOptions()
	want.Store, want.Bugs = "the-store", []string{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", got, want)
	}
	if got.CampaignName() != "register-all" {
		t.Errorf("default name %q", got.CampaignName())
	}
}

func TestLaunchJSONAndFormAgree(t *testing.T) {
	fromJSON, err := parseLaunchJSON(strings.NewReader(`{"runtime":"process","nodes":3,"duration":"20s","workload":"append",
		"concurrency":4,"rate":50.5,"keys":3,"nemesis":" kill , partition,kill","interval":1500000000,"seed":99,
		"read":"local","read_mode":"lease","bugs":["no-dedup","ack-before-commit"]}`), "store")
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"runtime": {"process"}, "nodes": {"3"}, "duration": {"20s"}, "workload": {"append"},
		"concurrency": {"4"}, "rate": {"50.5"}, "keys": {"3"}, "nemesis": {"kill,partition"}, "interval": {"1.5s"},
		"seed": {"99"}, "read": {"local"}, "read_mode": {"lease"}, "bugs": {"no-dedup", "ack-before-commit"}}
	fromForm, err := parseLaunchForm(form, "store")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromJSON, fromForm) {
		t.Errorf("JSON and form differ:\n%+v\n%+v", fromJSON, fromForm)
	}
	want := "checker run --system raftd --runtime process --nodes 3 --duration 20s --workload append " +
		"--concurrency 4 --rate 50.5 --keys 3 --nemesis partition,kill --interval 1.5s --concurrent-faults 1 --seed 99 --read local " +
		"--read-mode lease --bug ack-before-commit --bug no-dedup --store store --name append-partition+kill"
	if got := fromJSON.ReproduceCommand(); !strings.HasPrefix(got, want+" ") {
		t.Errorf("command:\n got %s\nwant %s ...", got, want)
	}
}

func TestLaunchFieldErrors(t *testing.T) {
	for _, c := range []struct {
		form  url.Values
		field string
	}{
		{url.Values{"rate": {"NaN"}}, "rate"},
		{url.Values{"name": {"latest"}}, "name"},
		{url.Values{"name": {"sweeps"}}, "name"},
		{url.Values{"name": {"a/b"}}, "name"},
		{url.Values{"seed": {"-1"}}, "seed"},
		{url.Values{"extra": {"1"}}, "extra"},
		{url.Values{"nemesis": {""}, "interval": {"10ms"}}, "interval"},
		{url.Values{"nodes": {"1"}}, "nodes"},
		{url.Values{"concurrency": {strconv.Itoa(campaign.MaxConcurrency + 1)}}, "concurrency"},
	} {
		_, err := parseLaunchForm(c.form, "store")
		field, msg := fieldMessage(err)
		if err == nil || field != c.field || msg == "" {
			t.Errorf("%v: error %v, want one naming %s", c.form, err, c.field)
		}
	}
}

// The limits are campaign's: the form accepts exactly what `checker run` does.
func TestLaunchLimitsAreTheCampaignsOwn(t *testing.T) {
	for _, form := range []url.Values{
		{"nodes": {strconv.Itoa(campaign.MinNodes)}},
		{"nodes": {strconv.Itoa(campaign.MaxNodes)}},
		{"concurrency": {strconv.Itoa(campaign.MaxConcurrency)}},
	} {
		if _, err := parseLaunchForm(form, "store"); err != nil {
			t.Errorf("%v refused: %v", form, err)
		}
	}
	data := launchFormData(defaultFormValues(), "", "")
	if data["MaxNodes"] != campaign.MaxNodes || data["MinNodes"] != campaign.MinNodes || data["MaxConcurrency"] != campaign.MaxConcurrency {
		t.Errorf("the form's bounds are not campaign's: %v", data)
	}
}

// A kind:mode nemesis with no name gets a default name that is one safe
// directory name (no ':'), and validates.
func TestLaunchKindModeNemesisWithoutAName(t *testing.T) {
	body, _ := json.Marshal(map[string]any{"nemesis": "partition:isolate-leader"})
	o, err := parseLaunchJSON(strings.NewReader(string(body)), "store")
	if err != nil {
		t.Fatal(err)
	}
	if name := o.CampaignName(); strings.Contains(name, ":") || name != "register-partition_isolate-leader" {
		t.Fatalf("default name %q", name)
	}
}
