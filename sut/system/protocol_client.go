package system

import (
	"context"

	"github.com/faultline/faultline/sut/client"
)

// protocolClient performs the workload over the HTTP client protocol
// (docs/sut-protocol.md) that raftd serves, through sut/client.
type protocolClient struct{ c *client.Client }

// NewProtocolClient returns a workload client for a server speaking the
// documented HTTP protocol (raftd, or any --system http server).
func NewProtocolClient(addrs map[string]string, opt ClientOptions) Client {
	return protocolClient{c: client.New(addrs, client.Options{
		Timeout:         opt.Timeout,
		ClientID:        opt.ClientID,
		MaxAttempts:     opt.MaxAttempts,
		RetryIndefinite: opt.RetryIndefinite,
	})}
}

// classify marks the protocol client's definite failures as definite.
func classify(err error) error {
	if client.IsDefinite(err) {
		return Definite(err)
	}
	return err
}

func (p protocolClient) Read(ctx context.Context, key string, stale bool) (any, bool, string, error) {
	v, found, node, err := p.c.Get(ctx, key, stale)
	return v, found, node, classify(err)
}

func (p protocolClient) Write(ctx context.Context, key string, value any) (string, error) {
	node, err := p.c.Put(ctx, key, value)
	return node, classify(err)
}

func (p protocolClient) Cas(ctx context.Context, key string, expect, value any) (bool, string, error) {
	ok, node, err := p.c.Cas(ctx, key, expect, value)
	return ok, node, classify(err)
}

func (p protocolClient) Append(ctx context.Context, key string, value any) (string, error) {
	_, node, err := p.c.Append(ctx, key, value)
	return node, classify(err)
}

func (p protocolClient) SetAddr(id, addr string) { p.c.SetAddr(id, addr) }
func (p protocolClient) RemoveAddr(id string)    { p.c.RemoveAddr(id) }
func (p protocolClient) Prefer(id string)        { p.c.Prefer(id) }
func (p protocolClient) Close()                  { p.c.Close() }
