package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/socialroute/socialroute/internal/config"
	"github.com/socialroute/socialroute/internal/etcdtest"
	"github.com/socialroute/socialroute/internal/testutil"
	"github.com/socialroute/socialroute/routing"
	"github.com/socialroute/socialroute/store"
)

// writeCert writes a self-signed certificate and its key as PEM files.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "etcd"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile
}

func TestEtcdOptionsTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeCert(t, dir)
	base := config.Etcd{Endpoints: []string{"https://etcd-1:2379"}, Username: "socialroute", Password: "s3cret-etcd-password"}

	eo, err := EtcdOptions(config.Etcd{Endpoints: []string{"http://127.0.0.1:2379"}})
	if err != nil || eo.TLS != nil {
		t.Errorf("http endpoint: TLS %v, %v; want none", eo.TLS, err)
	}
	eo, err = EtcdOptions(base)
	if err != nil || eo.TLS == nil || eo.TLS.RootCAs != nil {
		t.Errorf("https without tls keys: %+v, %v; want TLS with the system's roots", eo.TLS, err)
	}
	if eo.Password != "s3cret-etcd-password" {
		t.Error("password not passed on")
	}

	c := base
	c.TLS = config.EtcdTLS{CAFile: cert, CertFile: cert, KeyFile: key, ServerName: "etcd.internal"}
	eo, err = EtcdOptions(c)
	if err != nil || eo.TLS.RootCAs == nil || len(eo.TLS.Certificates) != 1 || eo.TLS.ServerName != "etcd.internal" {
		t.Fatalf("full tls: %+v, %v", eo.TLS, err)
	}

	for _, tc := range []struct {
		name, want string
		tls        config.EtcdTLS
	}{
		{"missing CA", "store.etcd.tls.ca_file", config.EtcdTLS{CAFile: filepath.Join(dir, "nope.pem")}},
		{"CA not PEM", "no PEM certificate", config.EtcdTLS{CAFile: key + ".txt"}},
		{"key not matching", "store.etcd.tls.cert_file/key_file", config.EtcdTLS{CertFile: cert, KeyFile: cert}},
	} {
		os.WriteFile(key+".txt", []byte("not pem"), 0o600)
		c := base
		c.TLS = tc.tls
		_, err := EtcdOptions(c)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: the password is in the error: %v", tc.name, err)
		}
	}
}

// A store on an etcd cluster that serves TLS only and has auth enabled,
// as docs/ha.md sets one up: a user whose role reaches only the prefix.
func TestOpenStoreOnEtcdWithTLSAndAuth(t *testing.T) {
	files, err := etcdtest.NewTLSFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cluster := etcdtest.StartWith(t, 1, etcdtest.Options{TLS: files})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	root := cluster.Client(t)
	steps := []func() error{
		func() error { _, err := root.UserAdd(ctx, "root", "root-password"); return err },
		func() error { _, err := root.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := root.RoleAdd(ctx, "socialroute"); return err },
		func() error {
			_, err := root.RoleGrantPermission(ctx, "socialroute", "/sr/", clientv3.GetPrefixRangeEnd("/sr/"), clientv3.PermissionType(clientv3.PermReadWrite))
			return err
		},
		func() error { _, err := root.UserAdd(ctx, "socialroute", "s3cret-etcd-password"); return err },
		func() error { _, err := root.UserGrantRole(ctx, "socialroute", "socialroute"); return err },
		func() error { _, err := root.AuthEnable(ctx); return err },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("set up auth, step %d: %v", i, err)
		}
	}

	c := config.Store{Backend: "etcd", Etcd: config.Etcd{
		Endpoints: cluster.Endpoints(), Prefix: "/sr/", Username: "socialroute", Password: "s3cret-etcd-password",
		// Generous: checking a password costs etcd a bcrypt round, slow
		// under the race detector on a busy machine.
		DialTimeout: config.Duration(20 * time.Second), RequestTimeout: config.Duration(10 * time.Second),
		LeaseTTL: config.Duration(2 * time.Second), TLS: config.EtcdTLS{CAFile: files.CAFile},
	}}
	st, err := OpenStore(c, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	res, err := st.Ingest(ctx, []routing.Post{{Source: "g", ExternalID: "1", Platform: "x", Text: "my order never arrived"}})
	if err != nil {
		t.Fatal(err)
	}
	lctx, stop := context.WithCancel(ctx)
	led := make(chan struct{})
	go func() { defer close(led); st.Lead(lctx, func(ctx context.Context) { <-ctx.Done() }) }()
	defer func() { stop(); <-led }()
	testutil.Eventually(t, "leadership under the prefix's role", func() bool { return st.Role() == store.RoleLeader })
	if _, err := st.BeginAttempt(res[0].ID, routing.Decision{Class: routing.Support, Channel: "C1"}); err != nil {
		t.Fatalf("a delivery attempt with the prefix's role: %v", err)
	}

	for _, tc := range []struct {
		name, want string
		change     func(*config.Store)
	}{
		{"wrong password", "authentication failed", func(c *config.Store) { c.Etcd.Password = "not-the-password" }},
		{"outside the role's prefix", "permission denied", func(c *config.Store) { c.Etcd.Prefix = "/other/" }},
		{"servers not trusted", "its certificate trusted (store.etcd.tls)", func(c *config.Store) {
			c.Etcd.TLS, c.Etcd.DialTimeout = config.EtcdTLS{}, config.Duration(time.Second)
		}},
	} {
		bad := c
		tc.change(&bad)
		st, err := OpenStore(bad, store.Options{})
		if err == nil {
			st.Close()
			t.Errorf("%s: opened", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want it to say %q", tc.name, err, tc.want)
		}
		if strings.Contains(err.Error(), "password\"") || strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "not-the-password") {
			t.Errorf("%s: a password is in the error: %v", tc.name, err)
		}
	}
}
