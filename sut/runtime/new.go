package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// Options tune a runtime. The zero value is usable.
type Options struct {
	// Log receives the runtime's own events (not the nodes' logs).
	Log *slog.Logger
	// SourceRoot is the module root that node binaries are built from;
	// empty means: walk up from the working directory to go.mod.
	SourceRoot string
	// WorkDir is where the process runtime makes each cluster's temporary
	// root (data directories, logs); empty means os.TempDir().
	WorkDir string
	// StartTimeout bounds how long a node may take to serve after it is
	// started, within the caller's context; zero means one minute.
	StartTimeout time.Duration
	// Owner names the process that owns the cluster (the checker's run
	// owner, host/pid/start); docker resources carry it as the
	// faultline.owner label. Empty means unknown.
	Owner string
}

func (o Options) withDefaults() Options {
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = time.Minute
	}
	return o
}

// Runtime names accepted by New.
const (
	NameDocker  = "docker"
	NameProcess = "process"
	NameAuto    = "auto"
)

// New returns the runtime called name: "docker", "process", or "auto"
// (docker when an engine answers, else process; the choice and its reason
// are logged).
func New(name string, log *slog.Logger) (Runtime, error) {
	return NewWithOptions(name, Options{Log: log})
}

// NewWithOptions is New with every option.
func NewWithOptions(name string, opts Options) (Runtime, error) {
	opts = opts.withDefaults()
	switch name {
	case NameProcess:
		return NewProcess(opts), nil
	case NameDocker:
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := DockerAvailable(ctx); err != nil {
			return nil, fmt.Errorf("runtime docker: %w", err)
		}
		return NewDocker(opts), nil
	case NameAuto, "":
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := DockerAvailable(ctx); err != nil {
			opts.Log.Info("runtime auto: using process", "reason", "no docker engine answers", "error", err)
			return NewProcess(opts), nil
		}
		opts.Log.Info("runtime auto: using docker", "reason", "a docker engine answers")
		return NewDocker(opts), nil
	default:
		return nil, fmt.Errorf("unknown runtime %q: want docker, process or auto", name)
	}
}

// ErrClosed is returned by a cluster's methods after Close.
var ErrClosed = errors.New("cluster is closed")

// ErrUnknownNode wraps an id the cluster has not started (or has removed).
var ErrUnknownNode = errors.New("unknown node")
