package config

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// withStore is minimal with a store: block appended.
func withStore(store string) string {
	return minimal + "store:\n" + store
}

func TestParseEtcd(t *testing.T) {
	def := Default().Store.Etcd
	tests := []struct {
		name  string
		store string
		want  func(e *Etcd) // turns the defaults into the expected settings
	}{
		{
			name:  "endpoints only",
			store: "  backend: etcd\n  etcd: {endpoints: [http://127.0.0.1:2379]}\n",
			want:  func(e *Etcd) { e.Endpoints = []string{"http://127.0.0.1:2379"} },
		},
		{
			name: "auth with password from the environment",
			store: `  backend: etcd
  etcd:
    endpoints: [https://etcd-1:2379, https://etcd-2:2379]
    username: socialroute
    password: ${ETCD_PASSWORD}
`,
			want: func(e *Etcd) {
				e.Endpoints = []string{"https://etcd-1:2379", "https://etcd-2:2379"}
				e.Username = "socialroute"
				e.Password = testEtcdPass
			},
		},
		{
			name: "tls with https endpoints, IPv6 included",
			store: `  backend: etcd
  etcd:
    endpoints: ["https://[fd00::1]:2379", https://ETCD-1.example:2379]
    tls: {ca_file: ca.pem, cert_file: client.pem, key_file: client-key.pem}
`,
			want: func(e *Etcd) {
				e.Endpoints = []string{"https://[fd00::1]:2379", "https://ETCD-1.example:2379"}
				e.TLS = EtcdTLS{CAFile: "ca.pem", CertFile: "client.pem", KeyFile: "client-key.pem"}
			},
		},
		{
			name: "server name alone",
			store: `  backend: etcd
  etcd:
    endpoints: [https://10.0.0.1:2379]
    tls: {server_name: etcd.internal}
`,
			want: func(e *Etcd) {
				e.Endpoints = []string{"https://10.0.0.1:2379"}
				e.TLS = EtcdTLS{ServerName: "etcd.internal"}
			},
		},
		{
			name: "limits",
			store: `  backend: etcd
  etcd:
    endpoints: [http://etcd:1, http://etcd:65535]
    prefix: /
    dial_timeout: 1ns
    request_timeout: 1h
    lease_ttl: 2s
    replica: ` + strings.Repeat("r", 64) + `
`,
			want: func(e *Etcd) {
				e.Endpoints = []string{"http://etcd:1", "http://etcd:65535"}
				e.Prefix = "/"
				e.DialTimeout = Duration(time.Nanosecond)
				e.RequestTimeout = Duration(time.Hour)
				e.LeaseTTL = Duration(2 * time.Second)
				e.Replica = strings.Repeat("r", 64)
			},
		},
		{
			name:  "longest lease",
			store: "  backend: etcd\n  etcd: {endpoints: [http://etcd:2379], lease_ttl: 5m, replica: Host_1.a-b}\n",
			want: func(e *Etcd) {
				e.Endpoints = []string{"http://etcd:2379"}
				e.LeaseTTL = Duration(5 * time.Minute)
				e.Replica = "Host_1.a-b"
			},
		},
		{
			// Settings for etcd stay, unchecked, while bbolt is in use.
			name: "bbolt ignores etcd settings",
			store: `  backend: bbolt
  etcd:
    endpoints: [etcd-1:2379]
    prefix: nope
    password: ${ETCD_PASSWORD}
    lease_ttl: 0s
    tls: {cert_file: client.pem}
`,
			want: func(e *Etcd) {
				e.Endpoints = []string{"etcd-1:2379"}
				e.Prefix = "nope"
				e.Password = testEtcdPass
				e.LeaseTTL = 0
				e.TLS = EtcdTLS{CertFile: "client.pem"}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(withStore(tt.store)), lookup(fakeEnv()))
			if err != nil {
				t.Fatal(err)
			}
			want := def
			tt.want(&want)
			if got := cfg.Store.Etcd; !reflect.DeepEqual(got, want) {
				t.Errorf("store.etcd =\n%+v\nwant\n%+v", got, want)
			}
			if got, want := cfg.Store.Etcd.Password.Value(), want.Password.Value(); got != want {
				t.Errorf("password = %q, want %q", got, want)
			}
		})
	}
}

// TestParseEtcdNeedsNoPath: the bbolt file is not used with etcd.
func TestParseEtcdNeedsNoPath(t *testing.T) {
	cfg, err := Parse([]byte(withStore("  backend: etcd\n  path: \"\"\n  etcd: {endpoints: [http://etcd:2379]}\n")), lookup(fakeEnv()))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Store.Backend != "etcd" || cfg.Store.Path != "" {
		t.Errorf("store = %+v", cfg.Store)
	}
}

func TestEtcdTLSEnabled(t *testing.T) {
	tests := []struct {
		tls  EtcdTLS
		want bool
	}{
		{EtcdTLS{}, false},
		{EtcdTLS{CAFile: "ca.pem"}, true},
		{EtcdTLS{CertFile: "c.pem"}, true},
		{EtcdTLS{KeyFile: "k.pem"}, true},
		{EtcdTLS{ServerName: "etcd"}, true},
	}
	for _, tt := range tests {
		if got := tt.tls.Enabled(); got != tt.want {
			t.Errorf("%+v.Enabled() = %v, want %v", tt.tls, got, tt.want)
		}
	}
}

// TestEtcdPasswordNeverShown prints a config holding an etcd password, and
// makes Validate complain about the settings around it, from the
// environment and written in the file.
func TestEtcdPasswordNeverShown(t *testing.T) {
	const literal = "etcdpass-written-in-the-file"
	valid := withStore("  backend: etcd\n  etcd: {endpoints: [http://etcd:2379], username: sr, password: \"${ETCD_PASSWORD}\"}\n")
	cfg, err := Parse([]byte(valid), lookup(fakeEnv()))
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		outputs[f] = fmt.Sprintf(f, *cfg)
		outputs[f+" store"] = fmt.Sprintf(f, cfg.Store)
	}
	j, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	outputs["json"] = string(j)
	y, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	outputs["yaml"] = string(y)

	for i, doc := range []string{
		withStore("  backend: etcd\n  etcd: {endpoints: [http://etcd:2379], password: \"${ETCD_PASSWORD}\"}\n"),
		withStore("  backend: etcd\n  etcd: {endpoints: [http://etcd:2379], password: " + literal + "}\n"),
		withStore("  backend: etcd\n  etcd: {endpoints: [], username: sr, password: \"${ETCD_PASSWORD}\", lease_ttl: 1s}\n"),
		withStore("  backend: etcd\n  etcd: {endpoints: ['http://sr:" + literal + "@etcd:2379'], password: \"${ETCD_PASSWORD}\"}\n"),
		withStore("  backend: etcd\n  etcd: {endpoints: [http://etcd:2379], username: sr, password: \"${ETCD_PASSWORD}\", prefix: x}\n"),
	} {
		_, err := Parse([]byte(doc), lookup(fakeEnv()))
		if err == nil {
			t.Fatalf("document %d: Parse succeeded", i)
		}
		outputs[fmt.Sprintf("error %d", i)] = err.Error()
	}

	for name, out := range outputs {
		assertNoSecrets(t, out)
		if strings.Contains(out, literal) {
			t.Errorf("%s leaks the password:\n%s", name, out)
		}
	}
	for _, name := range []string{"%+v", "json", "yaml"} {
		if !strings.Contains(outputs[name], "[redacted]") {
			t.Errorf("%s does not show [redacted]:\n%s", name, outputs[name])
		}
	}
}
