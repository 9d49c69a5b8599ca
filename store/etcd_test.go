package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/socialroute/socialroute/internal/etcdtest"
	"github.com/socialroute/socialroute/internal/testutil"
	"github.com/socialroute/socialroute/routing"
)

// replica opens a store on eo, named name, that campaigns for the
// leadership until t ends.
func replica(t testing.TB, eo EtcdOptions, name string) (*Store, *atomic.Int64, context.CancelFunc) {
	t.Helper()
	eo.Replica = name
	s, err := OpenEtcd(eo, Options{})
	if err != nil {
		t.Fatal(err)
	}
	terms, stop := campaign(t, s)
	return s, terms, stop
}

func TestEtcdOneLeaderAndHandOver(t *testing.T) {
	eo := etcdPrefix(t)
	a, aTerms, stopA := replica(t, eo, "a")
	testutil.Eventually(t, "a leads", func() bool { return a.Role() == RoleLeader })
	b, bTerms, _ := replica(t, eo, "b")
	testutil.Eventually(t, "b follows", func() bool { return b.Role() == RoleFollower })
	if bTerms.Load() != 0 {
		t.Fatal("b led while a did")
	}

	// A leader that stops gives its lease back: the other takes over
	// without waiting for the lease to run out.
	start := time.Now()
	stopA()
	testutil.Eventually(t, "b leads", func() bool { return b.Role() == RoleLeader })
	if took := time.Since(start); took >= eo.LeaseTTL {
		t.Errorf("hand-over took %s, not less than the lease (%s)", took, eo.LeaseTTL)
	}
	if aTerms.Load() != 1 || bTerms.Load() != 1 {
		t.Errorf("terms a=%d b=%d, want 1 each", aTerms.Load(), bTerms.Load())
	}
}

func TestEtcdDeposedLeaderCannotStartDelivery(t *testing.T) {
	eo := etcdPrefix(t)
	a, _, _ := replica(t, eo, "a")
	testutil.Eventually(t, "a leads", func() bool { return a.Role() == RoleLeader })
	res, err := a.Ingest(context.Background(), []routing.Post{post("g", "1", "my order never arrived")})
	if err != nil {
		t.Fatal(err)
	}
	// Take the leadership away behind a's back, as an expired lease would
	// while a is cut off.
	e := a.eng.(*etcdEngine)
	e.mu.Lock()
	f := *e.fence
	e.mu.Unlock()
	cli := etcdCluster.Client(t)
	if _, err := cli.Delete(context.Background(), f.key); err != nil {
		t.Fatal(err)
	}
	_, err = a.BeginAttempt(res[0].ID, routing.Decision{Class: routing.Support, Channel: "C1"})
	if !errors.Is(err, ErrNotLeader) {
		t.Fatalf("BeginAttempt by a deposed leader: %v, want ErrNotLeader", err)
	}
	if rec, _ := a.Get(res[0].ID); rec.Decision != nil {
		t.Errorf("the refused attempt left a decision: %+v", rec.Decision)
	}
}

func TestEtcdRulesChangedElsewhere(t *testing.T) {
	eo := etcdPrefix(t)
	a, _, _ := replica(t, eo, "a")
	b, _, _ := replica(t, eo, "b")
	for len(b.RulesChanged()) > 0 {
		<-b.RulesChanged()
	}
	_, err := a.ChangeRules("U1", "/route add pr keyword recall", func(rs *RuleSet) (string, error) {
		rs.Rules = append(rs.Rules, routing.Rule{Match: "keyword", Value: "recall", Department: "pr"})
		return "added", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-b.RulesChanged():
	case <-time.After(testutil.Timeout):
		t.Fatal("b was not told of a's rule change")
	}
	rs, err := b.Rules()
	if err != nil || len(rs.Rules) != 1 || rs.Rules[0].Value != "recall" {
		t.Fatalf("b reads %+v, %v", rs, err)
	}
}

func TestEtcdCutOff(t *testing.T) {
	cluster := etcdtest.Start(t, 1)
	eo := EtcdOptions{Endpoints: cluster.Endpoints(), LeaseTTL: 2 * time.Second, RequestTimeout: time.Second, DialTimeout: time.Second}
	s, terms, _ := replica(t, eo, "a")
	testutil.Eventually(t, "a leads", func() bool { return s.Role() == RoleLeader })
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	cluster.Stop(0)
	testutil.Eventually(t, "a disconnected", func() bool { return s.Role() == RoleDisconnected })
	if err := s.Check(); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Check without etcd: %v, want ErrUnavailable", err)
	}
	if _, err := s.Ingest(context.Background(), []routing.Post{post("g", "1", "x")}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Ingest without etcd: %v, want ErrUnavailable", err)
	}
	if terms.Load() != 1 {
		t.Errorf("terms = %d", terms.Load())
	}
}

