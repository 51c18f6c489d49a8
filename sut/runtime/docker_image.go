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

// faultinitPackage is the first process of a node whose campaign plays
// power or link faults (powerfs mount, link forwarder), copied into every
// image.
const faultinitPackage = "./cmd/faultinit"

// imageRecipe is what a node image is made of: the system's static binary
// on scratch (no base image, so nothing is ever pulled), or a base image the
// user gave, plus the partition helper either way.
type imageRecipe struct {
	system   string
	node     builtBinary // empty when base is set
	base     string      // the user's image, whose entrypoint runs the node
	netfault builtBinary
	init     builtBinary // cmd/faultinit
}

// dockerfile is the whole image.
func (r imageRecipe) dockerfile() string {
	if r.base != "" {
		return fmt.Sprintf("FROM %s\nCOPY netfault /netfault\nCOPY faultinit /faultinit\n", r.base)
	}
	return fmt.Sprintf(`FROM scratch
COPY %[1]s /%[1]s
COPY netfault /netfault
COPY faultinit /faultinit
WORKDIR /data
ENTRYPOINT ["/%[1]s"]
`, r.system)
}

// tag names the image by its content: the binaries and the Dockerfile.
func (r imageRecipe) tag() string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n%s\n", r.node.Hash, r.netfault.Hash, r.init.Hash, r.dockerfile())
	return "faultline/" + r.system + ":" + hex.EncodeToString(h.Sum(nil))[:16]
}

// ensureImage builds the node image unless an image with its content tag
// exists already.
func ensureImage(ctx context.Context, cli *client.Client, r imageRecipe) (string, error) {
	tag := r.tag()
	if _, err := cli.ImageInspect(ctx, tag); err == nil {
		return tag, nil
	}
	buildCtx, err := imageContext(r)
	if err != nil {
		return "", err
	}
	res, err := cli.ImageBuild(ctx, buildCtx, client.ImageBuildOptions{
		Tags:        []string{tag},
		Remove:      true,
		ForceRemove: true,
		PullParent:  false,
		Labels:      map[string]string{LabelImage: r.system},
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

// imageContext is the tar build context: the Dockerfile and the binaries.
func imageContext(r imageRecipe) (io.Reader, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, mode int64, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(data))}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	if err := add("Dockerfile", 0o644, []byte(r.dockerfile())); err != nil {
		return nil, err
	}
	files := map[string]string{"netfault": r.netfault.Path, "faultinit": r.init.Path}
	if r.base == "" {
		files[r.system] = r.node.Path
	}
	for name, path := range files {
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
