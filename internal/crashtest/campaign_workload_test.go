package crashtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/socialroute/socialroute/internal/slackemu"
	"github.com/socialroute/socialroute/store"
)

// The texts of a round, by the channel their class goes to; %s is the
// post's tag (its external id), which makes every text unique and lets
// the oracle find a post in an escalation message. Each is classified
// with full confidence by the default model (socialroute classify).
var (
	supportTexts = []string{
		"@acme my order %s never arrived and nobody answers my emails. I want a refund.",
		"The Acme app crashes every time I try to log in since the update, please help (ticket %s)",
		"I was charged twice for my subscription this month, how do I get my money back? ref %s",
	}
	reputationTexts = []string{
		"Reporter at @dailyledger here, we're preparing a story on Acme's warehouse conditions (ref %s). Can someone from Acme comment before 5pm?",
		"Journalist here, writing a story about Acme's data breach (ref %s). Can you comment?",
	}
	// burstTexts are reputation posts copied and pasted by many people:
	// near-identical texts, which the daemon groups into one incident
	// thread.
	burstTexts = []string{
		"Acme leaked my personal data and now I'm getting scam calls. Talking to my lawyer about a class action. #BoycottAcme %s",
		"Shocked that Acme fired staff for unionising. This is unethical and I'm done with this company. %s",
		"Acme's new ad is racist and offensive, this brand should be ashamed, boycott them all %s",
	}
	promotionalTexts = []string{
		"Where can I buy the new Acme X2 headphones in Berlin? Need them before Friday! %s",
		"Love my new Acme blender, best purchase this year %s",
		"Hi Acme! I run a cooking channel with 80k subscribers, would love to talk about a sponsorship or collab. %s",
	}
	// ruleKeywords are the rules an admin adds with /route while posts
	// flow, and the department each sends its matches to.
	ruleKeywords = []struct{ word, dept, channel string }{
		{"flamingo", "support", "C0SUPPORT"},
		{"zeppelin", "marketing", "C0MARKETING"},
	}
	users = []string{"U1", "U2", "U3"}
)

// sentPost is one post of the stream and what the daemon answered.
type sentPost struct {
	ext, text string
	tmpl      string // the template of its text
	body      []byte // the post as a JSON object
	home      string // the channel its text's class goes to
	keyword   string // a rule keyword in its text, if any
	// first is when the first request carrying it began, acked when the
	// first 2xx for it came back: a post acked before another's first
	// request began arrived before it.
	first, acked time.Time
	id           string // internal id, from the first 2xx
}

// clickDone is a click a user made and what became of it.
type clickDone struct {
	action, postID, user, value string
	err                         error
}

// drive runs the workload: about posts posts, with clicks, commands and
// faults in between, every choice and pause drawn from the round's seed.
func (r *round) drive(posts int) {
	type action struct {
		weight int
		do     func()
	}
	actions := []action{
		{20, func() { r.sendPosts(r.makePosts(1, supportTexts, "C0SUPPORT"), false) }},
		{5, func() { r.sendPosts(r.makePosts(1, reputationTexts, "C0PR"), false) }},
		{6, func() { r.sendPosts(r.makePosts(1, promotionalTexts, "C0MARKETING"), false) }},
		{6, r.burst},
		{5, r.backlog},
		{5, r.mixedArray},
		{5, r.resend},
		{7, func() { r.click("claim") }},
		{3, func() { r.click("resolve") }},
		{2, func() { r.click("reclassify") }},
		{2, func() { r.click("escalate") }},
		{1, r.routeCommand},
		{3, r.crash},
		{2, r.rateLimitStorm},
		{2, r.serverErrors},
		{2, r.lateAnswer},
		{1, r.failAfterEffect},
		{2, r.dropSockets},
	}
	total := 0
	for _, a := range actions {
		total += a.weight
	}
	for r.made() < posts && r.ctx.Err() == nil {
		n := r.rng.IntN(total)
		for _, a := range actions {
			if n < a.weight {
				a.do()
				break
			}
			n -= a.weight
		}
		r.pause(300)
	}
}

func (r *round) made() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// pause waits a random while of up to maxMS milliseconds: the stream's
// own rhythm, not a synchronisation.
func (r *round) pause(maxMS int) {
	time.Sleep(time.Duration(r.rng.IntN(maxMS+1)) * time.Millisecond)
}

