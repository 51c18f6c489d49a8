package system

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/sut/client"
)

// NameHTTP is the name of a user's server speaking docs/sut-protocol.md.
const NameHTTP = "http"

// HTTPOptions describe a user's server.
type HTTPOptions struct {
	Binary string // the node program (--system-binary)
	Image  string // or an image running it (--system-image, docker)
	// Args is the command-line template (--system-args); see Placeholders.
	Args string
	// Capabilities are the optional endpoints the server implements
	// (--system-capabilities).
	Capabilities Capabilities
}

// Placeholders are what --system-args may contain; each is replaced inside
// every whitespace-separated word of the template.
var Placeholders = []string{"{id}", "{listen}", "{peers}", "{data}", "{join}", "{cluster}"}

// HTTP is a user's server as a System: started from the given binary or
// image with the given argument template, driven through the documented
// HTTP protocol, offering the capabilities the user declares.
func HTTP(opts HTTPOptions) (System, error) {
	switch {
	case opts.Binary == "" && opts.Image == "":
		return nil, fmt.Errorf("--system http needs --system-binary or --system-image")
	case opts.Binary != "" && opts.Image != "":
		return nil, fmt.Errorf("--system-binary and --system-image: give one or the other")
	case !strings.Contains(opts.Args, "{listen}"):
		return nil, fmt.Errorf("--system-args %q: the template must place {listen} (placeholders: %s)", opts.Args, strings.Join(Placeholders, " "))
	}
	for _, c := range opts.Capabilities {
		if !Capabilities(AllCapabilities).Has(c) {
			return nil, fmt.Errorf("--system-capabilities: unknown capability %q (known: %s)", c, Capabilities(AllCapabilities))
		}
	}
	version := "image " + opts.Image
	if opts.Binary != "" {
		sum, err := FileSHA256(opts.Binary)
		if err != nil {
			return nil, fmt.Errorf("--system-binary: %w", err)
		}
		version = "binary sha256:" + sum[:16]
	}
	return httpSystem{opts: opts, version: version}, nil
}

type httpSystem struct {
	opts    HTTPOptions
	version string
}

func (httpSystem) Name() string { return NameHTTP }

// HealthPath: the protocol asks every server to answer GET /admin/status
// with 200 once it serves; the status capability is a full answer.
func (httpSystem) HealthPath() string { return "/admin/status" }

func (s httpSystem) Version() string { return s.version }

func (s httpSystem) Capabilities() Capabilities { return s.opts.Capabilities }

func (s httpSystem) StaleReadMode() string {
	if s.opts.Capabilities.Has(StaleRead) {
		return "local"
	}
	return ""
}

func (s httpSystem) Program() Program {
	return Program{Binary: s.opts.Binary, Image: s.opts.Image}
}

// Args fills the template in, word by word.
func (s httpSystem) Args(n NodeArgs) []string {
	r := strings.NewReplacer(
		"{id}", n.ID, "{listen}", n.Listen, "{peers}", FormatPeers(n.Peers),
		"{data}", n.Data, "{join}", strconv.FormatBool(n.Join), "{cluster}", n.Cluster)
	words := strings.Fields(s.opts.Args)
	for i, w := range words {
		words[i] = r.Replace(w)
	}
	return words
}

func (httpSystem) NewClient(addrs map[string]string, opt ClientOptions) Client {
	return NewProtocolClient(addrs, opt)
}

func (s httpSystem) NewAdmin(addrs map[string]string, timeout time.Duration) Admin {
	return protocolAdmin{Client: client.New(addrs, client.Options{Timeout: timeout, ClientID: "nemesis"}), system: NameHTTP, caps: s.opts.Capabilities}
}

// protocolAdmin is the protocol's admin calls, each refused with a
// *MissingError unless the server declared its capability.
type protocolAdmin struct {
	*client.Client
	system string
	caps   Capabilities
}

func (a protocolAdmin) need(c Capability, wanted string) error {
	if a.caps.Has(c) {
		return nil
	}
	return &MissingError{System: a.system, Capability: c, Wanted: wanted}
}

func (a protocolAdmin) Status(ctx context.Context, id string) (client.Status, error) {
	if err := a.need(Status, "status"); err != nil {
		return client.Status{}, err
	}
	return a.Client.Status(ctx, id)
}

func (a protocolAdmin) AddMember(ctx context.Context, id, peerAddr string) error {
	if err := a.need(Membership, "membership change"); err != nil {
		return err
	}
	return a.Client.AddMember(ctx, id, peerAddr)
}

func (a protocolAdmin) RemoveMember(ctx context.Context, id string) error {
	if err := a.need(Membership, "membership change"); err != nil {
		return err
	}
	return a.Client.RemoveMember(ctx, id)
}

func (a protocolAdmin) ReplaceMember(ctx context.Context, add, peerAddr, remove string) error {
	if err := a.need(MemberReplace, "membership swap"); err != nil {
		return err
	}
	return a.Client.ReplaceMember(ctx, add, peerAddr, remove)
}

// SetClock and SetSlow accept the neutral setting (a heal) from a server
// without the capability: its clock and speed were never changed.
func (a protocolAdmin) SetClock(ctx context.Context, id string, offsetMs int64, rate float64) error {
	if offsetMs == 0 && rate == 1 && !a.caps.Has(ClockSkew) {
		return nil
	}
	if err := a.need(ClockSkew, "nemesis kind clock"); err != nil {
		return err
	}
	return a.Client.SetClock(ctx, id, offsetMs, rate)
}

func (a protocolAdmin) SetSlow(ctx context.Context, id string, d client.Slow) error {
	if d == (client.Slow{}) && !a.caps.Has(SlowDown) {
		return nil
	}
	if err := a.need(SlowDown, "nemesis kind slow"); err != nil {
		return err
	}
	return a.Client.SetSlow(ctx, id, d)
}

// ParseCapabilities reads a comma list such as "status,stale-read"; "" and
// "none" are the empty set.
func ParseCapabilities(s string) (Capabilities, error) {
	caps := Capabilities{}
	if s == "" || s == "none" {
		return caps, nil
	}
	for _, part := range strings.Split(s, ",") {
		c := Capability(strings.TrimSpace(part))
		if !Capabilities(AllCapabilities).Has(c) {
			return nil, fmt.Errorf("--system-capabilities: unknown capability %q (known: %s)", c, Capabilities(AllCapabilities))
		}
		if !caps.Has(c) {
			caps = append(caps, c)
		}
	}
	return caps, nil
}

// FileSHA256 is the hex sha256 of a file's content.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
