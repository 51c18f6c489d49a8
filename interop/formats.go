package interop

import (
	"fmt"
	"io"
	"os"

	"github.com/faultline/faultline/history"
)

// Formats other tools write, as named by `checker check --from` and
// `checker export --to`.
const (
	Jepsen    = "jepsen"
	Porcupine = "porcupine"
)

// Formats lists the format names in a stable order, for usage and completion.
var Formats = []string{Jepsen, Porcupine}

// ReadFile reads the history at path in the named format ("" or "faultline"
// for the JSONL contract). Errors name the file and, where the format has
// lines, the line.
func ReadFile(format, path string) ([]history.Event, error) {
	switch format {
	case "", "faultline":
		return history.ReadFile(path)
	case Jepsen, Porcupine:
	default:
		return nil, fmt.Errorf("unknown format %q (want %s or %s)", format, Jepsen, Porcupine)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if format == Jepsen {
		return ReadJepsen(f, path)
	}
	return ReadPorcupine(f, path)
}

// Write writes events in the named format.
func Write(format string, w io.Writer, events []history.Event) error {
	switch format {
	case Jepsen:
		return WriteJepsen(w, events)
	case Porcupine:
		return WritePorcupine(w, events)
	}
	return fmt.Errorf("unknown format %q (want %s or %s)", format, Jepsen, Porcupine)
}

// validated runs history's own well-formedness rules over converted events,
// so an imported history is held to the contract a recorded one is.
func validated(events []history.Event, name string) ([]history.Event, error) {
	if _, err := history.Pair(events); err != nil {
		return nil, fmt.Errorf("%s: after conversion: %w", name, err)
	}
	return events, nil
}
