package app

import (
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

	"github.com/socialroute/socialroute/internal/config"
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
