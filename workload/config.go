package workload

import (
	"errors"
	"fmt"
	"time"

	"github.com/faultline/faultline/sut/system"
)

// Workload names.
const (
	Register = "register"
	Set      = "set"
	Append   = "append"
)

// Config is what `checker run` passes to the workload. Validate names the
// command-line flag of every bad field.
type Config struct {
	System      system.System // whom the clients talk to (--system)
	Workload    string        // register, set or append (--workload)
	Keys        int           // number of keys, k0..k{Keys-1} (--keys)
	Concurrency int           // closed-loop workers (--concurrency)
	Rate        float64       // total ops/s over all workers; 0 = unlimited (--rate)
	Timeout     time.Duration // per request attempt; an operation gets at most 3 attempts (--timeout)
	StaleReads  bool          // reads ask for the system's stale read (--read local|serializable)
	Seed        int64         // seeds the generators (--seed)
}

// Validate reports every bad field at once; each message names its flag.
func (c Config) Validate() error {
	var errs []error
	if c.System == nil {
		errs = append(errs, errors.New("--system: no system under test given"))
	}
	switch c.Workload {
	case Register, Set, Append:
	default:
		errs = append(errs, fmt.Errorf("--workload must be one of register, set, append; got %q", c.Workload))
	}
	if c.Keys < 1 {
		errs = append(errs, fmt.Errorf("--keys must be >= 1, got %d", c.Keys))
	}
	if c.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("--concurrency must be >= 1, got %d", c.Concurrency))
	}
	if c.Concurrency > maxConcurrency {
		errs = append(errs, fmt.Errorf("--concurrency must be <= %d, got %d", maxConcurrency, c.Concurrency))
	}
	if c.Rate < 0 {
		errs = append(errs, fmt.Errorf("--rate must be >= 0 (0 = unlimited), got %g", c.Rate))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("--timeout must be > 0, got %s", c.Timeout))
	}
	return errors.Join(errs...)
}

// maxConcurrency keeps process numbers of the running workload far below
// FinalReadProcessBase.
const maxConcurrency = 1000

// keyName is the name of key i.
func keyName(i int) string { return fmt.Sprintf("k%d", i) }

// KeyNames lists the keys a configuration uses, k0..k{Keys-1}.
func (c Config) KeyNames() []string {
	keys := make([]string, c.Keys)
	for i := range keys {
		keys[i] = keyName(i)
	}
	return keys
}
