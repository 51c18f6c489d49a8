package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func TestLogFormatFlag(t *testing.T) {
	ctx, rest, err := takeGlobalFlags(context.Background(), []string{"run", "--log-format", "json", "--duration", "1s", "--log-format=json"})
	if err != nil || strings.Join(rest, " ") != "run --duration 1s" {
		t.Fatalf("rest %v, err %v", rest, err)
	}
	var out strings.Builder
	newLogger(ctx, &out, 0).Info("hello", "node", "n1")
	var line map[string]any
	if err := json.Unmarshal([]byte(out.String()), &line); err != nil || line["msg"] != "hello" || line["node"] != "n1" {
		t.Fatalf("JSON log line %q: %v", out.String(), err)
	}
	out.Reset()
	newLogger(context.Background(), &out, 0).Info("hello")
	if !strings.HasPrefix(out.String(), "time=") {
		t.Fatalf("text log line %q", out.String())
	}
	if code, _, errOut := runCLI(t, "--log-format", "xml", "bugs"); code != exitCannotGo || !strings.Contains(errOut, `--log-format must be text or json, got "xml"`) {
		t.Fatalf("bad format: exit %d %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "bugs", "--log-format"); code != exitCannotGo || !strings.Contains(errOut, "--log-format needs a value") {
		t.Fatalf("missing value: exit %d %s", code, errOut)
	}
}
