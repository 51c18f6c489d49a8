package client

import (
	"errors"
	"fmt"
)

// Error is a failed operation.
//
// Definite means the operation certainly had no effect (a redirect or "no
// leader" answer, a refused connection, a request the server rejected).
// Otherwise the outcome is unknown: the operation may take effect at any
// later time, or never; a history records it as info.
type Error struct {
	Definite bool
	Node     string // the node of the last attempt ("" if none was made)
	Status   int    // HTTP status of the last answer; 0 when there was none
	Msg      string
	Err      error // the underlying transport or context error, if any
}

func (e *Error) Error() string {
	kind := "indefinite"
	if e.Definite {
		kind = "definite"
	}
	s := "client: "
	if e.Node != "" {
		s += "node " + e.Node + ": "
	}
	if e.Status != 0 {
		s += fmt.Sprintf("HTTP %d: ", e.Status)
	}
	return s + e.Msg + " (" + kind + ")"
}

func (e *Error) Unwrap() error { return e.Err }

// IsDefinite reports whether err certainly left the system unchanged. It is
// false for nil and for errors that are not an *Error.
func IsDefinite(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Definite
}
