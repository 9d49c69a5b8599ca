package config

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Bounds of store.etcd.lease_ttl. Below the minimum a leader loses its
// lease to an ordinary network hiccup; above the maximum nobody delivers
// for too long after it dies.
const (
	minLeaseTTL = 2 * time.Second
	maxLeaseTTL = 5 * time.Minute
)

// maxReplica is the longest store.etcd.replica, in characters.
const maxReplica = 64

var replicaRe = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

func (v *validator) etcd(e *Etcd) {
	v.etcdEndpoints(e.Endpoints, e.TLS.Enabled())

	switch p := e.Prefix; {
	case p == "":
		v.fail("store.etcd.prefix", "empty (want a path such as /socialroute/)")
	case !strings.HasPrefix(p, "/") || !strings.HasSuffix(p, "/"):
		v.fail("store.etcd.prefix", "%s does not start and end with \"/\" (e.g. /socialroute/)", v.q("store.etcd.prefix", p))
	case strings.ContainsFunc(p, func(r rune) bool { return unicode.IsSpace(r) || r == 0 }):
		v.fail("store.etcd.prefix", "%s contains white space or a NUL byte", v.q("store.etcd.prefix", p))
	}

	// The password is never quoted, nor said to be anything but set or empty.
	switch {
	case e.Username == "" && e.Password.Value() != "":
		v.fail("store.etcd.password", "set without store.etcd.username")
	case e.Username != "" && e.Password.Value() == "":
		v.fail("store.etcd.password", "empty, but store.etcd.username is set")
	}

	if e.DialTimeout <= 0 {
		v.fail("store.etcd.dial_timeout", "must be positive, got %s", e.DialTimeout)
	}
	if e.RequestTimeout <= 0 {
		v.fail("store.etcd.request_timeout", "must be positive, got %s", e.RequestTimeout)
	}
	switch ttl := time.Duration(e.LeaseTTL); {
	case ttl < minLeaseTTL || ttl > maxLeaseTTL:
		v.fail("store.etcd.lease_ttl", "must be from 2s to 5m, got %s", e.LeaseTTL)
	case ttl%time.Second != 0:
		v.fail("store.etcd.lease_ttl", "must be whole seconds (etcd leases are), got %s", e.LeaseTTL)
	}

	switch r := e.Replica; {
	case r == "":
		// The host name, looked up where it is needed.
	case !replicaRe.MatchString(r):
		v.fail("store.etcd.replica", "%s holds characters other than letters, digits, \".\", \"-\" and \"_\"", v.q("store.etcd.replica", r))
	case len(r) > maxReplica:
		v.fail("store.etcd.replica", "longer than %d characters", maxReplica)
	}

	switch t := e.TLS; {
	case t.CertFile != "" && t.KeyFile == "":
		v.fail("store.etcd.tls.key_file", "empty, but store.etcd.tls.cert_file is set (want both or neither)")
	case t.KeyFile != "" && t.CertFile == "":
		v.fail("store.etcd.tls.cert_file", "empty, but store.etcd.tls.key_file is set (want both or neither)")
	}
}

// etcdEndpoints checks the client URLs: scheme://host:port and nothing
// else, each once, all https when TLS settings are given.
func (v *validator) etcdEndpoints(endpoints []string, tls bool) {
	if len(endpoints) == 0 {
		v.fail("store.etcd.endpoints", "no endpoints configured (want at least one client URL, e.g. https://etcd-1:2379)")
		return
	}
	seen := map[string]int{} // scheme://host:port → index of its first use
	for i, raw := range endpoints {
		p := fmt.Sprintf("store.etcd.endpoints[%d]", i)
		// A value with "@" may hold a password, so it is never quoted.
		if raw == "" {
			v.fail(p, "empty")
			continue
		}
		if strings.Contains(raw, "@") {
			v.fail(p, "must not hold a user name or password (use store.etcd.username and store.etcd.password)")
			continue
		}
		if !strings.Contains(raw, "://") {
			v.fail(p, "%s is not a URL such as https://etcd-1:2379 (want http:// or https://, a host and a port)", v.q(p, raw))
			continue
		}
		u, err := url.Parse(raw)
		if err != nil {
			v.fail(p, "%s is not a valid URL (want http:// or https://, a host and a port)", v.q(p, raw))
			continue
		}
		key := u.Scheme + "://" + strings.ToLower(u.Host)
		first, dup := seen[key]
		switch {
		case u.Scheme != "http" && u.Scheme != "https":
			v.fail(p, "%s does not use http or https", v.q(p, raw))
		case u.Hostname() == "":
			v.fail(p, "%s has no host", v.q(p, raw))
		case u.Port() == "":
			v.fail(p, "%s has no port (etcd's client port is usually 2379)", v.q(p, raw))
		case !validPort(u.Port()):
			v.fail(p, "%s does not end in a port number 1..65535", v.q(p, raw))
		case u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
			v.fail(p, "%s must not have a path, query or fragment (want scheme://host:port)", v.q(p, raw))
		case dup:
			v.fail(p, "%s is already listed as store.etcd.endpoints[%d]", v.q(p, raw), first)
		case tls && u.Scheme == "http":
			seen[key] = i
			v.fail(p, "tls is set but endpoint uses http (want https)")
		default:
			seen[key] = i
		}
	}
}

func validPort(s string) bool {
	n, err := strconv.ParseUint(s, 10, 16)
	return err == nil && n > 0
}
