package bot

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/rs/zerolog"
	"github.com/slack-go/slack"
	bolt "go.etcd.io/bbolt"

	"github.com/socialroute/socialroute/internal/slackemu"
	"github.com/socialroute/socialroute/internal/testutil"
	"github.com/socialroute/socialroute/routing"
	"github.com/socialroute/socialroute/store"
)

// The tests here put the store and Slack in the state a process left them
// in when it died mid-delivery, then start a bot on them and check that
// every post reaches Slack exactly once.

// scene is a store and a Slack before the bot starts.
type scene struct {
	emu   *slackemu.Server
	store *store.Store
	path  string
	api   *slack.Client
}

func newScene(t *testing.T, channels ...string) *scene {
	t.Helper()
	var chs []slackemu.Channel
	for _, c := range channels {
		chs = append(chs, slackemu.Channel{ID: c, Name: c})
	}
	emu := slackemu.New(slackemu.Options{Channels: chs})
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	s := &scene{emu: emu, path: filepath.Join(t.TempDir(), "bot.db"), api: slack.New(emu.BotToken(), slack.OptionAPIURL(emu.APIURL()))}
	s.open(t)
	t.Cleanup(func() { s.store.Close() })
	return s
}

func (s *scene) open(t *testing.T) {
	t.Helper()
	st, err := store.Open(s.path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.store = st
}

// forgetRoot rewrites incident id in the database file as a version that
// recorded an incident's message in a commit of its own left it when it
// died before that commit: without the message's ts.
func (s *scene) forgetRoot(t *testing.T, id string) {
	t.Helper()
	if err := s.store.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(s.path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("incidents"))
		key := ulid.MustParseStrict(id)
		var inc map[string]json.RawMessage
		if err := json.Unmarshal(b.Get(key[:]), &inc); err != nil {
			return err
		}
		delete(inc, "root_ts")
		v, err := json.Marshal(inc)
		if err != nil {
			return err
		}
		return b.Put(key[:], v)
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	s.open(t)
	if inc, err := s.store.Incident(id); err != nil || inc.RootTS != "" {
		t.Fatalf("incident after rewriting: %+v, %v", inc, err)
	}
}

// ingest stores posts with texts and returns their ids.
func (s *scene) ingest(t *testing.T, texts ...string) []string {
	t.Helper()
	var posts []routing.Post
	for _, text := range texts {
		posts = append(posts, routing.Post{Source: "generic", ExternalID: text, Platform: "x", Text: text,
			Author: routing.Author{Handle: "someone"}})
	}
	res, err := s.store.Ingest(context.Background(), posts)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range res {
		ids = append(ids, r.ID)
	}
	return ids
}

// run starts a bot on the scene with opts (tokens and logger filled in).
func (s *scene) run(t *testing.T, opts Options, router Router) {
	t.Helper()
	opts.BotToken, opts.AppToken, opts.APIURL = s.emu.BotToken(), s.emu.AppToken(), s.emu.APIURL()
	opts.Logger = zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)
	b, err := New(opts, s.store, router)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("bot.Run: %v", err)
		}
	})
}

// begin marks posts in flight under decision d, as an attempt does.
func (s *scene) begin(t *testing.T, d routing.Decision, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if _, err := s.store.BeginAttempt(id, d); err != nil {
			t.Fatal(err)
		}
	}
}

// openIncident makes post id, in flight, the first post of an incident.
func (s *scene) openIncident(t *testing.T, id, channel string, rules store.IncidentRules) {
	t.Helper()
	if asg, err := s.store.AssignIncident(id, channel, rules); err != nil || !asg.Root {
		t.Fatalf("post %s opens no incident: %+v, %v", id, asg, err)
	}
}

// posted puts post id's message in channel, as an attempt did, and returns
// its ts; with record, its delivery is recorded too.
func (s *scene) posted(t *testing.T, id, channel string, record bool) string {
	t.Helper()
	rec, err := s.store.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	text, blocks, meta := renderPost(rec, "", nil)
	_, ts, err := s.api.PostMessage(channel, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...), slack.MsgOptionMetadata(meta))
	if err != nil {
		t.Fatal(err)
	}
	if record {
		if err := s.store.Delivered(id, channel, ts); err != nil {
			t.Fatal(err)
		}
	}
	return ts
}

