package crashtest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/socialroute/socialroute/internal/etcdtest"
	"github.com/socialroute/socialroute/internal/slackemu"
	"github.com/socialroute/socialroute/internal/testutil"
	"github.com/socialroute/socialroute/store"
)

// TestReplicasOnEtcd runs three socialroute processes on a three-member
// etcd cluster, all connected to the Slack emulator, and shows that posts
// sent round-robin to all of them are delivered exactly once while the
// leading replica is killed (a new one takes over within 10 s) and one
// etcd member is stopped; and that two replicas handling the same claim
// at once give one owner.
//
// HA_POSTS sets how many posts are sent (default 240).
func TestReplicasOnEtcd(t *testing.T) {
	posts := envInt("HA_POSTS", 240)
	dir := t.TempDir()
	etcd := etcdtest.Start(t, 3)

	emu := startEmulator(t)
	endpoints, _ := json.Marshal(etcd.Endpoints())
	replicas := make([]*daemon, 3)
	for i := range replicas {
		name := fmt.Sprintf("r%d", i+1)
		replicas[i] = newDaemon(t, dir, name, emu, fmt.Sprintf(`
  backend: etcd
  etcd: {endpoints: %s, prefix: /ha/, lease_ttl: 2s, request_timeout: 2s, dial_timeout: 2s, replica: %s}`, endpoints, name))
		replicas[i].start(t)
	}
	leader := func() (*daemon, int) {
		var found *daemon
		n := 0
		for _, r := range replicas {
			if r.role() == string(store.RoleLeader) {
				found = r
				n++
			}
		}
		return found, n
	}
	testutil.EventuallyWithin(t, 30*time.Second, "three ready replicas, one leading", func() bool {
		ready := 0
		for _, r := range replicas {
			if r.role() != "" {
				ready++
			}
		}
		_, n := leader()
		return ready == 3 && n == 1
	})

	// Senders post round-robin to the replicas and move on to the next
	// one when a replica does not answer 2xx, as a connector behind a
	// load balancer would.
	var (
		mu       sync.Mutex
		accepted = map[string]string{}
		refused  atomic.Int64 // connections refused and non-2xx answers
		errors5  atomic.Int64 // 5xx answers
	)
	ctx, stopSending := context.WithCancel(context.Background())
	defer stopSending()
	feed := make(chan int64)
	go func() {
		defer close(feed)
		for n := int64(1); n <= int64(posts); n++ {
			select {
			case feed <- n:
			case <-ctx.Done():
				return
			}
			time.Sleep(25 * time.Millisecond) // a steady stream, so the failures land mid-stream
		}
	}()
	var senders sync.WaitGroup
	for range 4 {
		senders.Go(func() {
			for n := range feed {
				ext := "ha-" + strconv.FormatInt(n, 10)
				body, _ := json.Marshal(map[string]any{"id": ext, "platform": "x", "text": fmt.Sprintf(texts[n%int64(len(texts))], n)})
				for try := int(n); ; try++ {
					code, id := send(ctx, replicas[try%len(replicas)].url, body)
					if code/100 == 2 {
						mu.Lock()
						accepted[ext] = id
						mu.Unlock()
						break
					}
					refused.Add(1)
					if code/100 == 5 {
						errors5.Add(1)
					}
					if ctx.Err() != nil {
						return
					}
					time.Sleep(time.Duration(5+rand.IntN(20)) * time.Millisecond)
				}
			}
		})
	}

	// A third of the way in, kill the leader.
	testutil.EventuallyWithin(t, time.Minute, "a third of the posts accepted", func() bool { return lenOf(&mu, accepted) >= posts/3 })
	old, _ := leader()
	if old == nil {
		t.Fatal("no leader mid-stream")
	}
	killedAt, killed := lenOf(&mu, accepted), time.Now()
	old.kill()
	var next *daemon
	testutil.EventuallyWithin(t, 10*time.Second, "a new leader within 10 s of killing the old one", func() bool {
		next, _ = leader()
		return next != nil
	})
	takeover := time.Since(killed)
	t.Logf("killed leader %s after %d posts; %s took over after %s", old.name, killedAt, next.name, takeover.Round(time.Millisecond))
	old.start(t)
	testutil.EventuallyWithin(t, 30*time.Second, "the restarted replica back, as a follower", func() bool { return old.role() == string(store.RoleFollower) })

	// Two thirds of the way in, stop the etcd member that leads raft.
	testutil.EventuallyWithin(t, time.Minute, "two thirds of the posts accepted", func() bool { return lenOf(&mu, accepted) >= 2*posts/3 })
	member := etcd.Leader()
	if member < 0 {
		member = 0
	}
	refusedBefore, errors5Before := refused.Load(), errors5.Load()
	t.Logf("stopping etcd member %d, the raft leader, after %d posts", member, lenOf(&mu, accepted))
	etcd.Stop(member)

	senders.Wait()
	if got := lenOf(&mu, accepted); got != posts {
		t.Fatalf("%d of %d posts accepted", got, posts)
	}
	wctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := emu.WaitFor(wctx, func() bool { return len(delivered(emu)) >= posts })
	seen := delivered(emu)
	lost, doubled := 0, 0
	for ext, id := range accepted {
		switch n := seen[id]; {
		case n == 0:
			lost++
			t.Errorf("post %s (%s) never reached Slack", ext, id)
		case n > 1:
			doubled++
			t.Errorf("post %s (%s) is in Slack %d times", ext, id, n)
		}
	}
	if err != nil && lost == 0 {
		t.Errorf("waiting for delivery: %v", err)
	}
	for _, r := range replicas {
		if r.role() == "" {
			t.Errorf("replica %s not ready after the etcd member stopped", r.name)
		}
	}
	t.Logf("posts %d: accepted %d, delivered %d, lost %d, doubled %d; answers other than 2xx: %d before the etcd member stopped (5xx: %d), %d after (5xx: %d)",
		posts, len(accepted), len(seen), lost, doubled, refusedBefore, errors5Before, refused.Load()-refusedBefore, errors5.Load()-errors5Before)
	// Losing one etcd member of three is invisible to connectors: the
	// replicas retry on the other members within the request.
	if n := refused.Load() - refusedBefore; n > 0 {
		t.Errorf("%d requests failed after the etcd member stopped, want none", n)
	}

	// Two users claim the same post at once, and Slack hands the two clicks
	// to two different replicas.
	st, err := store.OpenEtcd(store.EtcdOptions{Endpoints: etcd.Endpoints(), Prefix: "/ha/"}, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var rec store.Record
	for _, id := range accepted {
		if r, err := st.Get(id); err == nil && r.Delivery != nil && r.Delivery.Channel == "C0SUPPORT" && r.Incident == "" {
			rec = r
			break
		}
	}
	if rec.Delivery == nil {
		t.Fatal("no delivered support post to claim")
	}
	sockets := make([]string, 2)
	var clicks sync.WaitGroup
	for i, u := range []string{"U1", "U2"} {
		clicks.Go(func() {
			cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			ack, err := emu.PushClick(cctx, slackemu.Click{UserID: u, Channel: rec.Delivery.Channel, MessageTS: rec.Delivery.TS, ActionID: "claim"})
			if err != nil {
				t.Errorf("click by %s: %v", u, err)
			}
			sockets[i] = ack.Socket
		})
	}
	clicks.Wait()
	if sockets[0] == sockets[1] {
		t.Errorf("both clicks went to connection %s; want two replicas", sockets[0])
	}
	var owner, loser string
	testutil.EventuallyWithin(t, 10*time.Second, "one owner and one refusal", func() bool {
		r, err := st.Get(rec.Post.ID)
		if err != nil || r.Claimed == nil {
			return false
		}
		owner, loser = r.Claimed.User, map[string]string{"U1": "U2", "U2": "U1"}[r.Claimed.User]
		n := 0
		for _, m := range emu.Ephemerals(rec.Delivery.Channel) {
			if m.Recipient == loser {
				n++
			}
		}
		return n == 1
	})
	for _, m := range emu.Ephemerals(rec.Delivery.Channel) {
		if m.Recipient == owner {
			t.Errorf("the owner %s was told %q", owner, m.Text)
		}
		if m.Recipient == loser && m.Text != fmt.Sprintf("Already claimed by <@%s>.", owner) {
			t.Errorf("the loser %s was told %q", loser, m.Text)
		}
	}
	// The winner's redraw may still be on its way when the loser is told.
	testutil.EventuallyWithin(t, 10*time.Second, "the message to show the owner", func() bool {
		m, ok := emu.Message(rec.Delivery.Channel, rec.Delivery.TS)
		return ok && strings.Contains(m.PlainText(), "Claimed by <@"+owner+">")
	})
	t.Logf("claim race on two connections (%s, %s): owner %s", sockets[0], sockets[1], owner)
}
