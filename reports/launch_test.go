package reports

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestLaunchDefaultsAreThoseOfCheckerRun(t *testing.T) {
	var r LaunchRequest
	if err := r.Normalize(); err != nil {
		t.Fatal(err)
	}
	want := LaunchRequest{Name: "register-all", Runtime: "auto", Nodes: 5, Duration: time.Minute, Workload: "register",
		Concurrency: 10, Keys: 10, Nemesis: "all", Interval: 5 * time.Second, ReadMode: "readindex", Bugs: []string{}}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", r, want)
	}
}

func TestLaunchJSONAndFormAgree(t *testing.T) {
	fromJSON, err := parseLaunchJSON(strings.NewReader(`{"runtime":"process","nodes":3,"duration":"20s","workload":"append",
		"concurrency":4,"rate":50.5,"keys":3,"nemesis":" kill , partition,kill","interval":1500000000,"seed":99,
		"read":"local","read_mode":"lease","bugs":["no-dedup","ack-before-commit"]}`))
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"runtime": {"process"}, "nodes": {"3"}, "duration": {"20s"}, "workload": {"append"},
		"concurrency": {"4"}, "rate": {"50.5"}, "keys": {"3"}, "nemesis": {"kill,partition"}, "interval": {"1.5s"},
		"seed": {"99"}, "read": {"local"}, "read_mode": {"lease"}, "bugs": {"no-dedup", "ack-before-commit"}}
	fromForm, err := parseLaunchForm(form)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromJSON, fromForm) {
		t.Errorf("JSON and form differ:\n%+v\n%+v", fromJSON, fromForm)
	}
	want := "checker run --name append-partition+kill --runtime process --nodes 3 --duration 20s --workload append " +
		"--concurrency 4 --rate 50.5 --keys 3 --nemesis partition,kill --interval 1.5s --seed 99 --read local " +
		"--read-mode lease --bug ack-before-commit --bug no-dedup"
	if got := fromJSON.Command(); got != want {
		t.Errorf("command:\n got %s\nwant %s", got, want)
	}
}

func TestLaunchFieldErrors(t *testing.T) {
	for _, c := range []struct {
		form  url.Values
		field string
	}{
		{url.Values{"rate": {"NaN"}}, "rate"},
		{url.Values{"name": {"latest"}}, "name"},
		{url.Values{"name": {"a/b"}}, "name"},
		{url.Values{"seed": {"-1"}}, "seed"},
		{url.Values{"extra": {"1"}}, "extra"},
		{url.Values{"nemesis": {""}, "interval": {"10ms"}}, "interval"},
	} {
		_, err := parseLaunchForm(c.form)
		field, ok := asFieldError(err)
		if !ok || field != c.field || !strings.HasPrefix(err.Error(), c.field+": ") {
			t.Errorf("%v: error %v, want one naming %s", c.form, err, c.field)
		}
	}
}