// shown counts, per post id, the messages of channel (top level and
// threads) whose metadata names it.
func (s *scene) shown(channel string) map[string]int {
	n := map[string]int{}
	count := func(m slackemu.Message) {
		if m.Metadata == nil {
			return
		}
		var payload map[string]any
		if json.Unmarshal(m.Metadata.EventPayload, &payload) != nil {
			return
		}
		for _, ref := range carried(slack.SlackMetadata{EventType: m.Metadata.EventType, EventPayload: payload}) {
			n[ref.post]++
		}
	}
	for _, m := range s.emu.Messages(channel) {
		count(m)
		for _, r := range s.emu.Replies(channel, m.TS) {
			if r.TS != m.TS {
				count(r)
			}
		}
	}
	return n
}

// blockText is the text of every element of a message's blocks, one per
// line, as written (the JSON escapes < and >).
func blockText(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if s, ok := v["text"].(string); ok {
				b.WriteString(s + "\n")
			}
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	return b.String()
}

// delivered reports whether every post of ids has a recorded delivery.
func (s *scene) delivered(ids ...string) bool {
	for _, id := range ids {
		rec, err := s.store.Get(id)
		if err != nil || rec.Delivery == nil {
			return false
		}
	}
	return true
}

func decided(class routing.Class, channel string) routing.Decision {
	return routing.Decision{Class: class, Department: string(class), Channel: channel, Confidence: 0.9}
}

func routeAll(d routing.Decision) Router {
	return routerFunc(func(routing.Post) routing.Decision { return d })
}

// A digest of posts A and B reached Slack, and the process died before it
// recorded the delivery. After a restart, more posts are due and the
// promotional backlog is grouped afresh as A, B, C: finding A's digest must
// record A and B only; C has never been in Slack and must go out.
func TestRegroupedDigestDeliversPostsNotInTheFoundOne(t *testing.T) {
	const ch = "C0MKT"
	s := newScene(t, ch)
	promo := decided(routing.Promotional, ch)
	ids := s.ingest(t, "sale a", "sale b", "sale c")
	s.begin(t, promo, ids[:2]...)
	var recs []store.Record
	for _, id := range ids[:2] {
		rec, err := s.store.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	text, blocks := renderDigest(recs)
	if _, _, err := s.api.PostMessage(ch, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...),
		slack.MsgOptionMetadata(digestMetadata(recs))); err != nil {
		t.Fatal(err)
	}

	s.run(t, Options{DigestThreshold: 2, DigestSize: 3}, routeAll(promo))
	testutil.Eventually(t, "every post delivered", func() bool { return s.delivered(ids...) })
	shown := s.shown(ch)
	for _, id := range ids {
		if shown[id] != 1 {
			t.Errorf("post %s is in Slack %d times, want once (all: %v)", id, shown[id], shown)
		}
	}
	a, _ := s.store.Get(ids[0])
	c, _ := s.store.Get(ids[2])
	if c.Delivery.TS == a.Delivery.TS {
		t.Errorf("post C recorded at the digest of A and B (%s), which does not carry it", a.Delivery.TS)
	}
}

// A post in flight is found by its own message even when the posts due
// with it are grouped into a digest that was never sent.
func TestDigestOfPostsFoundSeparately(t *testing.T) {
	const ch = "C0MKT"
	s := newScene(t, ch)
	promo := decided(routing.Promotional, ch)
	ids := s.ingest(t, "sale a", "sale b", "sale c", "sale d")
	// B went out on its own before the backlog grew.
	s.begin(t, promo, ids[1])
	s.posted(t, ids[1], ch, false)

	s.run(t, Options{DigestThreshold: 2, DigestSize: 4}, routeAll(promo))
	testutil.Eventually(t, "every post delivered", func() bool { return s.delivered(ids...) })
	shown := s.shown(ch)
	for _, id := range ids {
		if shown[id] != 1 {
			t.Errorf("post %s is in Slack %d times, want once (all: %v)", id, shown[id], shown)
		}
	}
}

// The first post of an incident reached Slack and its delivery was
// recorded, but the incident never learnt where its message is (a process
// that recorded the two in separate commits died in between). The posts
// that join the incident must still go into its thread instead of waiting
// for ever, holding up the channel.
func TestIncidentRootDeliveredButNotRecordedOnTheIncident(t *testing.T) {
	const ch = "C0PR"
	s := newScene(t, ch)
	rep := decided(routing.Reputation, ch)
	rules := store.IncidentRules{Window: time.Hour, Similarity: 0.5, TopicPosts: 2}
	ids := s.ingest(t, "your recall of the blue kettle is a scandal", "your recall of the blue kettle is a scandal!")
	s.begin(t, rep, ids[0])
	s.openIncident(t, ids[0], ch, rules)
	rootTS := s.posted(t, ids[0], ch, true)
	// An old version's state: the incident does not know its message.
	s.forgetRoot(t, ids[0])

	s.run(t, Options{Incidents: IncidentOptions{Rules: rules, UpdateEvery: time.Hour}}, routeAll(rep))
	testutil.Eventually(t, "the second post delivered", func() bool { return s.delivered(ids[1]) })
	second, _ := s.store.Get(ids[1])
	replies := s.emu.Replies(ch, rootTS)
	if !slices.ContainsFunc(replies, func(m slackemu.Message) bool { return m.TS == second.Delivery.TS }) {
		t.Fatalf("second post at %s is not in the incident's thread %s: %+v", second.Delivery.TS, rootTS, replies)
	}
	if n := s.shown(ch)[ids[1]]; n != 1 {
		t.Fatalf("second post is in Slack %d times", n)
	}
}