func TestMigrateBboltToEtcd(t *testing.T) {
	src, err := Open(filepath.Join(t.TempDir(), "src.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ids := map[string]bool{}
	for i := range 150 { // more than one etcd transaction's worth
		id := delivered(t, src, fmt.Sprint(i), routing.Support)
		ids[id] = true
	}
	if _, _, err := src.Claim(firstKey(ids), "U1"); err != nil {
		t.Fatal(err)
	}
	if err := src.AddExample(routing.Example{Post: routing.Post{Text: "x"}, Class: routing.Support, User: "U1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := src.ChangeRules("U1", "/route add", func(rs *RuleSet) (string, error) {
		rs.Rules = append(rs.Rules, routing.Rule{Match: "keyword", Value: "recall", Department: "pr"})
		return "added", nil
	}); err != nil {
		t.Fatal(err)
	}

	dst, err := OpenEtcd(etcdPrefix(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	n, err := Migrate(dst, src, nil)
	if err != nil || n == 0 {
		t.Fatalf("Migrate = %d, %v", n, err)
	}
	for id := range ids {
		want, _ := src.Get(id)
		got, err := dst.Get(id)
		if err != nil || got.Delivery == nil || got.Delivery.TS != want.Delivery.TS || (want.Claimed != nil) != (got.Claimed != nil) {
			t.Fatalf("post %s after migrate: %+v, %v; want %+v", id, got, err, want)
		}
	}
	if rs, err := dst.Rules(); err != nil || len(rs.Rules) != 1 || rs.NextID != 2 {
		t.Errorf("rules after migrate: %+v, %v", rs, err)
	}
	if ex, err := dst.Examples(10); err != nil || len(ex) != 1 {
		t.Errorf("examples after migrate: %+v, %v", ex, err)
	}
	// The sequences came along: the next example does not overwrite.
	if err := dst.AddExample(routing.Example{Post: routing.Post{Text: "y"}, Class: routing.Promotional, User: "U2"}); err != nil {
		t.Fatal(err)
	}
	if ex, _ := dst.Examples(10); len(ex) != 2 {
		t.Errorf("examples after one more: %d, want 2", len(ex))
	}
	var a, b OpenItem
	src.OpenItems(func(it OpenItem) bool { a = it; return false })
	dst.OpenItems(func(it OpenItem) bool { b = it; return false })
	if a != b {
		t.Errorf("open items differ: %+v vs %+v", a, b)
	}
	if _, err := Migrate(dst, src, nil); !errors.Is(err, ErrNotEmpty) {
		t.Errorf("second Migrate: %v, want ErrNotEmpty", err)
	}
}

func firstKey(m map[string]bool) string {
	for k := range m {
		return k
	}
	return ""
}

// A commit whose answer is lost is found by its marker: the change is not
// made a second time, and the caller gets the outcome of the commit.
func TestEtcdLostAnswerIsNotRepeated(t *testing.T) {
	s, _, _ := replica(t, etcdPrefix(t), "a")
	var lose atomic.Bool
	s.eng.(*etcdEngine).lostAnswer = func() bool { return lose.Swap(false) }

	lose.Store(true)
	res, err := s.Ingest(context.Background(), []routing.Post{post("g", "1", "my order never arrived")})
	if err != nil || len(res) != 1 || res[0].Duplicate {
		t.Fatalf("Ingest with its answer lost: %+v, %v; want one new post", res, err)
	}
	if due, _, err := s.Due(time.Now(), 10); err != nil || len(due) != 1 {
		t.Fatalf("due = %d, %v; want the post once", len(due), err)
	}
	lose.Store(true)
	first, err := s.FirstSeen("Ev1")
	if err != nil || !first {
		t.Fatalf("FirstSeen with its answer lost = %v, %v; want true", first, err)
	}
	if again, _ := s.FirstSeen("Ev1"); again {
		t.Error("the envelope is new a second time")
	}
	lose.Store(true)
	if _, err := s.ChangeRules("U1", "/route add", func(rs *RuleSet) (string, error) {
		rs.Rules = append(rs.Rules, routing.Rule{Match: "keyword", Value: "recall", Department: "pr"})
		return "added", nil
	}); err != nil {
		t.Fatal(err)
	}
	if rs, _ := s.Rules(); len(rs.Rules) != 1 {
		t.Errorf("rules after a change whose answer was lost: %d, want 1", len(rs.Rules))
	}
}
