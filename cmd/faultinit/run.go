package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/faultline/faultline/sut/runtime/linkpump"
	"github.com/faultline/faultline/sut/runtime/powerfs"
)

type runOptions struct {
	disk, durable  string // powerfs mount point and what lies below it
	listen, target string // link forwarder
	socket         string
	node           []string
}

func parseRun(args []string) (runOptions, error) {
	o := runOptions{socket: ctlSocket}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.StringVar(&o.disk, "disk", "", "mount a powerfs here (the node's data directory)")
	fs.StringVar(&o.durable, "durable", "", "the directory below the powerfs: what survives a power failure")
	forward := fs.String("forward", "", "LISTEN=TARGET: forward peer streams through link faults")
	fs.StringVar(&o.socket, "socket", ctlSocket, "control socket")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.node = fs.Args()
	if len(o.node) == 0 {
		return o, errors.New("run: no node command after --")
	}
	if (o.disk == "") != (o.durable == "") {
		return o, errors.New("run: --disk and --durable go together")
	}
	if *forward != "" {
		var ok bool
		if o.listen, o.target, ok = strings.Cut(*forward, "="); !ok || o.listen == "" || o.target == "" {
			return o, fmt.Errorf("run: --forward %q: want LISTEN=TARGET", *forward)
		}
	}
	return o, nil
}

// call is a request and the connection to answer it on.
type call struct {
	req  request
	conn net.Conn
}

// run mounts, forwards, starts the node and serves requests until the
// node ends. Every path out unmounts the disk.
func run(o runOptions) (int, error) {
	var disk *powerfs.Disk
	if o.disk != "" {
		var err error
		if disk, err = powerfs.Mount(o.disk, o.durable); err != nil {
			return 1, err
		}
		defer disk.Close()
	}
	var fwd *linkpump.Forwarder
	if o.listen != "" {
		var err error
		if fwd, err = linkpump.Forward(o.listen, o.target); err != nil {
			return 1, err
		}
		defer fwd.Close()
	}
	_ = os.Remove(o.socket) // left by a container that was killed
	ln, err := net.Listen("unix", o.socket)
	if err != nil {
		return 1, fmt.Errorf("control socket: %w", err)
	}
	defer ln.Close()
	calls := make(chan call)
	go accept(ln, calls)

	cmd := exec.Command(o.node[0], o.node[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if o.disk != "" {
		// The working directory was resolved before the mount: enter the
		// mount, not the directory it hides.
		cmd.Dir = o.disk
	}
	if err := cmd.Start(); err != nil {
		return 1, fmt.Errorf("start %s: %w", o.node[0], err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)

	for {
		select {
		case err := <-exited:
			// The node ended by itself or on a signal: the kernel would
			// write its page cache back.
			return exitCode(err), syncDisk(disk)
		case s := <-sigs:
			_ = cmd.Process.Signal(s)
		case c := <-calls:
			if c.req.Op == "links" {
				answer(c, linksOf(fwd, c.req))
				continue
			}
			_ = cmd.Process.Kill()
			<-exited
			resp := endNode(disk, c.req)
			answer(c, resp)
			awaitClose(c.conn)
			return 137, nil
		}
	}
}

// endNode drops or keeps the page cache of a killed node, per req.
func endNode(disk *powerfs.Disk, req request) Response {
	if req.Op != "power-fail" {
		if err := syncDisk(disk); err != nil {
			return Response{Error: err.Error()}
		}
		return Response{}
	}
	if disk == nil {
		return Response{Error: "power-fail: the node's data directory is not on powerfs (run --disk)"}
	}
	lost, err := disk.PowerFail(req.Loss, rand.New(rand.NewPCG(req.Seed, req.Stream)))
	resp := Response{Lost: lost}
	if err != nil {
		resp.Error = err.Error()
	}
	return resp
}

func linksOf(fwd *linkpump.Forwarder, req request) Response {
	if fwd == nil {
		return Response{Error: "links: no forwarder (run --forward)"}
	}
	fwd.SetLinks(*req.Links)
	return Response{}
}

func syncDisk(disk *powerfs.Disk) error {
	if disk == nil {
		return nil
	}
	return disk.Sync()
}

func exitCode(err error) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		return ee.ExitCode()
	default:
		return 137
	}
}

func accept(ln net.Listener, calls chan<- call) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			var req request
			if err := json.NewDecoder(conn).Decode(&req); err != nil {
				_ = json.NewEncoder(conn).Encode(Response{Error: "bad request: " + err.Error()})
				conn.Close()
				return
			}
			calls <- call{req: req, conn: conn}
		}()
	}
}

func answer(c call, resp Response) {
	_ = json.NewEncoder(c.conn).Encode(resp)
	if c.req.Op == "links" {
		c.conn.Close()
	}
}

// awaitClose waits until the client has read the answer and hung up (or
// a few seconds), so that ending the container does not kill it first.
func awaitClose(conn net.Conn) {
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.Copy(io.Discard, conn)
	conn.Close()
}
