package serve

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"
)

// TokenEnv is the environment variable `checker serve` reads the access
// token from when --token is not given (a flag shows in `ps`; the
// environment does not).
const TokenEnv = "FAULTLINE_TOKEN"

// tokenCookie carries the token for a browser, set once it has presented
// the token in the URL (?token=...), so that the token leaves the address
// bar, the history and the pages at once.
const tokenCookie = "faultline_token"

// minTokenLength keeps a token from being guessed in a few tries.
const minTokenLength = 16

// checkAccess validates the access settings: a server reachable beyond
// loopback must have a token.
func checkAccess(opt ServerOptions, loopback bool) error {
	if opt.Token != "" && len(opt.Token) < minTokenLength {
		return fmt.Errorf("--token: at least %d characters, got %d", minTokenLength, len(opt.Token))
	}
	if !loopback && opt.Token == "" {
		return fmt.Errorf("--addr %s is reachable beyond this machine: give an access token (--token, or %s in the environment), or bind to 127.0.0.1", opt.Addr, TokenEnv)
	}
	return nil
}

// tokenDigest is what requests are compared with: comparing digests in
// constant time hides the token's length too.
func tokenDigest(token string) [sha256.Size]byte { return sha256.Sum256([]byte(token)) }

// presented returns the token a request carries: an Authorization: Bearer
// header (the API, Prometheus' bearer_token), the cookie, or ?token=.
func presented(r *http.Request) (token string, fromQuery bool) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		if t, ok := strings.CutPrefix(auth, "Bearer "); ok {
			return strings.TrimSpace(t), false
		}
	}
	if c, err := r.Cookie(tokenCookie); err == nil && c.Value != "" {
		return c.Value, false
	}
	if t := r.URL.Query().Get("token"); t != "" {
		return t, true
	}
	return "", false
}

// requireToken answers 401 to requests without the server's token, except
// GET /healthz (monitoring probes it without credentials; it tells nothing
// about the store). A browser that presents the token in the URL gets it as
// an HttpOnly cookie and is sent to the same URL without it. The token is
// never logged or written into a page.
func (s *Server) requireToken(next http.Handler) http.Handler {
	if s.opt.Token == "" {
		return next
	}
	want := tokenDigest(s.opt.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			next.ServeHTTP(w, r)
			return
		}
		token, fromQuery := presented(r)
		got := tokenDigest(token)
		if token == "" || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="faultline"`)
			// r.URL may hold a wrong token: the error names no URL.
			s.httpError(w, r, http.StatusUnauthorized, "token",
				fmt.Sprintf("this server needs its access token: an Authorization: Bearer header, or ?token= once in a browser (%s on the server)", TokenEnv))
			return
		}
		if fromQuery {
			http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: token, Path: "/", HttpOnly: true,
				SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
			clean := *r.URL
			q := clean.Query()
			q.Del("token")
			clean.RawQuery = q.Encode()
			http.Redirect(w, r, clean.RequestURI(), http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// handleReadOnly refuses what would change something on a --read-only server.
func (s *Server) handleReadOnly(w http.ResponseWriter, r *http.Request) {
	s.httpError(w, r, http.StatusForbidden, "read-only", "this server is read-only (checker serve --read-only): campaigns cannot be launched or cancelled here")
}
