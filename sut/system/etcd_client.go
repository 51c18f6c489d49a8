package system

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/faultline/faultline/sut/client"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// etcdAppendAttempts bounds the read-then-compare rounds of one append: each
// conflict means another append won that round.
const etcdAppendAttempts = 20

// etcdClient performs the workload through etcd's own Go client. Values are
// stored as JSON; cas is a transaction comparing the value; append reads
// the list and writes it back in a transaction comparing the key's
// modification revision, and tries again on conflict.
type etcdClient struct {
	opt ClientOptions

	mu    sync.Mutex
	addrs map[string]string
	cli   *clientv3.Client
	err   error // why cli is nil
}

func newEtcdClient(addrs map[string]string, opt ClientOptions) *etcdClient {
	c := &etcdClient{opt: opt, addrs: maps.Clone(addrs)}
	c.cli, c.err = dialEtcd(c.addrs)
	return c
}

// dialEtcd makes a client of every node in addrs. It does not wait for a
// connection: an unreachable node fails its requests, not the dial.
func dialEtcd(addrs map[string]string) (*clientv3.Client, error) {
	if len(addrs) == 0 {
		return nil, errors.New("etcd client: no node addresses")
	}
	eps := make([]string, 0, len(addrs))
	for _, id := range slices.Sorted(maps.Keys(addrs)) {
		if err := client.CheckLoopback(addrs[id]); err != nil {
			return nil, err
		}
		eps = append(eps, etcdURL(addrs[id]))
	}
	return clientv3.New(clientv3.Config{Endpoints: eps, Logger: zap.NewNop()})
}

func (c *etcdClient) client() (*clientv3.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cli == nil {
		return nil, Definite(fmt.Errorf("etcd client: %w", c.err))
	}
	return c.cli, nil
}

// attempt runs op under its own timeout, as often as MaxAttempts allows
// while it fails definitely (nothing applied, so trying again is safe; the
// client's balancer sends the next try to another node).
func (c *etcdClient) attempt(ctx context.Context, op func(ctx context.Context, cli *clientv3.Client) error) error {
	cli, err := c.client()
	if err != nil {
		return err
	}
	tries := max(c.opt.MaxAttempts, 1)
	for i := 0; ; i++ {
		actx, cancel := context.WithTimeout(clientv3.WithRequireLeader(ctx), c.opt.Timeout)
		err = classifyEtcd(op(actx, cli))
		cancel()
		if err == nil || !IsDefinite(err) || i+1 >= tries || ctx.Err() != nil {
			return err
		}
	}
}

func (c *etcdClient) Read(ctx context.Context, key string, stale bool) (any, bool, string, error) {
	var opts []clientv3.OpOption
	if stale {
		opts = append(opts, clientv3.WithSerializable())
	}
	var (
		value any
		found bool
	)
	err := c.attempt(ctx, func(ctx context.Context, cli *clientv3.Client) error {
		resp, err := cli.Get(ctx, key, opts...)
		if err != nil {
			return err
		}
		if len(resp.Kvs) == 0 {
			value, found = nil, false
			return nil
		}
		v, err := decodeEtcdValue(resp.Kvs[0].Value)
		if err != nil {
			return Definite(fmt.Errorf("etcd client: key %s: %w", key, err))
		}
		value, found = v, true
		return nil
	})
	return value, found, "", err
}

func (c *etcdClient) Write(ctx context.Context, key string, value any) (string, error) {
	data, err := json.Marshal(value)
	if err != nil {
		return "", Definite(err)
	}
	return "", c.attempt(ctx, func(ctx context.Context, cli *clientv3.Client) error {
		_, err := cli.Put(ctx, key, string(data))
		return err
	})
}

func (c *etcdClient) Cas(ctx context.Context, key string, expect, value any) (bool, string, error) {
	want, err := json.Marshal(expect)
	if err != nil {
		return false, "", Definite(err)
	}
	data, err := json.Marshal(value)
	if err != nil {
		return false, "", Definite(err)
	}
	var swapped bool
	err = c.attempt(ctx, func(ctx context.Context, cli *clientv3.Client) error {
		resp, err := cli.Txn(ctx).
			If(clientv3.Compare(clientv3.Value(key), "=", string(want))).
			Then(clientv3.OpPut(key, string(data))).
			Commit()
		if err != nil {
			return err
		}
		swapped = resp.Succeeded
		return nil
	})
	return swapped, "", err
}

// Append reads the list with its modification revision and writes it back
// extended, in a transaction that applies only if the key is unchanged. A
// conflict applied nothing, so another round is safe; an indefinite round
// ends the operation (it may yet have applied).
func (c *etcdClient) Append(ctx context.Context, key string, value any) (string, error) {
	for range etcdAppendAttempts {
		var list []any
		var rev int64
		err := c.attempt(ctx, func(ctx context.Context, cli *clientv3.Client) error {
			resp, err := cli.Get(ctx, key)
			if err != nil {
				return err
			}
			list, rev = nil, 0
			if len(resp.Kvs) == 0 {
				return nil
			}
			rev = resp.Kvs[0].ModRevision
			v, err := decodeEtcdValue(resp.Kvs[0].Value)
			if err != nil {
				return Definite(fmt.Errorf("etcd client: key %s: %w", key, err))
			}
			l, ok := v.([]any)
			if !ok {
				return Definite(fmt.Errorf("etcd client: key %s holds %s, not a list", key, resp.Kvs[0].Value))
			}
			list = l
			return nil
		})
		if err != nil {
			// Nothing was written yet: whatever the read's error, the
			// append certainly did not happen.
			return "", Definite(err)
		}
		data, err := json.Marshal(append(list, value))
		if err != nil {
			return "", Definite(err)
		}
		var won bool
		err = c.attempt(ctx, func(ctx context.Context, cli *clientv3.Client) error {
			resp, err := cli.Txn(ctx).
				If(clientv3.Compare(clientv3.ModRevision(key), "=", rev)).
				Then(clientv3.OpPut(key, string(data))).
				Commit()
			if err != nil {
				return err
			}
			won = resp.Succeeded
			return nil
		})
		if err != nil || won {
			return "", err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return "", Definite(fmt.Errorf("etcd client: append to %s lost the race %d times", key, etcdAppendAttempts))
}

// decodeEtcdValue reads a stored JSON value, numbers as json.Number.
func decodeEtcdValue(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("stored value %q is not JSON: %w", b, err)
	}
	return v, nil
}

// SetAddr and RemoveAddr move the client's endpoints with the cluster.
func (c *etcdClient) SetAddr(id, addr string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.addrs[id] = addr
	c.syncEndpoints()
}

func (c *etcdClient) RemoveAddr(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.addrs, id)
	c.syncEndpoints()
}

func (c *etcdClient) syncEndpoints() {
	if c.cli == nil {
		c.cli, c.err = dialEtcd(c.addrs)
		return
	}
	eps := make([]string, 0, len(c.addrs))
	for _, id := range slices.Sorted(maps.Keys(c.addrs)) {
		eps = append(eps, etcdURL(c.addrs[id]))
	}
	c.cli.SetEndpoints(eps...)
}

// Prefer does nothing: etcd's client balances over every endpoint, and
// reads and writes reach the leader through whichever member answers.
func (c *etcdClient) Prefer(string) {}

func (c *etcdClient) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cli != nil {
		_ = c.cli.Close()
	}
}
