package crashtest

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/socialroute/socialroute/internal/etcdtest"
	"github.com/socialroute/socialroute/internal/slackemu"
	"github.com/socialroute/socialroute/internal/testutil"
	"github.com/socialroute/socialroute/store"
)

// The campaign's knobs. CI runs the defaults; a long campaign is
//
//	go test -run TestCampaign -timeout 2h ./internal/crashtest/ -campaign.rounds=50
//
// and a failing round replays with its seed:
//
//	go test -run TestCampaign ./internal/crashtest/ -campaign.rounds=1 -campaign.seed=SEED
var (
	campaignRounds = flag.Int("campaign.rounds", 2, "rounds of TestCampaign, each with its own daemon, emulator and database")
	campaignSeed   = flag.Uint64("campaign.seed", 0, "seed of TestCampaign's first round (round i uses seed+i); 0 picks one from the clock")
	campaignPosts  = flag.Int("campaign.posts", 60, "posts sent in each round of TestCampaign (about)")
	campaignEtcd   = flag.Bool("campaign.etcd", false, "run TestCampaign's rounds on a three-member etcd cluster with two replicas, where a crash kills the leading one")
)

// Deadlines of a round: generous, for a loaded 2-core machine.
const (
	drainTimeout = 3 * time.Minute // for the outbox to empty once faults stop
	sendTimeout  = 3 * time.Minute // for every sender to get its 2xx
	quietFor     = 2 * time.Second // no Slack call for this long: the daemon is idle
)

// TestCampaign is a seeded, model-based fault campaign against the real
// binary. Each round, driven by its seed, sends a stream that mixes the
// three classes — bursts of near-identical reputation posts that become
// incident threads, promotional backlogs that go out as digests, array
// bodies, resent duplicates — while users click claim, resolve,
// reclassify and escalate and an admin changes rules with /route; and it
// injects faults at random moments: SIGKILL and restart, 429 storms with
// Retry-After, 5xx, answers that come late or fail after the call took
// effect, and dropped Socket Mode connections. Once the faults stop and
// the daemon has drained, an oracle checks the round against what the
// senders and users were told (see check).
func TestCampaign(t *testing.T) {
	seed := *campaignSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano()) % 1_000_000_000
	}
	// A long campaign needs a -timeout to match; say so now rather than
	// be stopped by the default 10 minutes half-way through.
	if deadline, ok := t.Deadline(); ok {
		need := time.Duration(*campaignRounds) * roundBudget(*campaignPosts)
		if left := time.Until(deadline); need > left {
			t.Fatalf("%d rounds of %d posts may take %s, but -timeout leaves %s: run with -timeout %s",
				*campaignRounds, *campaignPosts, need, left.Round(time.Second), (need + need/2).Round(time.Minute))
		}
	}
	for i := range *campaignRounds {
		s := seed + uint64(i)
		t.Run(fmt.Sprintf("seed=%d", s), func(t *testing.T) {
			t.Logf("round %d of %d, seed %d; replay: go test -run TestCampaign ./internal/crashtest/ -campaign.rounds=1 -campaign.seed=%d",
				i+1, *campaignRounds, s, s)
			runRound(t, s, *campaignPosts)
		})
	}
}

// roundBudget is how long a round of posts posts may take on a slow
// machine: the stream, then the drain at the paced channels' rate.
func roundBudget(posts int) time.Duration {
	return 20*time.Second + time.Duration(posts)*200*time.Millisecond
}

// round is one round's world: the emulator, the daemon and what the test
// sent and did, which the oracle compares with Slack and the store.
type round struct {
	t    *testing.T
	seed uint64
	// rng drives every choice of the workload; only the driver uses it.
	rng *rand.Rand
	emu *slackemu.Server
	// ds are the daemons: one on bbolt, or two replicas on etcd.
	ds []*daemon
	// open opens the store the daemons used, once they are stopped.
	open func() (*store.Store, error)

	ctx  context.Context // ends when the round gives up on its senders
	reqs chan struct{}   // bounds concurrent webhook requests

	mu     sync.Mutex
	posts  []*sentPost          // in the order they were made
	byID   map[string]*sentPost // by the internal id the daemon gave
	clicks []clickDone
	rules  map[string]string // keyword → channel of rules ever added
	n      int               // posts made
	// topics counts the reputation bursts started, so each gets its own
	// text.
	topics int

	senders sync.WaitGroup
	users   sync.WaitGroup // clicks and commands in progress
}

