package app_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/socialroute/socialroute/bot"
	"github.com/socialroute/socialroute/internal/etcdtest"
	"github.com/socialroute/socialroute/internal/slackemu"
	"github.com/socialroute/socialroute/internal/testutil"
	"github.com/socialroute/socialroute/store"
)

// pushed is a slash command the emulator delivered, and its ack.
type pushed struct {
	text string
	ack  slackemu.Ack
	err  error
}

// push runs /route text as user and returns once it is acked.
func push(emu *slackemu.Server, user, text string) pushed {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ack, err := emu.PushSlashCommand(ctx, slackemu.SlashCommand{Command: "/route", Text: text, UserID: user, ChannelID: "C0SUPPORT"})
	return pushed{text: text, ack: ack, err: err}
}

// answers counts what a command's user was shown or sent: POSTs to its
// response_url, and an ack that carried a payload.
func answers(emu *slackemu.Server, p pushed) int {
	n := len(postsTo(emu, p.ack.ResponseURL))
	if len(p.ack.Payload) > 0 {
		n++
	}
	return n
}

// shown is the first answer to a command: its text, and when it came in
// the emulator's order of events.
type shown struct {
	Text string
	Seq  int64
}

// firstAnswer waits for the first answer to p: an ack payload, else the
// first POST to its response_url.
func firstAnswer(t *testing.T, emu *slackemu.Server, p pushed) shown {
	t.Helper()
	if len(p.ack.Payload) > 0 {
		var body struct {
			Text string `json:"text"`
		}
		json.Unmarshal(p.ack.Payload, &body)
		return shown{Text: body.Text, Seq: p.ack.Seq}
	}
	waitFor(t, emu, "the answer to /route "+p.text, func() bool { return len(postsTo(emu, p.ack.ResponseURL)) > 0 })
	post := postsTo(emu, p.ack.ResponseURL)[0]
	return shown{Text: post.Text, Seq: post.Seq}
}

// A change waiting on a slow user-group look-up holds up neither the acks
// of the commands after it nor the commands that only read.
func TestRouteSlowCommandDoesNotHoldUpLaterAcks(t *testing.T) {
	e := startRoute(t, "")
	if p := push(e.emu, nobody, "list"); p.err != nil { // connected
		t.Fatal(p.err)
	}
	// Slower than Slack's 3 s ack window allows for two look-ups in a row.
	e.emu.InjectFault("usergroups.users.list", slackemu.Fault{Delay: 2500 * time.Millisecond})

	slow := make(chan pushed, 1)
	go func() { slow <- push(e.emu, groupie, "add legal keyword lawsuit") }()
	waitFor(t, e.emu, "the slow change to ask for the admin group", func() bool { return e.emu.Calls("usergroups.users.list") > 0 })
	var (
		wg    sync.WaitGroup
		later [2]pushed
	)
	wg.Go(func() { later[0] = push(e.emu, groupie, "add pr keyword recall") })
	wg.Go(func() { later[1] = push(e.emu, nobody, "history") })
	wg.Wait()
	a := <-slow
	for _, p := range []pushed{a, later[0], later[1]} {
		if p.err != nil {
			t.Fatalf("/route %s: %v", p.text, p.err)
		}
		if p.ack.Attempts != 1 {
			t.Fatalf("/route %s: acked after %d deliveries; Slack redelivered it", p.text, p.ack.Attempts)
		}
	}

	answerA := firstAnswer(t, e.emu, a)
	for _, p := range later {
		if p.ack.Seq > answerA.Seq {
			t.Fatalf("/route %s was acked after the slow command was answered", p.text)
		}
	}
	// The read did not wait for the change; the second change waited its turn.
	if ans := firstAnswer(t, e.emu, later[1]); ans.Seq > answerA.Seq || !strings.Contains(ans.Text, "No posts stored yet") {
		t.Fatalf("history answered %q after the slow change", ans.Text)
	}
	if ans := firstAnswer(t, e.emu, later[0]); ans.Seq < answerA.Seq || !strings.Contains(ans.Text, "added r2") {
		t.Fatalf("the second change answered %q, before the first", ans.Text)
	}
	if !strings.Contains(answerA.Text, "added r1") {
		t.Fatalf("the slow change answered %q", answerA.Text)
	}
	for _, p := range []pushed{a, later[0], later[1]} {
		if n := answers(e.emu, p); n != 1 || len(p.ack.Payload) != 0 {
			t.Fatalf("/route %s: %d answers, ack %s; want an empty ack and one answer", p.text, n, p.ack.Payload)
		}
	}
	rs, err := e.d.app.Store().Rules()
	if err != nil || len(rs.Rules) != 2 || rs.Rules[0].Value != "lawsuit" || rs.Rules[1].Value != "recall" {
		t.Fatalf("rules %+v, %v; want lawsuit then recall", rs.Rules, err)
	}
}

