// Package etcdtest runs real etcd clusters in the test process, on
// loopback, so that the etcd store and several socialroute replicas can be
// tested against the same server code operators run.
package etcdtest
