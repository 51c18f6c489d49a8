package store

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestEveryDocumentCarriesTheFormatVersion(t *testing.T) {
	dir := t.TempDir()
	if err := WriteManifest(dir, Manifest{Name: "x", Status: StatusRunning, Options: json.RawMessage(`{"nodes":3}`)}); err != nil {
		t.Fatal(err)
	}
	if err := WriteResults(dir, map[string]any{"valid": true}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{ManifestFile, ResultsFile} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(b), "{\n  \"format_version\": 1,") {
			t.Errorf("%s does not start with its format_version:\n%s", f, b)
		}
	}
	m, err := ReadManifest(dir)
	var opts struct{ Nodes int }
	if err == nil {
		err = json.Unmarshal(m.Options, &opts)
	}
	if err != nil || m.FormatVersion != FormatVersion || m.Name != "x" || opts.Nodes != 3 {
		t.Fatalf("read back %+v, %v", m, err)
	}
}

func TestUnknownFormatVersionIsAClearError(t *testing.T) {
	dir := t.TempDir()
	for _, v := range []string{"2", "0", "-1"} {
		os.WriteFile(filepath.Join(dir, ManifestFile), []byte(`{"format_version": `+v+`, "name": "x"}`), 0o644)
		_, err := ReadManifest(dir)
		var ve *VersionError
		if !errors.As(err, &ve) || !strings.Contains(err.Error(), ManifestFile) || !strings.Contains(err.Error(), "format_version "+v) {
			t.Errorf("version %s: error %v, want a VersionError naming the file and the version", v, err)
		}
	}
	var res map[string]any
	os.WriteFile(filepath.Join(dir, ResultsFile), []byte(`{"format_version": 9}`), 0o644)
	if err := ReadResultsFS(os.DirFS(dir), ".", &res); err == nil || !strings.Contains(err.Error(), "results.json: format_version 9") {
		t.Errorf("results.json of version 9: %v", err)
	}
}

func TestDocumentsWithoutAVersionAreVersionOne(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ManifestFile), []byte(`{"name": "old", "status": "complete", "options": {"nodes": 5}}`), 0o644)
	m, err := ReadManifest(dir)
	if err != nil || m.Name != "old" || m.Status != StatusComplete {
		t.Fatalf("a manifest from before format versions: %+v, %v", m, err)
	}
}

func TestMarkInterruptedOnlyTouchesRunningRuns(t *testing.T) {
	dir := t.TempDir()
	WriteManifest(dir, Manifest{Name: "x", Status: StatusRunning})
	if err := MarkInterrupted(dir, "serve stopped"); err != nil {
		t.Fatal(err)
	}
	m, _ := ReadManifest(dir)
	if m.Status != StatusInterrupted || m.Error != "serve stopped" {
		t.Fatalf("after marking: %+v", m)
	}
	WriteManifest(dir, Manifest{Name: "x", Status: StatusComplete})
	if err := MarkAbandoned(dir, "owner gone"); err != nil {
		t.Fatal(err)
	}
	if m, _ := ReadManifest(dir); m.Status != StatusComplete || m.Error != "" {
		t.Fatalf("a complete run was changed: %+v", m)
	}
}

func TestOwnerGone(t *testing.T) {
	me := Self()
	if me.PID != os.Getpid() || me.Start.IsZero() || me.Host == "" {
		t.Fatalf("self %+v", me)
	}
	if me.Gone() {
		t.Fatal("this process is taken for gone")
	}
	back, err := ParseOwner(me.String())
	if err != nil || back.Host != me.Host || back.PID != me.PID || !back.Start.Equal(me.Start.Truncate(time.Millisecond)) {
		t.Fatalf("ParseOwner(%q) = %+v, %v", me.String(), back, err)
	}
	if back.Gone() {
		t.Fatal("the parsed owner of this process is taken for gone")
	}
	reused := me
	reused.Start = me.Start.Add(-time.Hour) // same pid, another process
	if !reused.Gone() {
		t.Error("an owner whose pid now belongs to a later process is not gone")
	}
	elsewhere := me
	elsewhere.Host = me.Host + "-other"
	elsewhere.Start = time.Time{}
	if elsewhere.Gone() {
		t.Error("an owner on another host is taken for gone")
	}
	m := Manifest{Status: StatusRunning, Owner: &reused}
	if m.ShownStatus() != StatusAbandoned {
		t.Errorf("a running run of a gone owner shows %q", m.ShownStatus())
	}
	m.Owner = &me
	if m.ShownStatus() != StatusRunning {
		t.Errorf("a running run of a live owner shows %q", m.ShownStatus())
	}
}