// redeliveryHandled waits until bots recognised a redelivery or the rules
// hold more than want rules (it ran again).
func redeliveryHandled(t *testing.T, st *store.Store, want int, redelivered func() uint64) {
	t.Helper()
	testutil.EventuallyWithin(t, 30*time.Second, "the redelivery to be handled", func() bool {
		rs, err := st.Rules()
		return redelivered() > 0 || (err == nil && len(rs.Rules) > want)
	})
}

// changedOnce fails unless the rules hold one rule with value and the audit
// log one entry for it, and the command got one answer.
func changedOnce(t *testing.T, emu *slackemu.Server, st *store.Store, p pushed, value string) {
	t.Helper()
	firstAnswer(t, emu, p)
	rs, err := st.Rules()
	if err != nil || len(rs.Rules) != 1 || rs.Rules[0].Value != value {
		t.Fatalf("rules after a redelivery: %+v, %v; want the one rule", rs.Rules, err)
	}
	log, err := st.AuditLog(10)
	if err != nil || len(log) != 1 || log[0].Command != "/route "+p.text {
		t.Fatalf("audit log after a redelivery: %+v, %v; want the change once", log, err)
	}
	if n := answers(emu, p); n != 1 {
		t.Fatalf("%d answers, want one", n)
	}
}

// Slack redelivers a command whose ack it did not get, also to a process
// that restarted in between: it changes nothing twice.
func TestRouteRedeliveredCommandRunsOnce(t *testing.T) {
	e := startRoute(t, "")
	p := push(e.emu, admin, "add legal keyword lawsuit")
	if p.err != nil {
		t.Fatal(p.err)
	}
	firstAnswer(t, e.emu, p)

	if err := e.d.stop(); err != nil {
		t.Fatal(err)
	}
	e.d = start(t, routeConfig(t, e.emu, e.dbPath, ""))
	if p := push(e.emu, nobody, "list"); p.err != nil { // the new process is connected
		t.Fatal(p.err)
	}
	waitFor(t, e.emu, "the old connection to be gone", func() bool { return e.emu.Connected() == 1 })

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	again, err := e.emu.Redeliver(ctx, p.ack.EnvelopeID)
	if err != nil {
		t.Fatal(err)
	}
	redeliveryHandled(t, e.d.app.Store(), 1, e.d.app.Bot().Redelivered)
	changedOnce(t, e.emu, e.d.app.Store(), p, "lawsuit")
	if len(again.Payload) != 0 {
		t.Fatalf("the redelivery was acked with %s", again.Payload)
	}
}

