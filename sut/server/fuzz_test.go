package server

import (
	"bytes"
	"encoding/json"
	"net/url"
	"reflect"
	"testing"
)

// fuzzMethods are the requests FuzzKVHandlers sends, picked by a byte.
var fuzzMethods = []struct{ method, suffix string }{
	{"PUT", ""}, {"GET", ""}, {"GET", "?read=local"}, {"DELETE", ""},
	{"POST", "/cas"}, {"POST", "/append"},
}

// FuzzKVHandlers sends arbitrary keys, bodies and client ids to the
// key-value endpoints of a real one-node raftd (in process, WAL without
// fsync). Every answer must have a status the API documents, never a 5xx
// but 503/504; and a PUT that is acknowledged must read back as exactly
// the value sent: raftd keeps bytes or refuses them, never changes them.
func FuzzKVHandlers(f *testing.F) {
	f.Add(byte(0), "k", []byte(`{"value": 1}`), "")
	f.Add(byte(0), "a\xffb", []byte(`{"value": 1}`), "")
	f.Add(byte(0), "k", []byte("{\"value\": \"x\xffy\"}"), "")
	f.Add(byte(0), "a\x00b", []byte(`{"value": "x\u0000y"}`), "c1")
	f.Add(byte(0), "k", []byte(`{"value": {"a": 1, "a": 2}}`), "")
	f.Add(byte(4), "k", []byte(`{"expect": null, "value": [1, "\ud800"]}`), "c\xff")
	f.Add(byte(5), "k", []byte(`{"value": 12345678901234567890123}`), "c2")
	f.Add(byte(1), "k", []byte(nil), "")
	c := newTestCluster(f, 1, nil)
	s := c.waitLeader()
	f.Fuzz(func(t *testing.T, op byte, key string, body []byte, clientID string) {
		m := fuzzMethods[int(op)%len(fuzzMethods)]
		header := map[string]string{}
		if clientID != "" {
			header["X-Client-Id"] = clientID
		}
		path := "/kv/" + url.PathEscape(key) + m.suffix
		var reqBody any
		if m.method != "GET" && m.method != "DELETE" {
			reqBody = string(body)
		}
		code, answer, _ := do(t, s, m.method, path, reqBody, header)
		switch {
		case code == 200 || code == 400 || code == 404 || code == 409 || code == 503 || code == 504:
		default:
			t.Fatalf("%s %s %q: status %d (%v)", m.method, path, body, code, answer)
		}
		if m.method != "PUT" || code != 200 {
			return
		}
		sent := decodeValueField(t, body)
		getCode, got, _ := do(t, s, "GET", "/kv/"+url.PathEscape(key), nil, nil)
		if getCode != 200 || !reflect.DeepEqual(got["value"], sent) {
			t.Fatalf("PUT %q %q acknowledged, then GET answered %d %#v; want %#v", key, body, getCode, got["value"], sent)
		}
	})
}

// decodeValueField is the "value" of an acknowledged PUT body, decoded the
// way answers are (numbers as json.Number).
func decodeValueField(t *testing.T, body []byte) any {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		t.Fatalf("acknowledged PUT with a body that is not a JSON object: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(fields["value"]))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("acknowledged PUT with a bad value: %v", err)
	}
	return v
}
