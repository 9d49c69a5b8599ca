package app

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/socialroute/socialroute/internal/config"
	"github.com/socialroute/socialroute/store"
)

// OpenStore opens the store the configuration names: the bbolt file at
// store.path, or the etcd cluster under store.etcd.
func OpenStore(c config.Store, opts store.Options) (*store.Store, error) {
	if c.Backend != "etcd" {
		return store.Open(c.Path, opts)
	}
	eo, err := EtcdOptions(c.Etcd)
	if err != nil {
		return nil, err
	}
	return store.OpenEtcd(eo, opts)
}

// StoreName says where the configured store is, for messages: "the
// database file PATH" or "etcd ENDPOINTS under PREFIX".
func StoreName(c config.Store) string {
	if c.Backend == "etcd" {
		return fmt.Sprintf("etcd %s under %s", strings.Join(c.Etcd.Endpoints, ","), c.Etcd.Prefix)
	}
	return "the database file " + c.Path
}

// EtcdOptions turns store.etcd into the store's options, reading the TLS
// files it names.
func EtcdOptions(c config.Etcd) (store.EtcdOptions, error) {
	eo := store.EtcdOptions{
		Endpoints:      c.Endpoints,
		Prefix:         c.Prefix,
		Username:       c.Username,
		Password:       c.Password.Value(),
		DialTimeout:    time.Duration(c.DialTimeout),
		RequestTimeout: time.Duration(c.RequestTimeout),
		LeaseTTL:       time.Duration(c.LeaseTTL),
		Replica:        c.Replica,
	}
	if !c.TLS.Enabled() {
		for _, ep := range c.Endpoints {
			if strings.HasPrefix(ep, "https://") {
				// https without tls settings: the system's roots.
				eo.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
				break
			}
		}
		return eo, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.TLS.ServerName}
	if c.TLS.CAFile != "" {
		pem, err := os.ReadFile(c.TLS.CAFile)
		if err != nil {
			return eo, fmt.Errorf("store.etcd.tls.ca_file: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return eo, fmt.Errorf("store.etcd.tls.ca_file %s: %w", c.TLS.CAFile, errors.New("no PEM certificate in it"))
		}
	}
	if c.TLS.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.TLS.CertFile, c.TLS.KeyFile)
		if err != nil {
			return eo, fmt.Errorf("store.etcd.tls.cert_file/key_file: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	eo.TLS = tc
	return eo, nil
}