func (r *round) logf(format string, args ...any) {
	r.t.Logf("%s "+format, append([]any{time.Now().Format("15:04:05.000")}, args...)...)
}

// makePosts makes n new posts with texts from texts (one template for
// all of them when the texts are a burst), bound for home. A post may
// carry a rule keyword.
func (r *round) makePosts(n int, texts []string, home string) []*sentPost {
	tmpl := texts[r.rng.IntN(len(texts))]
	out := make([]*sentPost, n)
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range out {
		if len(texts) > 1 && i > 0 && home != "C0PR" {
			tmpl = texts[r.rng.IntN(len(texts))]
		}
		r.n++
		p := &sentPost{ext: fmt.Sprintf("c%dp%d", r.seed%1000, r.n), home: home, tmpl: tmpl}
		p.text = fmt.Sprintf(tmpl, p.ext)
		if kw := ruleKeywords[r.rng.IntN(len(ruleKeywords))]; r.rng.IntN(6) == 0 {
			p.keyword = kw.word
			p.text += " " + kw.word
		}
		p.body, _ = json.Marshal(map[string]any{
			"id": p.ext, "platform": platforms[r.rng.IntN(len(platforms))], "text": p.text,
			"author": map[string]any{"handle": "@" + p.ext, "followers": r.rng.IntN(900)},
		})
		r.posts = append(r.posts, p)
		out[i] = p
	}
	return out
}

var platforms = []string{"x", "facebook", "instagram", "review", "reddit"}

// burst sends near-identical reputation posts, one topic a burst, which
// become an incident thread.
func (r *round) burst() {
	r.mu.Lock()
	topic := burstTexts[r.topics%len(burstTexts)]
	r.topics++
	r.mu.Unlock()
	ps := r.makePosts(3+r.rng.IntN(5), []string{topic}, "C0PR")
	if r.rng.IntN(2) == 0 {
		r.sendPosts(ps, true)
		return
	}
	for _, p := range ps {
		r.sendPosts([]*sentPost{p}, false)
		r.pause(40)
	}
}

// backlog sends a promotional backlog, big enough for digests, in one
// or two array bodies.
func (r *round) backlog() {
	ps := r.makePosts(8+r.rng.IntN(14), promotionalTexts, "C0MARKETING")
	cut := len(ps)
	if r.rng.IntN(2) == 0 {
		cut = len(ps) / 2
	}
	r.sendPosts(ps[:cut], true)
	if cut < len(ps) {
		r.pause(100)
		r.sendPosts(ps[cut:], true)
	}
}

// mixedArray sends an array body with posts of every class.
func (r *round) mixedArray() {
	var ps []*sentPost
	for range 2 + r.rng.IntN(6) {
		switch r.rng.IntN(3) {
		case 0:
			ps = append(ps, r.makePosts(1, supportTexts, "C0SUPPORT")...)
		case 1:
			ps = append(ps, r.makePosts(1, reputationTexts, "C0PR")...)
		default:
			ps = append(ps, r.makePosts(1, promotionalTexts, "C0MARKETING")...)
		}
	}
	r.sendPosts(ps, true)
}

// resend sends posts already accepted again, as a connector does that
// missed an answer; in an array, new posts come with them.
func (r *round) resend() {
	r.mu.Lock()
	var acked []*sentPost
	for _, p := range r.posts {
		if !p.acked.IsZero() {
			acked = append(acked, p)
		}
	}
	r.mu.Unlock()
	k := r.rng.IntN(3)
	if len(acked) == 0 {
		return
	}
	ps := []*sentPost{acked[r.rng.IntN(len(acked))]}
	if k > 0 {
		ps = append(ps, acked[r.rng.IntN(len(acked))])
		ps = append(ps, r.makePosts(k, supportTexts, "C0SUPPORT")...)
	}
	r.sendPosts(ps, len(ps) > 1)
}

