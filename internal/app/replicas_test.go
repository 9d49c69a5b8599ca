package app_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/socialroute/socialroute/internal/config"
	"github.com/socialroute/socialroute/internal/etcdtest"
	"github.com/socialroute/socialroute/internal/slackemu"
	"github.com/socialroute/socialroute/internal/testutil"
	"github.com/socialroute/socialroute/routing"
	"github.com/socialroute/socialroute/store"
)

// Two daemons on one etcd: a rule changed on either replica routes the
// leader's deliveries, and a post sent to the follower is delivered once,
// by the leader.
func TestReplicasShareRulesAndWork(t *testing.T) {
	cluster := etcdtest.Start(t, 1)
	emu := newEmulator(t)
	replica := func(name string) *daemon { return etcdReplica(t, emu, cluster, "/replicas/", name) }
	leader := replica("a")
	testutil.Eventually(t, "a leads", func() bool { return leader.app.Store().Role() == store.RoleLeader })
	follower := replica("b")
	testutil.Eventually(t, "b follows", func() bool { return follower.app.Store().Role() == store.RoleFollower })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := emu.WaitConnected(ctx, 2); err != nil {
		t.Fatal(err)
	}

	// Slack hands the two commands to the two connections, one each.
	sockets := map[string]bool{}
	keywords := []string{"zorgblatt", "quuxfoo"}
	for _, kw := range keywords {
		ack, err := emu.PushSlashCommand(ctx, slackemu.SlashCommand{Command: "/route", Text: "add pr keyword " + kw, UserID: "UADMIN", ChannelID: "C0SUPPORT"})
		if err != nil {
			t.Fatal(err)
		}
		sockets[ack.Socket] = true
	}
	if len(sockets) != 2 {
		t.Fatalf("the commands went to connections %v; want two", sockets)
	}
	for _, d := range []*daemon{leader, follower} {
		testutil.Eventually(t, "both rules in every replica's router", func() bool {
			r, ok := d.app.Bot().Router().(*routing.Router)
			if !ok {
				return false
			}
			var values []string
			for _, rule := range r.Rules() {
				values = append(values, rule.Value)
			}
			return slices.Contains(values, keywords[0]) && slices.Contains(values, keywords[1])
		})
	}

	// Posts sent to the follower are delivered by the leader, by the rules.
	var ids []string
	for i, kw := range keywords {
		ids = append(ids, follower.accept(t, post(string(rune('1'+i))+"-replicas", "my order never arrived, the "+kw+" is broken", 10, false)))
	}
	waitFor(t, emu, "both posts in the PR channel, once each", func() bool {
		got := postIDs(emu, "C0PR")
		slices.Sort(got)
		slices.Sort(ids)
		return slices.Equal(got, ids)
	})
	if n := len(emu.Messages("C0SUPPORT")) + len(emu.Messages("C0TRIAGE")); n != 0 {
		t.Errorf("%d messages elsewhere, want none", n)
	}
}

// etcdReplica starts a daemon named name on cluster under prefix, with
// timeouts sized for a loaded test machine.
func etcdReplica(t *testing.T, emu *slackemu.Server, cluster *etcdtest.Cluster, prefix, name string) *daemon {
	t.Helper()
	cfg := loadConfig(t, emu, filepath.Join(t.TempDir(), "unused.db"), emu.BotToken())
	cfg.Store.Backend = "etcd"
	cfg.Store.Etcd = config.Etcd{
		Endpoints: cluster.Endpoints(), Prefix: prefix, Replica: name,
		DialTimeout: config.Duration(5 * time.Second), RequestTimeout: config.Duration(5 * time.Second),
		LeaseTTL: config.Duration(2 * time.Second),
	}
	return start(t, cfg)
}
