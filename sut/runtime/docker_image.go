package runtime

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/moby/moby/client"
)

// containerPort is where every node listens inside its container, for
// clients and peers alike.
const containerPort = 8080

// netfaultPackage is the partition helper copied into every image.
const netfaultPackage = "./cmd/netfault"

// imageDockerfile is the whole image: two static binaries on scratch. No
// base image means nothing is ever pulled.
func imageDockerfile(binName string) string {
	return fmt.Sprintf(`FROM scratch
COPY %[1]s /%[1]s
COPY netfault /netfault
WORKDIR /data
ENTRYPOINT ["/%[1]s"]
`, binName)
}

// imageTag names the image by its content: the binaries and the Dockerfile.
func imageTag(systemName string, node, netfault builtBinary) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n", node.Hash, netfault.Hash, imageDockerfile(systemName))
	return "faultline/" + systemName + ":" + hex.EncodeToString(h.Sum(nil))[:16]
}

// ensureImage builds the node image unless an image with its content tag
// exists already.
func ensureImage(ctx context.Context, cli *client.Client, systemName string, node, netfault builtBinary) (string, error) {
	tag := imageTag(systemName, node, netfault)
	if _, err := cli.ImageInspect(ctx, tag); err == nil {
		return tag, nil
	}
	buildCtx, err := imageContext(systemName, node.Path, netfault.Path)
	if err != nil {
		return "", err
	}
	res, err := cli.ImageBuild(ctx, buildCtx, client.ImageBuildOptions{
		Tags:        []string{tag},
		Remove:      true,
		ForceRemove: true,
		PullParent:  false,
		Labels:      map[string]string{LabelImage: systemName},
	})
	if err != nil {
		return "", fmt.Errorf("build image %s: %w", tag, err)
	}
	defer res.Body.Close()
	if err := readBuildOutput(res.Body); err != nil {
		return "", fmt.Errorf("build image %s: %w", tag, err)
	}
	return tag, nil
}

// readBuildOutput drains the build's JSON message stream (the build only
// completes once it is read) and returns the first error it reports.
func readBuildOutput(r io.Reader) error {
	dec := json.NewDecoder(r)
	var tail []string
	for {
		var msg struct {
			Stream string `json:"stream"`
			Error  string `json:"error"`
		}
		if err := dec.Decode(&msg); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("reading build output: %w", err)
		}
		if msg.Stream != "" {
			tail = append(tail, strings.TrimRight(msg.Stream, "\n"))
			if len(tail) > 20 {
				tail = tail[1:]
			}
		}
		if msg.Error != "" {
			return fmt.Errorf("%s\n%s", msg.Error, strings.Join(tail, "\n"))
		}
	}
}

// imageContext is the tar build context: the Dockerfile and both binaries.
func imageContext(binName, nodeBin, netfaultBin string) (io.Reader, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, mode int64, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(data))}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	if err := add("Dockerfile", 0o644, []byte(imageDockerfile(binName))); err != nil {
		return nil, err
	}
	for name, path := range map[string]string{binName: nodeBin, "netfault": netfaultBin} {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("image context: %w", err)
		}
		if err := add(name, 0o755, data); err != nil {
			return nil, fmt.Errorf("image context: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return &buf, nil
}
