// Command faultinit is the first process of a docker node whose campaign
// plays faults below the system: it puts the node's data directory on a
// powerfs mount (power loss) and stands a link forwarder in front of the
// node's peer port (link faults), then starts the node and answers the
// runtime's requests on a unix socket. The runtime reaches it with docker
// exec of this same binary.
//
//	faultinit run [--disk DIR --durable DIR] [--forward LISTEN=TARGET] -- NODE [ARGS...]
//	faultinit power-fail --loss unsynced|torn --seed N --stream N   kill the node, drop unsynced writes, end the container
//	faultinit crash                                                kill the node, keep the page cache (it reaches the disk), end the container
//	faultinit links JSON                                           replace the forwarder's link faults (linkpump.Links)
//
// The page cache lives in this process, so it dies with the container:
// every way a node ends other than a power failure (a crash, SIGTERM, the
// node exiting by itself) first syncs the cache to the durable directory,
// as the kernel would write it back, and only a power-fail request drops
// it. The mount lives in the container's mount namespace: it is gone when
// the container ends, whatever ends it.
package main

import (
	"fmt"
	"os"
)

// ctlSocket is where run listens for requests.
const ctlSocket = "/faultline-ctl.sock"

func main() {
	code, err := dispatch(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "faultinit:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func usage() error {
	return fmt.Errorf("usage: faultinit run [--disk DIR --durable DIR] [--forward LISTEN=TARGET] -- NODE [ARGS...] | " +
		"power-fail --loss unsynced|torn --seed N --stream N | crash | links JSON")
}

func dispatch(args []string) (int, error) {
	if len(args) == 0 {
		return 2, usage()
	}
	switch args[0] {
	case "run":
		o, err := parseRun(args[1:])
		if err != nil {
			return 2, err
		}
		return run(o)
	case "power-fail", "crash", "links":
		req, err := parseRequest(args[0], args[1:])
		if err != nil {
			return 2, err
		}
		if _, err := ask(ctlSocket, req, os.Stdout); err != nil {
			return 1, err
		}
		return 0, nil
	default:
		return 2, usage()
	}
}