// Two replicas on one etcd: the redelivery of a command goes to the other
// replica's connection, and the command still runs once.
func TestReplicasRunARedeliveredCommandOnce(t *testing.T) {
	cluster := etcdtest.Start(t, 1)
	emu := newEmulator(t)
	replica := func(name string) *daemon { return etcdReplica(t, emu, cluster, "/redelivery/", name) }
	a, b := replica("a"), replica("b")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := emu.WaitConnected(ctx, 2); err != nil {
		t.Fatal(err)
	}

	emu.SetRedeliveries(1)
	p := push(emu, "UADMIN", "add pr keyword zorgblatt")
	emu.SetRedeliveries(0)
	if p.err != nil {
		t.Fatal(p.err)
	}
	if len(p.ack.Sockets) != 2 || p.ack.Sockets[0] == p.ack.Sockets[1] {
		t.Fatalf("deliveries on connections %v; want one on each replica's", p.ack.Sockets)
	}
	redelivered := func() uint64 { return a.app.Bot().Redelivered() + b.app.Bot().Redelivered() }
	redeliveryHandled(t, a.app.Store(), 1, redelivered)
	changedOnce(t, emu, a.app.Store(), p, "zorgblatt")
}

// The Apply button of a preview, redelivered to the other replica: the
// change is made and answered once.
func TestReplicasApplyARedeliveredClickOnce(t *testing.T) {
	cluster := etcdtest.Start(t, 1)
	emu := newEmulator(t)
	replica := func(name string) *daemon { return etcdReplica(t, emu, cluster, "/apply/", name) }
	a, b := replica("a"), replica("b")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := emu.WaitConnected(ctx, 2); err != nil {
		t.Fatal(err)
	}
	preview := push(emu, "UADMIN", "preview add pr keyword zorgblatt")
	if preview.err != nil {
		t.Fatal(preview.err)
	}
	if ans := firstAnswer(t, emu, preview); !strings.Contains(ans.Text, "zorgblatt") {
		t.Fatalf("preview answered %q", ans.Text)
	}
	var previewTS string
	waitFor(t, emu, "a preview with an Apply button", func() bool {
		for _, m := range emu.Ephemerals("C0SUPPORT") {
			if m.Recipient == "UADMIN" && strings.Contains(m.PlainText(), "[Apply]") {
				previewTS = m.TS
			}
		}
		return previewTS != ""
	})

	emu.SetRedeliveries(1)
	ack, err := emu.PushClick(ctx, slackemu.Click{UserID: "UADMIN", Channel: "C0SUPPORT", MessageTS: previewTS, ActionID: bot.ActionApply})
	emu.SetRedeliveries(0)
	if err != nil {
		t.Fatal(err)
	}
	if len(ack.Sockets) != 2 || ack.Sockets[0] == ack.Sockets[1] {
		t.Fatalf("deliveries on connections %v; want one on each replica's", ack.Sockets)
	}
	clickAnswers := func() []slackemu.ResponseURLPost {
		var out []slackemu.ResponseURLPost
		for _, p := range emu.ResponseURLPosts() {
			if p.Kind == "block_actions" && p.MessageTS == previewTS {
				out = append(out, p)
			}
		}
		return out
	}
	testutil.EventuallyWithin(t, 30*time.Second, "the redelivered click to be handled", func() bool {
		return a.app.Bot().Redelivered()+b.app.Bot().Redelivered() > 0 || len(clickAnswers()) > 1
	})
	waitFor(t, emu, "the answer to the click", func() bool { return len(clickAnswers()) > 0 })
	var got []string
	for _, p := range clickAnswers() {
		got = append(got, p.Text)
	}
	if len(got) != 1 || !strings.Contains(got[0], "added r1") {
		t.Fatalf("answers to the click: %q; want one saying the rule was added", got)
	}
	rs, err := a.app.Store().Rules()
	if err != nil || len(rs.Rules) != 1 {
		t.Fatalf("rules %+v, %v", rs.Rules, err)
	}
	if log, err := a.app.Store().AuditLog(10); err != nil || len(log) != 1 {
		t.Fatalf("audit log %+v, %v; want the change once", log, err)
	}
}

// An answer through response_url that Slack rate-limits is sent again
// after Retry-After, and shown once.
func TestRouteAnswerOutlivesRateLimit(t *testing.T) {
	e := startRoute(t, "")
	e.emu.InjectFault(slackemu.ResponseURLMethod, slackemu.Fault{RateLimit: 1, Times: 1})
	e.route(t, admin, "add legal keyword lawsuit").mustSay(t, "the answer after a 429", "lawsuit")
}
