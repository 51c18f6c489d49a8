package serve

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/faultline/faultline/report"
)

// Every path a request names is checked here before it reaches the
// filesystem, and every access then goes through an os.Root opened on the
// store, which refuses ".." and symlinks that leave the store even if a
// check were missed.

// checkSegment refuses a path segment that is empty, ".", "..", hidden, or
// holds a separator or NUL.
func checkSegment(s string) error {
	switch {
	case s == "":
		return errors.New("empty path segment")
	case s == "." || s == "..":
		return fmt.Errorf("%q is not allowed in a path", s)
	case strings.HasPrefix(s, "."):
		return fmt.Errorf("hidden name %q is not served", s)
	case strings.ContainsAny(s, "/\\\x00"):
		return fmt.Errorf("%q holds a path separator or NUL", s)
	case len(s) > 255:
		return errors.New("path segment longer than 255 bytes")
	}
	return nil
}

// checkRelPath validates a slash-separated path inside a run ("" is the
// run's root). Absolute paths and traversal are refused.
func checkRelPath(p string) (string, error) {
	if p == "" {
		return ".", nil
	}
	if strings.HasPrefix(p, "/") || strings.HasPrefix(p, "\\") || (len(p) > 1 && p[1] == ':') {
		return "", fmt.Errorf("absolute path %q is not allowed", p)
	}
	trimmed := strings.TrimSuffix(p, "/")
	for _, seg := range strings.Split(trimmed, "/") {
		if err := checkSegment(seg); err != nil {
			return "", err
		}
	}
	return trimmed, nil
}

func pathEscape(s string) string { return url.PathEscape(s) }

// textTypes are served as plain text so browsers show them inline.
var textTypes = map[string]string{
	".jsonl": "text/plain; charset=utf-8",
	".log":   "text/plain; charset=utf-8",
	".json":  "application/json; charset=utf-8",
	".xml":   "application/xml; charset=utf-8",
	".html":  "text/html; charset=utf-8",
	".txt":   "text/plain; charset=utf-8",
	".svg":   "image/svg+xml",
	".png":   "image/png",
}

// serveRunFile serves one regular file of a run, or lists a directory.
func (s *Server) serveRunFile(w http.ResponseWriter, r *http.Request, id, rel string) {
	name := path.Join(id, rel)
	fi, err := s.root.Stat(name)
	if err != nil {
		s.fileError(w, r, rel, err)
		return
	}
	if fi.IsDir() {
		if !strings.HasSuffix(r.URL.Path, "/") {
			http.Redirect(w, r, r.URL.EscapedPath()+"/", http.StatusMovedPermanently)
			return
		}
		s.serveListing(w, r, id, rel)
		return
	}
	if !fi.Mode().IsRegular() {
		s.httpError(w, r, http.StatusForbidden, "path", fmt.Sprintf("%s is not a regular file", rel))
		return
	}
	f, err := s.root.Open(name)
	if err != nil {
		s.fileError(w, r, rel, err)
		return
	}
	defer f.Close()
	if ct, ok := textTypes[path.Ext(rel)]; ok {
		w.Header().Set("Content-Type", ct)
	}
	if path.Ext(rel) == ".html" {
		// Reports and key views run their own scripts; keep them in an
		// opaque origin so they cannot drive this server's API.
		w.Header().Set("Content-Security-Policy", "sandbox allow-scripts allow-popups allow-modals allow-downloads")
	}
	http.ServeContent(w, r, path.Base(rel), fi.ModTime(), f)
}

func (s *Server) fileError(w http.ResponseWriter, r *http.Request, rel string, err error) {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		s.httpError(w, r, http.StatusNotFound, "path", fmt.Sprintf("%s does not exist in this run", rel))
	default:
		// os.Root reports a path escaping the store (a symlink out of it)
		// as an error of its own: refuse, naming the path.
		s.httpError(w, r, http.StatusForbidden, "path", fmt.Sprintf("%s cannot be served: it leads outside the store", rel))
	}
}

// dirEntry is one row of a directory listing.
type dirEntry struct {
	Name, Href, Size, Modified string
	Dir, Link                  bool
}

func (s *Server) listDir(id, rel string) ([]dirEntry, error) {
	name := path.Join(id, rel)
	entries, err := fs.ReadDir(s.root.FS(), name)
	if err != nil {
		return nil, err
	}
	var out []dirEntry
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || strings.HasSuffix(e.Name(), ".tmp") {
			continue
		}
		de := dirEntry{Name: e.Name(), Href: pathEscape(e.Name())}
		if e.Type()&fs.ModeSymlink != 0 {
			de.Link = true
			de.Size = "symlink (not served when it leads outside the store)"
		} else if info, err := e.Info(); err == nil {
			de.Modified = info.ModTime().UTC().Format(time.DateTime)
			if e.IsDir() {
				de.Dir = true
				de.Href += "/"
			} else {
				de.Size = report.ByteSize(info.Size())
			}
		}
		out = append(out, de)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Dir != out[j].Dir {
			return out[i].Dir
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

func (s *Server) serveListing(w http.ResponseWriter, r *http.Request, id, rel string) {
	entries, err := s.listDir(id, rel)
	if err != nil {
		s.fileError(w, r, rel, err)
		return
	}
	shown := rel
	if shown == "." {
		shown = ""
	}
	s.render(w, r, http.StatusOK, "browse", map[string]any{
		"Title": id + "/" + shown, "ID": id, "Rel": shown, "Entries": entries, "Up": shown != "",
		"ReportURL": runURL(id), "DownloadURL": downloadURL(id),
	})
}

// writeTarball streams the run directory as a gzip'd tar. Only regular files
// and directories go in; symlinks are skipped, never followed.
func (s *Server) writeTarball(w io.Writer, id string) error {
	runRoot, err := s.root.OpenRoot(id)
	if err != nil {
		return err
	}
	defer runRoot.Close()
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	prefix := strings.ReplaceAll(id, "/", "-") + "/"
	err = fs.WalkDir(runRoot.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasSuffix(p, ".tmp") {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if !d.IsDir() && !info.Mode().IsRegular() {
			return nil
		}
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		hdr.Name = prefix + p
		if d.IsDir() {
			if p == "." {
				hdr.Name = prefix
			} else {
				hdr.Name += "/"
			}
		}
		hdr.Uname, hdr.Gname, hdr.Uid, hdr.Gid = "", "", 0, 0
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		f, err := runRoot.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		// A file still growing (a running campaign's history) is cut at the
		// size in its header.
		_, err = io.CopyN(tw, f, hdr.Size)
		return err
	})
	if err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

// statRunDir checks that id names a run directory in the store.
func (s *Server) statRunDir(id string) error {
	fi, err := s.root.Lstat(id)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a run directory", id)
	}
	return nil
}
