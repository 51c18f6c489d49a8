package system

import (
	"fmt"
	"strings"
)

// Config chooses a system under test: what `checker run --system ...` and
// its companion flags say. New turns it into a System.
type Config struct {
	// Name is raftd, etcd or http (--system); empty means raftd.
	Name string `json:"name"`
	// Binary replaces the built node program (--system-binary).
	Binary string `json:"binary,omitempty"`
	// Image is a container image that runs the nodes (--system-image,
	// docker runtime only).
	Image string `json:"image,omitempty"`
	// Args is the command-line template of an http system (--system-args).
	Args string `json:"args,omitempty"`
	// Capabilities are what an http server declares it implements
	// (--system-capabilities); raftd and etcd know their own.
	Capabilities Capabilities `json:"capabilities,omitempty"`
	// Raftd holds raftd's own settings (read mode, planted bugs, ...).
	Raftd RaftdOptions `json:"-"`
}

// Names lists the systems New knows, in the order the help shows them.
var Names = []string{NameRaftd, NameEtcd, NameHTTP}

// New returns the system cfg names. The error names the flag at fault.
func New(cfg Config) (System, error) {
	if len(cfg.Capabilities) > 0 && cfg.Name != NameHTTP {
		return nil, fmt.Errorf("--system-capabilities: only --system http declares capabilities; %s has its own", orRaftd(cfg.Name))
	}
	switch cfg.Name {
	case "", NameRaftd:
		if cfg.Image != "" {
			return nil, fmt.Errorf("--system-image: raftd is built from source or given as --system-binary, not as an image")
		}
		if cfg.Args != "" {
			return nil, fmt.Errorf("--system-args: only --system http takes an argument template")
		}
		opts := cfg.Raftd
		opts.Binary = cfg.Binary
		return Raftd(opts), nil
	case NameEtcd:
		if cfg.Args != "" {
			return nil, fmt.Errorf("--system-args: only --system http takes an argument template")
		}
		if len(cfg.Raftd.Bugs) > 0 {
			return nil, fmt.Errorf("--bug: planted bugs exist only in raftd, not in %s", cfg.Name)
		}
		if cfg.Binary != "" && cfg.Image != "" {
			return nil, fmt.Errorf("--system-binary and --system-image: give one or the other")
		}
		return Etcd(EtcdOptions{Binary: cfg.Binary, Image: cfg.Image}), nil
	case NameHTTP:
		if len(cfg.Raftd.Bugs) > 0 {
			return nil, fmt.Errorf("--bug: planted bugs exist only in raftd, not in %s", cfg.Name)
		}
		return HTTP(HTTPOptions{Binary: cfg.Binary, Image: cfg.Image, Args: cfg.Args, Capabilities: cfg.Capabilities})
	default:
		return nil, fmt.Errorf("--system must be one of %s, got %q", strings.Join(Names, ", "), cfg.Name)
	}
}

func orRaftd(name string) string {
	if name == "" {
		return NameRaftd
	}
	return name
}

// Info is what a run records about its system: campaign.json's "system".
type Info struct {
	Name         string       `json:"name"`
	Version      string       `json:"version"`
	Capabilities Capabilities `json:"capabilities"`
}

// Describe returns what a run records about s.
func Describe(s System) Info {
	caps := s.Capabilities()
	if caps == nil {
		caps = Capabilities{}
	}
	return Info{Name: s.Name(), Version: s.Version(), Capabilities: caps}
}
