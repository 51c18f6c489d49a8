package server

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/faultline/faultline/sut/kv"
)

// The reproductions: bytes that are not UTF-8 used to be acknowledged
// and then stored as U+FFFD. Now they are refused with a 400 naming the key,
// field or header, and nothing is stored.
func TestTextJSONCannotCarryIsRefusedNamingIt(t *testing.T) {
	c := newTestCluster(t, 1, nil)
	s := c.waitLeader()
	long := strings.Repeat("k", kv.MaxKeyBytes+1)
	for _, tc := range []struct {
		method, path string
		body         any
		header       map[string]string
		want         string
	}{
		{"PUT", "/kv/a%ffb", `{"value": 1}`, nil, `key "a\xffb": invalid UTF-8 at byte 1`},
		{"PUT", "/kv/a%feb", `{"value": 1}`, nil, `key "a\xfeb"`},
		{"GET", "/kv/a%ffb", nil, nil, `key "a\xffb"`},
		{"GET", "/kv/a%ffb?read=local", nil, nil, `key "a\xffb"`},
		{"DELETE", "/kv/%c3", nil, nil, `key "\xc3"`},
		{"POST", "/kv/a%ffb/cas", `{"expect": 1, "value": 2}`, nil, `key "a\xffb"`},
		{"POST", "/kv/a%ffb/append", `{"value": 1}`, nil, `key "a\xffb"`},
		{"PUT", "/kv/" + long, `{"value": 1}`, nil, "key: 8193 bytes, over the 8192-byte limit"},
		{"PUT", "/kv/x", "{\"value\": \"x\xffy\"}", nil, `field value: invalid UTF-8 at byte 1 of the string "x\xffy"`},
		{"PUT", "/kv/x", `{"value": "\ud800"}`, nil, `field value: \ud800 is half a surrogate pair`},
		{"PUT", "/kv/x", `{"value": "a\udc00"}`, nil, `field value: \udc00 is half a surrogate pair`},
		{"PUT", "/kv/x", `{"value": 1, "value": 2}`, nil, "field value: given twice"},
		{"PUT", "/kv/x", `{"value": {"a": 1, "a": 2}}`, nil, `field value["a"]: given twice`},
		{"POST", "/kv/x/cas", "{\"expect\": \"\xfe\", \"value\": 2}", nil, "field expect: invalid UTF-8"},
		{"POST", "/kv/x/append", "{\"value\": [1, {\"\xc3\": 2}]}", nil, `field value[1]`},
		{"PUT", "/kv/x", `{"value": 1}`, map[string]string{"X-Client-Id": "c\xff", "X-Seq": "1"}, "header X-Client-Id"},
	} {
		code, body, _ := do(t, s, tc.method, tc.path, tc.body, tc.header)
		msg, _ := body["error"].(string)
		if code != 400 || !strings.Contains(msg, tc.want) {
			t.Errorf("%s %s %q: got %d %q, want 400 mentioning %s", tc.method, tc.path, tc.body, code, msg, tc.want)
		}
	}
	// Nothing was stored under the key U+FFFD would have made of them.
	if code, body, _ := do(t, s, "GET", "/kv/a%EF%BF%BDb", nil, nil); code != 404 {
		t.Fatalf("GET of a\\uFFFDb after refused writes: %d %v, want 404", code, body)
	}
	if code, body, _ := do(t, s, "GET", "/kv/x", nil, nil); code != 404 {
		t.Fatalf("GET of x after refused writes: %d %v, want 404", code, body)
	}
}

// exactCase is a key and value that must come back byte for byte.
type exactCase struct {
	key  string
	body string // the PUT body as sent
	want any    // the value as read back
}

var exactCases = []exactCase{
	{"a\x00b", `{"value": "x\u0000y"}`, "x\x00y"},
	{"a\ufffdb", `{"value": "\ufffd"}`, "\ufffd"},
	{"a/b?c#d%", `{"value": ["\ud83d\ude00", "<&>\u2028"]}`, []any{"\U0001F600", "<&>\u2028"}},
	{"ключ", "{\"value\": {\"n\u00e9\": 12345678901234567890123}}", map[string]any{"n\u00e9": json.Number("12345678901234567890123")}},
	{strings.Repeat("k", kv.MaxKeyBytes), `{"value": "long"}`, "long"},
}

// TestExactBytesSurviveLogSnapshotAndRestart writes keys and values with NUL
// bytes, U+FFFD itself, escapes and the longest key allowed, and reads each
// back unchanged: at once, from the followers' logs, and after a restart
// that replays snapshot and log.
func TestExactBytesSurviveLogSnapshotAndRestart(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *Config) { cfg.SnapshotEvery = 3 })
	check := func(when string) {
		t.Helper()
		for _, ec := range exactCases {
			code, body := c.leaderDo("GET", "/kv/"+url.PathEscape(ec.key), nil)
			if code != 200 || !reflect.DeepEqual(body["value"], ec.want) {
				t.Fatalf("%s: GET %q: %d %#v, want %#v", when, ec.key, code, body["value"], ec.want)
			}
		}
	}
	for _, ec := range exactCases {
		if code, body := c.leaderDo("PUT", "/kv/"+url.PathEscape(ec.key), ec.body); code != 200 {
			t.Fatalf("PUT %q %s: %d %v", ec.key, ec.body, code, body)
		}
	}
	check("after the writes")
	for id := range c.peers {
		c.stop(id)
	}
	for id := range c.peers {
		c.start(id)
	}
	c.waitLeader()
	check("after every node restarted from snapshot and log")
}