// sendPosts sends ps, as an array body or (one post) an object, from a
// goroutine of its own that retries until it gets a 2xx, as a connector
// does.
func (r *round) sendPosts(ps []*sentPost, array bool) {
	var body []byte
	if array {
		parts := make([]string, len(ps))
		for i, p := range ps {
			parts[i] = string(p.body)
		}
		body = []byte("[" + strings.Join(parts, ",") + "]")
	} else {
		body = ps[0].body
	}
	now := time.Now()
	r.mu.Lock()
	for _, p := range ps {
		if p.first.IsZero() {
			p.first = now
		}
	}
	r.mu.Unlock()
	// With replicas, a sender moves on to the next one when a request
	// fails, as a connector behind a load balancer would.
	start := r.rng.IntN(len(r.ds))
	r.senders.Go(func() {
		for try := start; ; try++ {
			r.reqs <- struct{}{}
			code, answer := sendBody(r.ctx, r.ds[try%len(r.ds)].url, body)
			<-r.reqs
			if code/100 == 2 && r.answered(ps, array, code, answer) {
				return
			}
			if r.ctx.Err() != nil {
				return
			}
			time.Sleep(10 * time.Millisecond) // a connector's retry pause
		}
	})
}

// answered records a 2xx answer for ps and reports whether it was one:
// any 2xx ends the sender's retries, and one that is not what the
// contract says fails the test.
func (r *round) answered(ps []*sentPost, array bool, code int, answer []byte) bool {
	type result struct {
		Code   int
		Status string
		ID     string
		Error  string
	}
	var results []result
	if array {
		var a struct{ Results []result }
		if code != http.StatusMultiStatus || json.Unmarshal(answer, &a) != nil || len(a.Results) != len(ps) {
			r.t.Errorf("array of %d posts answered %d %s, want 207 with a result each", len(ps), code, answer)
			return true
		}
		results = a.Results
	} else {
		var a result
		if json.Unmarshal(answer, &a) != nil {
			r.t.Errorf("post %s answered %d %s", ps[0].ext, code, answer)
			return true
		}
		a.Code = code
		results = []result{a}
	}
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, p := range ps {
		res := results[i]
		switch {
		case res.Code != http.StatusAccepted && res.Code != http.StatusOK || res.ID == "":
			r.t.Errorf("post %s answered %d %q %q, want 202 or 200 duplicate with an id", p.ext, res.Code, res.Status, res.Error)
		case p.id == "":
			p.id, p.acked = res.ID, now
			r.byID[p.id] = p
		case res.Code != http.StatusOK || res.Status != "duplicate" || res.ID != p.id:
			r.t.Errorf("post %s (%s) sent again: answered %d %s %s, want 200 duplicate %s", p.ext, p.id, res.Code, res.Status, res.ID, p.id)
		}
	}
	return true
}

// claimedBy finds who a message says claimed it.
var claimedBy = regexp.MustCompile(`Claimed by <@(U[A-Z0-9]+)>`)

// click makes a user click action on a message the daemon posted for a
// post, picked at random among those that offer it.
func (r *round) click(action string) {
	var cands []slackemu.Message
	for _, ch := range channels {
		for _, m := range r.emu.Messages(ch) {
			if postOf(m) != "" && strings.Contains(string(m.Blocks), `"action_id":"`+action+`"`) {
				cands = append(cands, m)
			}
		}
	}
	pick := r.rng.IntN(1 << 20)
	user := users[r.rng.IntN(len(users))]
	value := classes[r.rng.IntN(len(classes))]
	if len(cands) == 0 {
		return
	}
	m := cands[pick%len(cands)]
	c := slackemu.Click{UserID: user, Channel: m.Channel, MessageTS: m.TS, ActionID: action}
	if action == "resolve" {
		// The owner resolves; a click by someone else is refused, which
		// tests nothing here.
		if owner := claimedBy.FindStringSubmatch(m.PlainText()); owner != nil {
			c.UserID = owner[1]
		}
	}
	if action == "reclassify" {
		if value == metadataClass(m) {
			value = classes[(indexOf(classes, value)+1)%len(classes)]
		}
		c.SelectedValue = value
	}
	post := postOf(m)
	r.logf("click %s on %s (%s/%s) by %s %s", action, post, m.Channel, m.TS, c.UserID, c.SelectedValue)
	r.users.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := r.emu.PushClick(ctx, c)
		r.mu.Lock()
		r.clicks = append(r.clicks, clickDone{action: action, postID: post, user: c.UserID, value: c.SelectedValue, err: err})
		r.mu.Unlock()
	})
}

var classes = []string{"support", "reputation", "promotional"}

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

