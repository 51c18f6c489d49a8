package system

import (
	"context"
	"errors"
	"strings"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// etcdRefusals are the error texts etcd (server or client) gives when it
// turned a request away before it could take effect: the member knew no
// leader (the client asks it to refuse then), raft dropped the proposal
// instead of appending it, the server was overloaded or the request too
// large, or the client had no connection to send it on.
var etcdRefusals = []string{
	"etcdserver: no leader",
	"etcdserver: too many requests",
	"etcdserver: request is too large",
	"etcdserver: unhealthy cluster",
	"etcdserver: not capable",
	"etcdserver: rpc not supported for learner",
	"raft proposal dropped",
	"there is no address available",
	"there is no connection available",
}

// etcdUnsent are transport texts that say the connection was never made,
// so nothing was sent.
var etcdUnsent = []string{
	"connect: connection refused",
	"Error while dialing",
	"no such host",
}

// classifyEtcd marks the errors after which the operation certainly did not
// take effect as definite. Everything else — a timeout, a cancelled or
// broken connection after sending, "request timed out", "leader changed",
// "server stopped" — may have applied and stays indefinite.
func classifyEtcd(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return err
	}
	st, ok := status.FromError(err)
	if ok {
		switch st.Code() {
		case codes.InvalidArgument, codes.FailedPrecondition, codes.PermissionDenied,
			codes.Unauthenticated, codes.OutOfRange, codes.ResourceExhausted, codes.Unimplemented:
			return Definite(err)
		case codes.DeadlineExceeded, codes.Canceled:
			return err
		}
	}
	desc := rpctypes.ErrorDesc(err)
	for _, s := range etcdRefusals {
		if desc == s {
			return Definite(err)
		}
	}
	if ok && st.Code() == codes.Unavailable {
		for _, s := range etcdUnsent {
			if strings.Contains(desc, s) {
				return Definite(err)
			}
		}
	}
	return err
}
