package serve

import (
	"encoding/json"
	"net/url"
	"os"
	"reflect"
	"strings"
	"testing"
)

// testBinary is a real file to name as --system-binary: the system hashes
// it for campaign.json, and a campaign never starts in these tests.
func testBinary(t *testing.T) string {
	t.Helper()
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// The system fields read the same from the API and the form, and the
// campaign they make is the one `checker run --system http ...` would run.
func TestLaunchSystemFieldsFromJSONAndForm(t *testing.T) {
	bin := testBinary(t)
	body, _ := json.Marshal(map[string]any{"system": "http", "system_binary": bin, "runtime": "process",
		"system_args": "--id {id} --listen {listen} --data {data}", "system_capabilities": []string{"status", "stale-read"}})
	fromJSON, err := parseLaunchJSON(strings.NewReader(string(body)), "store")
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"system": {"http"}, "system_binary": {bin}, "runtime": {"process"},
		"system_args": {"--id {id} --listen {listen} --data {data}"}, "system_capabilities": {"status", "stale-read"}}
	fromForm, err := parseLaunchForm(form, "store")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromJSON, fromForm) {
		t.Errorf("JSON and form differ:\n%+v\n%+v", fromJSON, fromForm)
	}
	want := "--system-binary " + bin + " --system-args '--id {id} --listen {listen} --data {data}' --system-capabilities status,stale-read"
	if cmd := fromJSON.ReproduceCommand(); !strings.HasPrefix(cmd, "checker run --system http ") || !strings.Contains(cmd, want) {
		t.Errorf("command %s\nlacks %s", cmd, want)
	}
	// A capability list may also be one comma-separated string.
	o, err := parseLaunchJSON(strings.NewReader(`{"system":"http","system_binary":`+string(mustJSON(t, bin))+
		`,"system_args":"--listen {listen}","system_capabilities":"status,stale-read"}`), "store")
	if err != nil || o.SystemCapabilities != "status,stale-read" {
		t.Errorf("capabilities as a string: %q, %v", o.SystemCapabilities, err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Over HTTP: an http system is queued with its fields, a bad system field
// is a 400 naming it (the API's JSON and the form's marked field), and the
// form offers the fields.
func TestLaunchSystemOverHTTP(t *testing.T) {
	ts := newTestServer(t, newFixtureLauncher(t))
	bin := string(mustJSON(t, testBinary(t)))
	r := ts.do(t, "POST", "/api/campaigns", "application/json",
		`{"name":"mine","system":"http","runtime":"process","system_binary":`+bin+`,"system_args":"--listen {listen}","system_capabilities":["status"]}`, nil)
	r.wantCode(t, 202, "launch of an http system")
	var job JobView
	if err := json.Unmarshal([]byte(r.body), &job); err != nil {
		t.Fatal(err)
	}
	if o := job.Options; o.System != "http" || o.SystemArgs != "--listen {listen}" || o.SystemCapabilities != "status" || o.SystemBinary == "" {
		t.Errorf("queued options %+v, want the http system's", o)
	}
	for _, c := range []struct{ body, field string }{
		{`{"system":"zookeeper"}`, "system"},
		{`{"system":"http","system_binary":` + bin + `,"system_args":"--listen {listen}","system_capabilities":["teleport"]}`, "system_capabilities"},
		{`{"system":"http","system_binary":` + bin + `,"system_args":"--id {id}"}`, "system_args"},
		{`{"system":"etcd","system_args":"--listen {listen}"}`, "system_args"},
		{`{"system":"http","system_binary":"/no/such/binary","system_args":"--listen {listen}"}`, "system_binary"},
		{`{"system":"etcd","nemesis":"clock"}`, "nemesis"},
		{`{"system":"etcd","nemesis":"membership:swap"}`, "nemesis"},
		{`{"system_capabilities": 3}`, "system_capabilities"},
	} {
		ts.do(t, "POST", "/api/campaigns", "application/json", c.body, nil).wantFieldError(t, 400, c.field, c.body)
	}
	r = ts.do(t, "POST", "/launch", "application/x-www-form-urlencoded",
		url.Values{"system": {"http"}, "system_binary": {testBinary(t)}, "system_args": {"--id {id}"}, "system_capabilities": {"status"}}.Encode(), nil)
	r.wantCode(t, 400, "form with a bad template")
	r.wantBody(t, "form with a bad template", `data-field="system_args"`, `id="system_args" name="system_args" value="--id {id}" class="bad-field"`,
		`name="system_capabilities" value="status" checked`)
	ts.get(t, "/launch").wantBody(t, "launch form", `id="system_binary"`, `id="system_image"`, `id="system_args"`,
		`name="system_capabilities" value="member-replace"`, `<option>etcd</option>`, "{listen}")
}