// routeCommand has the admin add a keyword rule with /route, or take the
// last change back.
func (r *round) routeCommand() {
	kw := ruleKeywords[r.rng.IntN(len(ruleKeywords))]
	text := fmt.Sprintf("add %s keyword %s", kw.dept, kw.word)
	if r.rng.IntN(3) == 0 {
		text = "undo"
	} else {
		r.mu.Lock()
		r.rules[kw.word] = kw.channel
		r.mu.Unlock()
	}
	r.logf("/route %s", text)
	r.users.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := r.emu.PushSlashCommand(ctx, slackemu.SlashCommand{Command: "/route", Text: text, UserID: "UADMIN", ChannelID: "C0SUPPORT"}); err != nil {
			r.logf("/route %s: %v", text, err)
		}
	})
}

// crash kills a daemon with SIGKILL and starts it again after a while:
// with replicas, the one that leads, so another takes over.
func (r *round) crash() {
	d := r.ds[r.rng.IntN(len(r.ds))]
	if len(r.ds) > 1 {
		for _, x := range r.ds {
			if x.role() == string(store.RoleLeader) {
				d = x
			}
		}
	}
	r.logf("SIGKILL %s (%s)", d.name, d.role())
	d.kill()
	r.pause(500)
	d.start(r.t)
}

// chatMethods are the Slack methods the faults hit.
var chatMethods = []string{"chat.postMessage", "chat.postMessage", "chat.update", "conversations.history", "conversations.replies", "chat.postEphemeral"}

// rateLimitStorm answers a run of calls with 429 and Retry-After.
func (r *round) rateLimitStorm() {
	m, f := chatMethods[r.rng.IntN(len(chatMethods))], slackemu.Fault{Times: 3 + r.rng.IntN(10), RateLimit: 1 + r.rng.IntN(2)}
	r.logf("fault %s: %+v", m, f)
	r.emu.InjectFault(m, f)
}

// serverErrors answers a run of calls with a 5xx.
func (r *round) serverErrors() {
	m := chatMethods[r.rng.IntN(len(chatMethods))]
	f := slackemu.Fault{Times: 2 + r.rng.IntN(5), Status: []int{500, 502, 503}[r.rng.IntN(3)]}
	r.logf("fault %s: %+v", m, f)
	r.emu.InjectFault(m, f)
}

// lateAnswer lets a post or update take effect and holds its answer back;
// half the time the daemon is killed while it waits, not knowing whether
// Slack has the message.
func (r *round) lateAnswer() {
	m := []string{"chat.postMessage", "chat.update"}[r.rng.IntN(2)]
	f := slackemu.Fault{Times: 1 + r.rng.IntN(2), Delay: time.Duration(500+r.rng.IntN(2500)) * time.Millisecond, Apply: true}
	r.logf("fault %s: %+v", m, f)
	r.emu.InjectFault(m, f)
	if r.rng.IntN(2) == 0 {
		r.pause(800)
		r.crash()
	}
}

// failAfterEffect lets calls take effect and then answers them with a 5xx
// or a 429: the daemon is told they failed.
func (r *round) failAfterEffect() {
	m := chatMethods[r.rng.IntN(2)]
	f := slackemu.Fault{Times: 1 + r.rng.IntN(3), Apply: true}
	if r.rng.IntN(2) == 0 {
		f.Status = 503
	} else {
		f.RateLimit = 1
	}
	r.logf("fault %s: %+v", m, f)
	r.emu.InjectFault(m, f)
}

// dropSockets ends every Socket Mode connection, as a network failure
// would, or asks the daemon to reconnect, as Slack does when it rotates
// connections.
func (r *round) dropSockets() {
	if r.rng.IntN(2) == 0 {
		r.logf("Socket Mode: disconnect, refresh_requested")
		r.emu.SendDisconnect("refresh_requested")
		return
	}
	r.logf("Socket Mode: drop connections")
	r.emu.DropConnections()
}

// postOf returns the post id a message shows on its own ("" for digests
// and messages that show no post).
func postOf(m slackemu.Message) string {
	p := payloadOf(m)
	return p.PostID
}

// metadataClass is the class a post's message was posted as.
func metadataClass(m slackemu.Message) string { return payloadOf(m).Class }

type payload struct {
	PostID  string   `json:"post_id"`
	PostIDs []string `json:"post_ids"` // a digest
	Class   string   `json:"class"`
}

func payloadOf(m slackemu.Message) payload {
	var p payload
	if m.Metadata != nil && m.Metadata.EventType == "socialroute_post" {
		json.Unmarshal(m.Metadata.EventPayload, &p)
	}
	return p
}