func runRound(t *testing.T, seed uint64, posts int) {
	// With -artifacts the daemon's config, log and database are kept.
	dir := t.ArtifactDir()
	r := &round{
		t:     t,
		seed:  seed,
		rng:   rand.New(rand.NewPCG(seed, seed^0x5eed)),
		emu:   startEmulator(t),
		reqs:  make(chan struct{}, 8),
		byID:  map[string]*sentPost{},
		rules: map[string]string{},
	}
	// Paced channels and a low digest threshold, so that backlogs form
	// and go out as digests; small incident thresholds, so that bursts
	// form threads; no reminders (they are not under test here) and no
	// triage (every text's class is clear).
	cfg := daemonConfig{
		Slack:     "channel_rate: 5, channel_burst: 2, digest_threshold: 6, digest_size: 4, admins: [UADMIN]",
		Incidents: "update_every: 0s, topic_posts: 3, spike_posts: 6, spike_minutes: 15",
		Routing:   "  min_confidence: 0",
		Extra:     "sla: {claim_minutes: 600, resolve_minutes: 6000}",
	}
	if *campaignEtcd {
		etcd := etcdtest.Start(t, 3)
		endpoints, _ := json.Marshal(etcd.Endpoints())
		for _, name := range []string{"r1", "r2"} {
			cfg.Store = fmt.Sprintf(`
  backend: etcd
  etcd: {endpoints: %s, prefix: /campaign/, lease_ttl: 2s, request_timeout: 2s, dial_timeout: 2s, replica: %s}`, endpoints, name)
			r.ds = append(r.ds, newDaemonWith(t, dir, name, r.emu, cfg))
		}
		r.open = func() (*store.Store, error) {
			return store.OpenEtcd(store.EtcdOptions{Endpoints: etcd.Endpoints(), Prefix: "/campaign/"}, store.Options{})
		}
	} else {
		db := filepath.Join(dir, "campaign.db")
		cfg.Store = fmt.Sprintf("{path: %q}", db)
		r.ds = []*daemon{newDaemonWith(t, dir, "campaign", r.emu, cfg)}
		r.open = func() (*store.Store, error) { return store.Open(db, store.Options{Timeout: 5 * time.Second}) }
	}
	ctx, cancel := context.WithTimeout(context.Background(), sendTimeout+time.Duration(posts)*time.Second)
	defer cancel()
	r.ctx = ctx

	for _, d := range r.ds {
		d.start(t)
	}
	testutil.EventuallyWithin(t, time.Minute, "the daemons ready", func() bool {
		for _, d := range r.ds {
			if d.role() == "" {
				return false
			}
		}
		return true
	})
	began := time.Now()
	r.drive(posts)
	streamed := time.Since(began)

	// Faults stop; the daemon runs on until every sender has its answer
	// and the outbox is empty.
	r.emu.ClearFaults()
	if !wait(&r.senders, sendTimeout) {
		t.Errorf("senders still without a 2xx after %s", sendTimeout)
	}
	if !wait(&r.users, time.Minute) {
		t.Errorf("clicks or commands still waiting after a minute")
	}
	var last readiness
	drained := testutil.Poll(drainTimeout, func() bool {
		for _, d := range r.ds {
			if last = d.readiness(); last.Code != 200 || last.Pending != 0 || last.Parked != 0 {
				return false
			}
		}
		return true
	})
	if !drained {
		t.Errorf("/readyz after %s: %+v; want 200, outbox_pending 0, outbox_parked 0", drainTimeout, last)
	}
	drainedAfter := time.Since(began) - streamed
	r.waitQuiet()
	r.logf("stream %s, drained %s later", streamed.Round(time.Millisecond), drainedAfter.Round(time.Millisecond))
	for _, d := range r.ds {
		if err := d.terminate(); err != nil {
			t.Errorf("after SIGTERM daemon %s exited with %v, want status 0", d.name, err)
		}
	}

	st, err := r.open()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	res := check(t, r, st)
	t.Logf("seed %d: %s", seed, res)
	if t.Failed() {
		t.Logf("the daemon's log, config and database are in %s (kept with -artifacts)", dir)
	}
}

// waitQuiet waits until the emulator has seen no Web API call for
// quietFor: the daemon has finished the work clicks started.
func (r *round) waitQuiet() {
	methods := []string{"chat.postMessage", "chat.update", "chat.postEphemeral", "chat.getPermalink", "conversations.history", "conversations.replies"}
	calls := func() int {
		n := 0
		for _, m := range methods {
			n += r.emu.Calls(m)
		}
		return n
	}
	last, since := calls(), time.Now()
	if !testutil.Poll(time.Minute, func() bool {
		if n := calls(); n != last {
			last, since = n, time.Now()
		}
		return time.Since(since) >= quietFor
	}) {
		r.t.Errorf("the daemon kept calling Slack for a minute after the outbox drained")
	}
}

// wait waits for wg, at most d, and reports whether it finished.
func wait(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}
