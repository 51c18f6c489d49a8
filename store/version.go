package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
)

// FormatVersion is the version of every document this package writes
// (campaign.json, results.json, sweep.json) and of the run directory's
// line files (history.jsonl and nodes/status.jsonl follow their manifest's
// version). docs/store.md lists what each version holds.
//
// Version 1 is the layout of the first release; documents written before
// format_version existed carry none and are read as version 1.
const FormatVersion = 1

// VersionError is a document whose format_version this build does not know.
type VersionError struct {
	File string
	Got  int
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("%s: format_version %d is not one this checker reads (it reads 1 to %d); use a newer checker", e.File, e.Got, FormatVersion)
}

// checkVersion reads the format_version of a JSON document (absent = 1).
func checkVersion(b []byte, name string) error {
	var v struct {
		FormatVersion *int `json:"format_version"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if v.FormatVersion != nil && (*v.FormatVersion < 1 || *v.FormatVersion > FormatVersion) {
		return &VersionError{File: name, Got: *v.FormatVersion}
	}
	return nil
}

// WriteDocument writes v, a value that marshals to a JSON object, as indented
// JSON with "format_version" first, through a temporary file and a rename so
// a reader never sees half a file. Documents whose type the store does not
// own (results.json is check's, sweep.json the sweep's) are written with it.
func WriteDocument(path string, v any) error {
	b, err := marshalVersioned(v)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return WriteFile(path, b)
}

// ReadDocument reads a document written by WriteDocument (or one written
// before format versions, read as version 1) into v. Errors name the file.
func ReadDocument(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return DecodeDocument(b, path, v)
}

// ReadDocumentFS is ReadDocument on a file system (a run served from a root).
func ReadDocumentFS(fsys fs.FS, name string, v any) error {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return err
	}
	return DecodeDocument(b, name, v)
}

// DecodeDocument checks the format version of b, then decodes it into v.
func DecodeDocument(b []byte, name string, v any) error {
	if err := checkVersion(b, name); err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// marshalVersioned encodes v with "format_version": FormatVersion as its
// first member (replacing one v may carry).
func marshalVersioned(v any) ([]byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	body = bytes.TrimSpace(body)
	if len(body) < 2 || body[0] != '{' {
		return nil, fmt.Errorf("a store document must be a JSON object")
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, `{"format_version":%d`, FormatVersion)
	// Keep v's own member order: re-walk the encoded object.
	dec := json.NewDecoder(bytes.NewReader(body))
	if _, err := dec.Token(); err != nil { // {
		return nil, err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		if key == "format_version" {
			continue
		}
		k, _ := json.Marshal(key)
		buf.WriteByte(',')
		buf.Write(k)
		buf.WriteByte(':')
		buf.Write(raw)
	}
	buf.WriteByte('}')
	var out bytes.Buffer
	if err := json.Indent(&out, buf.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// WriteFile writes b to path through a temporary file and a rename, so a
// reader (a browser, `checker serve`) never sees half a file. Every file of
// the store that is rewritten in place is written with it.
func WriteFile(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
