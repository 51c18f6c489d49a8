package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sync"

	"github.com/moby/moby/client"
	tclog "github.com/testcontainers/testcontainers-go/log"
)

// Labels put on every container and network the docker runtime creates;
// GC and Close find leftovers by them.
const (
	LabelFaultline = "faultline"          // "1" on everything we create
	LabelCampaign  = "faultline.campaign" // the campaign name
	LabelNode      = "faultline.node"     // the node id (containers only)
	// LabelOwner is the process that created the resource (Options.Owner):
	// GCOwned removes only what belongs to owners that are gone.
	LabelOwner = "faultline.owner"
	// LabelImage marks node images (value: the system's name). It is not
	// faultline=1: containers inherit image labels.
	LabelImage = "faultline.image"
)

var dockerEnvOnce sync.Once

// prepareDockerEnv must run before any testcontainers call. The reaper
// (Ryuk) image cannot be pulled here, so it is disabled and the runtime
// cleans up by label itself. When Docker is a local socket, published
// ports are reached on 127.0.0.1: testcontainers would otherwise guess the
// default gateway (the machine runs inside a container) and dial it.
func prepareDockerEnv() {
	dockerEnvOnce.Do(func() {
		_ = os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
		if dockerIsLocal(os.Getenv("DOCKER_HOST")) && os.Getenv("TESTCONTAINERS_HOST_OVERRIDE") == "" {
			_ = os.Setenv("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
		}
	})
}

// dockerIsLocal reports whether DOCKER_HOST names a local engine: unset, a
// unix socket, or a TCP address on loopback.
func dockerIsLocal(host string) bool {
	if host == "" {
		return true
	}
	u, err := url.Parse(host)
	if err != nil {
		return false
	}
	switch u.Scheme {
	case "unix", "npipe":
		return true
	case "tcp", "http", "https":
		h := u.Hostname()
		return h == "localhost" || h == "127.0.0.1" || h == "::1"
	}
	return false
}

// newDockerClient connects to the engine named by the environment (or the
// default socket); the API version is negotiated on first use.
func newDockerClient() (*client.Client, error) {
	prepareDockerEnv()
	cli, err := client.New(client.FromEnv)
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	return cli, nil
}

// DockerAvailable reports whether a Docker engine answers a ping.
func DockerAvailable(ctx context.Context) error {
	cli, err := newDockerClient()
	if err != nil {
		return err
	}
	defer cli.Close()
	if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
		return fmt.Errorf("docker engine does not answer: %w", err)
	}
	return nil
}

// slogPrintf adapts a slog.Logger to testcontainers' Printf logger, at
// debug level: its chatter is not ours to show by default.
type slogPrintf struct{ log *slog.Logger }

func (l slogPrintf) Printf(format string, v ...any) {
	l.log.Debug(fmt.Sprintf(format, v...), "from", "testcontainers")
}

var tcLogOnce sync.Once

// routeTestcontainersLog sends testcontainers' global log (used by calls
// that take no logger, such as network creation) to log.
func routeTestcontainersLog(log *slog.Logger) {
	tcLogOnce.Do(func() { tclog.SetDefault(slogPrintf{log: log}) })
}
