package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/faultline/faultline/sut/runtime/linkpump"
	"github.com/faultline/faultline/sut/runtime/powerfs"
)

// request is one line of JSON on the control socket.
type request struct {
	Op     string          `json:"op"` // power-fail, crash, links
	Loss   powerfs.Loss    `json:"loss,omitempty"`
	Seed   uint64          `json:"seed,omitempty"`
	Stream uint64          `json:"stream,omitempty"`
	Links  *linkpump.Links `json:"links,omitempty"`
}

// Response is the one line of JSON that answers a request (and what the
// client subcommands print).
type Response struct {
	Error string             `json:"error,omitempty"`
	Lost  []powerfs.FileLoss `json:"lost,omitempty"`
}

func parseRequest(op string, args []string) (request, error) {
	req := request{Op: op}
	switch op {
	case "power-fail":
		fs := flag.NewFlagSet(op, flag.ContinueOnError)
		loss := fs.String("loss", string(powerfs.LoseUnsynced), "unsynced or torn")
		fs.Uint64Var(&req.Seed, "seed", 0, "seed of the torn cuts")
		fs.Uint64Var(&req.Stream, "stream", 0, "stream of the torn cuts' generator")
		if err := fs.Parse(args); err != nil {
			return req, err
		}
		if fs.NArg() > 0 {
			return req, fmt.Errorf("power-fail: unexpected argument %q", fs.Arg(0))
		}
		l, err := powerfs.ParseLoss(*loss)
		if err != nil {
			return req, fmt.Errorf("power-fail --loss: %w", err)
		}
		req.Loss = l
	case "crash":
		if len(args) > 0 {
			return req, fmt.Errorf("crash: unexpected argument %q", args[0])
		}
	case "links":
		if len(args) != 1 {
			return req, fmt.Errorf("links: want one JSON argument, got %d arguments", len(args))
		}
		var l linkpump.Links
		if err := json.Unmarshal([]byte(args[0]), &l); err != nil {
			return req, fmt.Errorf("links: %w", err)
		}
		if err := l.Validate(); err != nil {
			return req, fmt.Errorf("links: %w", err)
		}
		req.Links = &l
	}
	return req, nil
}

// ask sends req to the running init and writes its answer to out. It
// closes the connection only after writing the answer: an init that ends
// the container waits for that, so that this process (killed with the
// container) has printed the answer first.
func ask(socket string, req request, out io.Writer) (Response, error) {
	conn, err := net.DialTimeout("unix", socket, 5*time.Second)
	if err != nil {
		return Response{}, fmt.Errorf("%s: is faultinit running? %w", req.Op, err)
	}
	defer conn.Close()
	if err := json.NewEncoder(conn).Encode(req); err != nil {
		return Response{}, fmt.Errorf("%s: send: %w", req.Op, err)
	}
	var resp Response
	if err := json.NewDecoder(bufio.NewReader(conn)).Decode(&resp); err != nil {
		return Response{}, fmt.Errorf("%s: read the answer: %w", req.Op, err)
	}
	if err := json.NewEncoder(out).Encode(resp); err != nil {
		return resp, fmt.Errorf("%s: print the answer: %w", req.Op, err)
	}
	if resp.Error != "" {
		return resp, fmt.Errorf("%s: %s", req.Op, resp.Error)
	}
	return resp, nil
}
