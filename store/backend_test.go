package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/socialroute/socialroute/internal/etcdtest"
	"github.com/socialroute/socialroute/internal/testutil"
)

// The tests of the store's behaviour run on both engines: a bbolt file in
// the test's temp dir, and a one-member etcd cluster, started once for
// the package, under a prefix of the test's own.
var etcdCluster *etcdtest.Cluster

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "store-etcd-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	etcdCluster, err = etcdtest.New(dir, 1)
	if err != nil {
		fmt.Fprintln(os.Stderr, "start etcd:", err)
		os.Exit(1)
	}
	code := m.Run()
	etcdCluster.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testDB is where one test's store lives: a bbolt file or an etcd prefix.
// Opening it again opens the same data.
type testDB struct {
	backend string
	path    string      // bbolt
	etcd    EtcdOptions // etcd
}

var prefixes atomic.Int64

// forEachBackend runs fn as a subtest per engine.
func forEachBackend(t *testing.T, fn func(t *testing.T, db testDB)) {
	t.Run("bbolt", func(t *testing.T) {
		fn(t, testDB{backend: "bbolt", path: filepath.Join(t.TempDir(), "socialroute.db")})
	})
	t.Run("etcd", func(t *testing.T) {
		fn(t, testDB{backend: "etcd", etcd: etcdPrefix(t)})
	})
}

// etcdPrefix is a fresh prefix on the package's cluster.
func etcdPrefix(t testing.TB) EtcdOptions {
	return EtcdOptions{
		Endpoints: etcdCluster.Endpoints(),
		Prefix:    fmt.Sprintf("/test/%d/", prefixes.Add(1)),
		LeaseTTL:  2 * time.Second,
		Replica:   t.Name(),
	}
}

// open opens the store.
func (db testDB) open(opts Options) (*Store, error) {
	if db.backend == "bbolt" {
		return Open(db.path, opts)
	}
	return OpenEtcd(db.etcd, opts)
}

// openT opens the store for t and takes the leadership, as the delivery
// worker would (BeginAttempt needs it on etcd); all ends with t.
func (db testDB) openT(t testing.TB, opts Options) *Store {
	t.Helper()
	s, err := db.open(opts)
	if err != nil {
		t.Fatal(err)
	}
	campaign(t, s)
	testutil.Eventually(t, "store becomes leader", func() bool { return s.Role() == RoleLeader })
	return s
}

// campaign has s campaign for the leadership, counting the terms it led,
// until stop is called or t ends; then s is closed.
func campaign(t testing.TB, s *Store) (terms *atomic.Int64, stop context.CancelFunc) {
	terms = new(atomic.Int64)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Lead(ctx, func(ctx context.Context) {
			terms.Add(1)
			<-ctx.Done()
		})
	}()
	t.Cleanup(func() {
		stop()
		<-done
		s.Close()
	})
	return terms, stop
}