// The first post of an incident was parked after a permanent failure: the
// posts that joined the incident have no thread to wait for, and go out
// on their own instead of holding up the channel for ever.
func TestIncidentWithParkedRootDoesNotHoldItsPosts(t *testing.T) {
	const ch = "C0PR"
	s := newScene(t, ch)
	rep := decided(routing.Reputation, ch)
	rules := store.IncidentRules{Window: time.Hour, Similarity: 0.5, TopicPosts: 2}
	ids := s.ingest(t, "your recall of the blue kettle is a scandal", "your recall of the blue kettle is a scandal!", "an unrelated complaint about delivery")
	s.begin(t, rep, ids[0])
	s.openIncident(t, ids[0], ch, rules)
	if err := s.store.Park(ids[0], "invalid_blocks"); err != nil {
		t.Fatal(err)
	}

	s.run(t, Options{Incidents: IncidentOptions{Rules: rules, UpdateEvery: time.Hour}}, routeAll(rep))
	testutil.Eventually(t, "the posts after the parked one delivered", func() bool { return s.delivered(ids[1:]...) })
	shown := s.shown(ch)
	for _, id := range ids[1:] {
		if shown[id] != 1 {
			t.Errorf("post %s is in Slack %d times, want once", id, shown[id])
		}
	}
}

