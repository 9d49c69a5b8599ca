package etcdtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Cluster is an etcd cluster of n members running in this process.
type Cluster struct {
	tls     *TLSFiles
	mu      sync.Mutex
	members []*embed.Etcd
	closing sync.WaitGroup
	urls    []string
}

// Options change how the members run.
type Options struct {
	// TLS, when set, makes the members serve clients over TLS only.
	TLS *TLSFiles
}

// Start starts an n-member cluster with its data under t.TempDir(),
// waits until it serves clients, and stops it when t ends.
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	return StartWith(t, n, Options{})
}

// StartWith is Start with options.
func StartWith(t testing.TB, n int, o Options) *Cluster {
	t.Helper()
	c, err := NewWith(t.TempDir(), n, o)
	if err != nil {
		t.Fatalf("start etcd: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// New starts an n-member cluster with its data under dir. Close stops it.
func New(dir string, n int) (*Cluster, error) { return NewWith(dir, n, Options{}) }

// NewWith is New with options.
func NewWith(dir string, n int, o Options) (*Cluster, error) {
	var err error
	for range 5 { // a port picked free may be taken before etcd binds it
		var c *Cluster
		if c, err = start(dir, n, o); err == nil {
			return c, nil
		}
		if !strings.Contains(err.Error(), "address already in use") {
			return nil, err
		}
	}
	return nil, err
}

func start(dir string, n int, o Options) (*Cluster, error) {
	ports, err := freePorts(2 * n)
	if err != nil {
		return nil, err
	}
	name := func(i int) string { return fmt.Sprintf("m%d", i) }
	var initial []string
	for i := range n {
		initial = append(initial, fmt.Sprintf("%s=http://127.0.0.1:%d", name(i), ports[2*i+1]))
	}
	c := &Cluster{tls: o.TLS}
	cfgs := make([]*embed.Config, n)
	for i := range n {
		cfg := embed.NewConfig()
		cfg.Name = name(i)
		cfg.Dir = filepath.Join(dir, fmt.Sprintf("%s-%d", name(i), ports[2*i]))
		scheme := "http"
		if o.TLS != nil {
			scheme = "https"
			cfg.ClientTLSInfo = transport.TLSInfo{CertFile: o.TLS.CertFile, KeyFile: o.TLS.KeyFile}
		}
		cu, _ := url.Parse(fmt.Sprintf("%s://127.0.0.1:%d", scheme, ports[2*i]))
		pu, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", ports[2*i+1]))
		cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
		cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
		cfg.InitialCluster = strings.Join(initial, ",")
		cfg.InitialClusterToken = fmt.Sprintf("etcdtest-%d", ports[0])
		cfg.TickMs, cfg.ElectionMs = 50, 500
		cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
		cfg.LogLevel = "error"
		cfgs[i] = cfg
		c.urls = append(c.urls, cu.String())
	}
	// Members wait for each other to form the cluster, so they start
	// together.
	errs := make([]error, n)
	c.members = make([]*embed.Etcd, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { c.members[i], errs[i] = embed.StartEtcd(cfgs[i]) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		c.Close()
		return nil, err
	}
	for i, m := range c.members {
		select {
		case <-m.Server.ReadyNotify():
		case err := <-m.Err():
			c.Close()
			return nil, fmt.Errorf("member %d: %w", i, err)
		case <-time.After(30 * time.Second):
			c.Close()
			return nil, fmt.Errorf("member %d: not ready after 30s", i)
		}
	}
	return c, nil
}

// freePorts returns n loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Endpoints are the client URLs of every member, running or not.
func (c *Cluster) Endpoints() []string { return append([]string(nil), c.urls...) }

// Endpoint is member i's client URL.
func (c *Cluster) Endpoint(i int) string { return c.urls[i] }

// Stop stops member i at once, as a crash would, and releases what it
// held; a majority of the others keeps serving.
func (c *Cluster) Stop(i int) {
	c.mu.Lock()
	m := c.members[i]
	c.members[i] = nil
	c.mu.Unlock()
	if m != nil {
		// The member stops serving at once, as a crashed one would; Close
		// then drains open streams (watches, lease keep-alives) for
		// seconds, which nobody needs to wait for until the cluster ends.
		m.Server.HardStop()
		c.closing.Go(func() { m.Close() })
	}
}

// Running reports whether member i runs.
func (c *Cluster) Running(i int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.members[i] != nil
}

// Client returns a client of every member, closed when t ends. Over TLS
// it trusts the cluster's CA; cfg, if given, adds to its configuration
// (user and password, say).
func (c *Cluster) Client(t testing.TB, cfg ...clientv3.Config) *clientv3.Client {
	t.Helper()
	cc := clientv3.Config{}
	if len(cfg) > 0 {
		cc = cfg[0]
	}
	cc.Endpoints, cc.DialTimeout, cc.Logger = c.Endpoints(), 5*time.Second, zap.NewNop()
	if c.tls != nil {
		tc, err := c.tls.ClientConfig()
		if err != nil {
			t.Fatal(err)
		}
		cc.TLS = tc
	}
	cli, err := clientv3.New(cc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// Close stops every member.
func (c *Cluster) Close() error {
	for i := range c.members {
		c.Stop(i)
	}
	c.closing.Wait()
	return nil
}

// Healthy waits until a linearizable read succeeds through cli, or ctx
// ends.
func Healthy(ctx context.Context, cli *clientv3.Client) error {
	for {
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := cli.Get(rctx, "health")
		cancel()
		if err == nil || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Leader is the index of the member that leads the raft group now, or -1.
func (c *Cluster) Leader() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, m := range c.members {
		if m != nil && m.Server.Leader() == m.Server.MemberID() {
			return i
		}
	}
	return -1
}