// A post that joined an incident waited out the incident's window (a long
// Slack outage) and the closed incident was forgotten meanwhile. Its
// delivery must still go into the incident's thread, where an earlier
// attempt may have put it, not stall on the missing incident.
func TestPostOfForgottenIncidentStillGoesToItsThread(t *testing.T) {
	const ch = "C0PR"
	s := newScene(t, ch)
	rep := decided(routing.Reputation, ch)
	rules := store.IncidentRules{Window: time.Hour, Similarity: 0.5, TopicPosts: 2}
	ids := s.ingest(t, "your recall of the blue kettle is a scandal", "your recall of the blue kettle is a scandal!")
	s.begin(t, rep, ids...)
	s.openIncident(t, ids[0], ch, rules)
	rootTS := s.posted(t, ids[0], ch, true)
	if asg, err := s.store.AssignIncident(ids[1], ch, rules); err != nil || asg.Incident.ID != ids[0] {
		t.Fatalf("second post did not join the incident: %+v, %v", asg, err)
	}
	// The window passes; a post elsewhere makes the store forget the
	// closed incident.
	other := s.ingest(t, "something else entirely")
	s.begin(t, rep, other[0])
	if _, err := s.store.AssignIncident(other[0], ch, store.IncidentRules{Window: time.Nanosecond}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.store.Incident(ids[0]); err == nil {
		t.Fatal("the closed incident is still there; the test does not test what it says")
	}

	s.run(t, Options{Incidents: IncidentOptions{Rules: rules, UpdateEvery: time.Hour}}, routeAll(rep))
	testutil.Eventually(t, "the second post delivered", func() bool { return s.delivered(ids[1], other[0]) })
	second, _ := s.store.Get(ids[1])
	if !slices.ContainsFunc(s.emu.Replies(ch, rootTS), func(m slackemu.Message) bool { return m.TS == second.Delivery.TS }) {
		t.Fatalf("second post at %s is not in the incident's thread %s", second.Delivery.TS, rootTS)
	}
}

// A post was moved to another class whose department shares its channel,
// and the process died during the move's delivery. Its first message, which
// carries its id too, must not pass for the moved one.
func TestMoveInFlightIsNotTakenForTheMessageItMovedFrom(t *testing.T) {
	const ch = "C0SHARED"
	s := newScene(t, ch)
	support, promo := decided(routing.Support, ch), decided(routing.Promotional, ch)
	ids := s.ingest(t, "is my order lost?")
	s.begin(t, support, ids[0])
	ts := s.posted(t, ids[0], ch, true)
	if _, err := s.store.Reclassify(ids[0], "U0AGENT", false, promo); err != nil {
		t.Fatal(err)
	}
	s.begin(t, promo, ids[0])

	s.run(t, Options{}, routeAll(promo))
	testutil.Eventually(t, "the move delivered", func() bool { return s.delivered(ids[0]) })
	moved, _ := s.store.Get(ids[0])
	if moved.Delivery.TS == ts {
		t.Fatalf("the move was recorded at the message it moved from (%s); it never went out", ts)
	}
	if n := len(s.emu.Messages(ch)); n != 2 {
		t.Fatalf("channel holds %d messages, want the first one and the moved one", n)
	}
}

// The first post of an incident was moved to support; when a later post
// joins the incident, the redrawn incident message keeps the note that
// the post moved, and gets no buttons back: otherwise the post would show
// as live in two channels.
func TestIncidentMessageOfAMovedPostStaysMoved(t *testing.T) {
	const pr, support = "C0PR", "C0SUP"
	s := newScene(t, pr, support)
	rep := decided(routing.Reputation, pr)
	rules := store.IncidentRules{Window: time.Hour, Similarity: 0.5, TopicPosts: 2}
	ids := s.ingest(t, "your recall of the blue kettle is a scandal", "your recall of the blue kettle is a scandal!")
	s.begin(t, rep, ids[0])
	s.openIncident(t, ids[0], pr, rules)
	rootTS := s.posted(t, ids[0], pr, true)
	if _, err := s.store.Reclassify(ids[0], "U0AGENT", false, decided(routing.Support, support)); err != nil {
		t.Fatal(err)
	}

	s.run(t, Options{Incidents: IncidentOptions{Rules: rules}}, routeAll(rep))
	testutil.Eventually(t, "both posts delivered and the incident message redrawn", func() bool {
		m, ok := s.emu.Message(pr, rootTS)
		return s.delivered(ids...) && ok && m.Edited
	})
	m, _ := s.emu.Message(pr, rootTS)
	if strings.Contains(string(m.Blocks), `"actions"`) || !strings.Contains(blockText(m.Blocks), "Moved to <#C0SUP>") {
		t.Fatalf("incident message of the moved post, redrawn: %s", m.Blocks)
	}
}

// A claim was stored and the process stopped before Slack showed it. The
// next process to lead draws it, and clears the mark.
func TestClaimStoredButNotDrawnIsDrawnAfterRestart(t *testing.T) {
	const ch = "C0SUPPORT"
	s := newScene(t, ch)
	support := decided(routing.Support, ch)
	ids := s.ingest(t, "where is my parcel?")
	s.begin(t, support, ids[0])
	ts := s.posted(t, ids[0], ch, true)
	if _, won, err := s.store.Claim(ids[0], "U0AMY"); err != nil || !won {
		t.Fatalf("claim: %v, %v", won, err)
	}

	s.run(t, Options{}, routeAll(support))
	testutil.Eventually(t, "the claim shown and the mark cleared", func() bool {
		m, _ := s.emu.Message(ch, ts)
		_, pending, err := s.store.PendingRedraw(ch, ts)
		return err == nil && !pending && strings.Contains(blockText(m.Blocks), "Claimed by <@U0AMY>")
	})
}

// withPR routes like r and gives reputation to a PR department in channel.
type withPR struct {
	Router
	channel string
}

func (w withPR) DepartmentFor(c routing.Class) (routing.Department, bool) {
	if c != routing.Reputation {
		return routing.Department{}, false
	}
	return routing.Department{Name: "pr", Channel: w.channel}, true
}

// A click began an escalation and its process stopped before it posted to
// PR. The next process, alone on the database, finishes it at start: one
// PR message, recorded, and the post's message shows it.
func TestEscalationLeftByAStoppedProcessIsFinishedAtStart(t *testing.T) {
	const ch, pr = "C0SUPPORT", "C0PR"
	s := newScene(t, ch, pr)
	support := decided(routing.Support, ch)
	ids := s.ingest(t, "your staff were rude to me")
	s.begin(t, support, ids[0])
	ts := s.posted(t, ids[0], ch, true)
	if _, won, err := s.store.StartEscalation(ids[0], "U0AMY"); err != nil || !won {
		t.Fatalf("start escalation: %v, %v", won, err)
	}

	s.run(t, Options{}, withPR{routeAll(support), pr})
	testutil.Eventually(t, "the escalation posted, recorded and shown", func() bool {
		rec, err := s.store.Get(ids[0])
		m, _ := s.emu.Message(ch, ts)
		return err == nil && rec.EscalatedTo != "" && strings.Contains(blockText(m.Blocks), "Escalated to PR by <@U0AMY>")
	})
	if n := len(s.emu.Messages(pr)); n != 1 {
		t.Fatalf("the PR channel holds %d messages, want the escalation once", n)
	}
}
