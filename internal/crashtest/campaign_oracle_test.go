package crashtest

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/socialroute/socialroute/internal/slackemu"
	"github.com/socialroute/socialroute/store"
)

// outcome counts what the oracle found in a round.
type outcome struct {
	accepted, delivered, digested, threaded, reclassified int
	lost, doubled, outOfOrder, wrongChannel, foreign      int
	storeDisagrees, claimsLost, notShown, escalations     int
	clicks, refusedClicks                                 int
}

func (o outcome) String() string {
	return fmt.Sprintf("accepted %d, delivered %d (in digests %d, in threads %d, reclassified %d); clicks %d (%d not acked); "+
		"lost %d, doubled %d, out of order %d, wrong channel %d, never accepted %d, store disagrees %d, claims lost %d, state not shown %d, escalation errors %d",
		o.accepted, o.delivered, o.digested, o.threaded, o.reclassified, o.clicks, o.refusedClicks,
		o.lost, o.doubled, o.outOfOrder, o.wrongChannel, o.foreign, o.storeDisagrees, o.claimsLost, o.notShown, o.escalations)
}

// appearance is one place a post is shown in Slack.
type appearance struct {
	channel, ts string
	thread      string // the thread's root ts, for a reply
	digest      bool
	moved       bool // the message says the post moved elsewhere
	wasMoved    bool // an earlier version of the message said so
	msg         slackemu.Message
}

func (a appearance) String() string {
	kind := "message"
	switch {
	case a.digest:
		kind = "digest entry"
	case a.thread != "":
		kind = "reply in thread " + a.thread
	}
	switch {
	case a.moved:
		kind += " (marked moved)"
	case a.wasMoved:
		kind += " (marked moved, then redrawn without the mark)"
	}
	return fmt.Sprintf("%s/%s %s", a.channel, a.ts, kind)
}

var (
	movedNote  = "Moved to <#"
	tagRe      = regexp.MustCompile(`\bc\d+p\d+\b`)
	channelFor = map[string]string{"support": "C0SUPPORT", "reputation": "C0PR", "promotional": "C0MARKETING"}
)

// check is the oracle. Every accepted post (a 2xx, or an accepted entry
// of a 207) is shown in Slack exactly once — its own message, a reply in
// an incident thread, or an entry of a digest — in the channel its stored
// decision names, a channel its text, a rule it matches or a person's
// reclassification sends it to, and the store records that very message.
// Each channel shows its posts in the order they arrived (a post acked
// before another was first sent comes first). Nothing the daemon posted
// is for a post never accepted. A claim Slack showed is still in the
// store, and every message shows its post's claim and resolution as
// stored. Every escalation recorded is in the PR channel exactly once.
func check(t *testing.T, r *round, st *store.Store) outcome {
	var o outcome
	seen := map[string][]appearance{}
	sequence := map[string][]shown{} // channel → the posts shown, in order
	escalated := map[string]int{}    // tag → escalation messages
	for _, ch := range channels {
		for _, m := range channelMessages(r.emu, ch) {
			p := payloadOf(m)
			moved := strings.Contains(m.PlainText(), movedNote)
			a := appearance{channel: ch, ts: m.TS, moved: moved, msg: m}
			for _, v := range m.Versions {
				a.wasMoved = a.wasMoved || strings.Contains(slackemu.Message{Text: v.Text, Blocks: v.Blocks}.PlainText(), movedNote)
			}
			if m.ThreadTS != m.TS {
				a.thread = m.ThreadTS
			}
			ids := p.PostIDs
			if p.PostID != "" {
				ids = []string{p.PostID}
			} else {
				a.digest = len(ids) > 0
			}
			for _, id := range ids {
				seen[id] = append(seen[id], a)
				if !moved {
					sequence[ch] = append(sequence[ch], shown{id, a})
				}
			}
			switch {
			case len(ids) > 0 || m.BotID == "":
			case strings.HasPrefix(m.Text, ":arrow_up:"):
				for _, tag := range tagRe.FindAllString(m.Text, -1) {
					escalated[tag]++
				}
			case strings.Contains(m.Text, "*Spike*"):
			default:
				o.foreign++
				t.Errorf("a message in %s that shows no post: %q", ch, m.Text)
			}
		}
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.clicks {
		o.clicks++
		if c.err != nil {
			o.refusedClicks++
		}
	}
	for id, as := range seen {
		if r.byID[id] == nil {
			o.foreign++
			t.Errorf("post %s is in Slack (%v) but was never accepted", id, as)
		}
	}

	// A reclassification teaches the model, so later posts with the same
	// text may go where a person sent the first one.
	learned := map[string]map[string]bool{}
	for _, p := range r.posts {
		if p.id == "" {
			continue
		}
		if rec, err := st.Get(p.id); err == nil {
			for _, e := range rec.History {
				if e.Action == "reclassified" {
					if learned[p.tmpl] == nil {
						learned[p.tmpl] = map[string]bool{}
					}
					f := strings.Fields(e.Detail)
					learned[p.tmpl][strings.TrimSuffix(f[len(f)-1], ")")] = true
				}
			}
		}
	}

	recs := map[string]store.Record{}
	for _, p := range r.posts {
		if p.id == "" {
			continue
		}
		o.accepted++
		rec, err := st.Get(p.id)
		if err != nil {
			t.Errorf("post %s (%s): not in the store: %v", p.ext, p.id, err)
			continue
		}
		recs[p.id] = rec
		var live, moved []appearance
		for _, a := range seen[p.id] {
			if a.moved {
				moved = append(moved, a)
			} else {
				live = append(live, a)
			}
		}
		re := reclassified(rec)
		if re {
			o.reclassified++
		}
		if len(moved) > 0 && !re {
			o.doubled++
			t.Errorf("post %s (%s) was never reclassified but a message says it moved: %v", p.ext, p.id, moved)
		}
		switch len(live) {
		case 0:
			o.lost++
			t.Errorf("LOST: post %s (%s), acked at %s, is not in Slack; store: decision %s, delivery %s, incident %q, history %s%s",
				p.ext, p.id, p.acked.Format("15:04:05.000"), decisionOf(rec), r.deliveryOf(rec), rec.Incident, historyOf(rec), r.logAbout(p.id))
			continue
		case 1:
			o.delivered++
		default:
			o.doubled++
			t.Errorf("DOUBLED: post %s (%s) is in Slack %d times: %v; store: delivery %+v, history %s%s",
				p.ext, p.id, len(live), live, rec.Delivery, historyOf(rec), r.logAbout(p.id))
			continue
		}
		a := live[0]
		if a.digest {
			o.digested++
		}
		if a.thread != "" {
			o.threaded++
		}
		switch {
		case rec.Decision == nil:
			o.storeDisagrees++
			t.Errorf("post %s (%s) is in Slack at %v but has no stored decision", p.ext, p.id, a)
			continue
		case a.channel != rec.Decision.Channel:
			o.wrongChannel++
			t.Errorf("post %s (%s) is in %s, but its decision names %s", p.ext, p.id, a.channel, rec.Decision.Channel)
		case !r.allowed(p, rec) && !learned[p.tmpl][rec.Decision.Channel]:
			o.wrongChannel++
			t.Errorf("post %s (%s) %q went to %s as %s; want %s, a matching rule's channel or one a post with the same text was moved to; reasons %+v",
				p.ext, p.id, p.text, rec.Decision.Channel, rec.Decision.Class, p.home, rec.Decision.Reasons)
		}
		if rec.Delivery == nil || rec.Delivery.Channel != a.channel || rec.Delivery.TS != a.ts {
			o.storeDisagrees++
			t.Errorf("post %s (%s) is in Slack at %v, but the store records delivery %+v%s", p.ext, p.id, a, rec.Delivery, r.logAbout(p.id))
		}
		if a.thread != "" {
			root, _ := r.emu.Message(a.channel, a.thread)
			// An incident is named after the post whose message opened it.
			if rootID := postOf(root); rootID == "" || rec.Incident != rootID {
				o.storeDisagrees++
				t.Errorf("post %s (%s) of incident %q is a reply under %s, the message of post %q", p.ext, p.id, rec.Incident, a.thread, rootID)
			}
		}
		if !re && !a.digest {
			o.claimsLost, o.notShown = o.claimsLost+r.checkClaim(t, p, rec, seen[p.id]), o.notShown+r.checkShown(t, p, rec, a)
		}
		switch n := escalated[p.ext]; {
		case rec.Escalated != nil && n != 1:
			o.escalations++
			t.Errorf("post %s (%s) was escalated by %s; the PR channel has %d escalation messages for it, want 1%s", p.ext, p.id, rec.Escalated.User, n, r.logAbout(p.id))
		case rec.Escalated == nil && n > 0:
			o.escalations++
			t.Errorf("post %s (%s) is not escalated, yet the PR channel has %d escalation messages for it%s", p.ext, p.id, n, r.logAbout(p.id))
		}
	}
	o.outOfOrder = r.checkOrder(t, sequence, recs)
	return o
}

// channelMessages lists every message in ch, thread replies included, in
// the order they were posted.
func channelMessages(emu *slackemu.Server, ch string) []slackemu.Message {
	var out []slackemu.Message
	for _, m := range emu.Messages(ch) {
		if m.ThreadTS != "" && m.ThreadTS != m.TS {
			continue // a broadcast reply: listed with its thread
		}
		if m.ThreadTS == "" {
			m.ThreadTS = m.TS
		}
		out = append(out, m)
		for _, reply := range emu.Replies(ch, m.TS) {
			if reply.TS != m.TS {
				out = append(out, reply)
			}
		}
	}
	slices.SortFunc(out, func(a, b slackemu.Message) int { return compareTS(a.TS, b.TS) })
	return out
}

// compareTS orders Slack timestamps ("seconds.micros", same width).
func compareTS(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

func reclassified(rec store.Record) bool {
	return slices.ContainsFunc(rec.History, func(e store.Event) bool { return e.Action == "reclassified" })
}

// allowed reports whether rec's channel is one p may go to: its text's,
// a rule's it matches (rules change while posts wait), or the one a
// person reclassified it to.
func (r *round) allowed(p *sentPost, rec store.Record) bool {
	ch := rec.Decision.Channel
	if reclassified(rec) {
		return ch == channelFor[string(rec.Decision.Class)]
	}
	return ch == p.home || (p.keyword != "" && r.rules[p.keyword] == ch)
}

// checkClaim fails the test when a message of p's ever showed a claim
// that the store no longer has, and returns how many it found.
func (r *round) checkClaim(t *testing.T, p *sentPost, rec store.Record, as []appearance) int {
	shown := map[string]bool{}
	for _, a := range as {
		versions := []slackemu.Message{a.msg}
		for _, v := range a.msg.Versions {
			versions = append(versions, slackemu.Message{Text: v.Text, Blocks: v.Blocks})
		}
		for _, v := range versions {
			if m := claimedBy.FindStringSubmatch(v.PlainText()); m != nil {
				shown[m[1]] = true
			}
		}
	}
	for user := range shown {
		if rec.Claimed == nil || rec.Claimed.User != user {
			t.Errorf("CLAIM LOST: post %s (%s) was shown claimed by %s; the store has claim %+v, history %s%s", p.ext, p.id, user, rec.Claimed, historyOf(rec), r.logAbout(p.id))
			return 1
		}
	}
	return 0
}

// checkShown fails the test when p's message does not show the claim or
// resolution the store has, and returns how many it found.
func (r *round) checkShown(t *testing.T, p *sentPost, rec store.Record, a appearance) int {
	text := a.msg.PlainText()
	var want string
	switch {
	case rec.Resolved != nil:
		want = "Resolved by <@" + rec.Resolved.User + ">"
	case rec.Claimed != nil:
		want = "Claimed by <@" + rec.Claimed.User + ">"
	default:
		if strings.Contains(text, "Claimed by") {
			want = "no claim"
		}
	}
	if want == "" || strings.Contains(text, want) {
		return 0
	}
	t.Errorf("NOT SHOWN: post %s (%s): the store has %s (history %s), but its message %v shows:\n%s%s", p.ext, p.id, want, historyOf(rec), a, text, r.logAbout(p.id))
	return 1
}

// shown is a post where a channel shows it.
type shown struct {
	id string
	at appearance
}

// checkOrder fails the test for each post a channel shows before a post
// that arrived earlier, and returns how many it found. Reclassified posts
// leave the order on purpose, and so do posts a rule change may re-route.
func (r *round) checkOrder(t *testing.T, sequence map[string][]shown, recs map[string]store.Record) int {
	bad := 0
	for ch, all := range sequence {
		var ss []shown
		for _, s := range all {
			// A post with a rule's keyword may move to another channel
			// while it waits, when an admin adds or undoes the rule: its
			// place among the channel's posts is not defined.
			if p := r.byID[s.id]; p != nil && p.keyword == "" && !reclassified(recs[s.id]) {
				ss = append(ss, s)
			}
		}
		// For each post, the earliest ack among the posts shown after it:
		// if that came before the post was first sent, the later post
		// arrived first and is shown after.
		var earliest shown
		for i := len(ss) - 1; i >= 0; i-- {
			p := r.byID[ss[i].id]
			if e := r.byID[earliest.id]; e != nil && e.acked.Before(p.first) {
				bad++
				t.Errorf("OUT OF ORDER in %s: post %s (%s, %s, first sent %s) is shown at %v, before post %s (%s, %s, acked %s) at %v, which arrived before it",
					ch, p.ext, p.id, decisionOf(recs[p.id]), p.first.Format("15:04:05.000"), ss[i].at,
					e.ext, e.id, decisionOf(recs[e.id]), e.acked.Format("15:04:05.000"), earliest.at)
			}
			if e := r.byID[earliest.id]; e == nil || p.acked.Before(e.acked) {
				earliest = ss[i]
			}
		}
	}
	return bad
}

// deliveryOf describes the delivery the store records for rec and what
// Slack has there.
func (r *round) deliveryOf(rec store.Record) string {
	d := rec.Delivery
	if d == nil {
		return "none"
	}
	m, ok := r.emu.Message(d.Channel, d.TS)
	if !ok {
		return fmt.Sprintf("%s/%s at %s, a message Slack does not have", d.Channel, d.TS, d.At.Format("15:04:05.000"))
	}
	p := payloadOf(m)
	return fmt.Sprintf("%s/%s at %s, a message that carries post %q / digest %v", d.Channel, d.TS, d.At.Format("15:04:05.000"), p.PostID, p.PostIDs)
}

func decisionOf(rec store.Record) string {
	if rec.Decision == nil {
		return "none"
	}
	return fmt.Sprintf("%s→%s", rec.Decision.Class, rec.Decision.Channel)
}

func historyOf(rec store.Record) string {
	var parts []string
	for _, e := range rec.History {
		parts = append(parts, fmt.Sprintf("%s %s %s %s", e.At.Format(time.TimeOnly), e.Action, e.User, e.Detail))
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

// logAbout returns the daemon's log lines about post id, for a failure
// message.
func (r *round) logAbout(id string) string {
	var lines []string
	for _, d := range r.ds {
		f, err := os.Open(d.log.Name())
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if strings.Contains(sc.Text(), id) {
				lines = append(lines, sc.Text())
			}
		}
		f.Close()
	}
	if len(lines) > 12 {
		lines = append(lines[:4], append([]string{"…"}, lines[len(lines)-8:]...)...)
	}
	if len(lines) == 0 {
		return ""
	}
	return "\n  daemon log:\n    " + strings.Join(lines, "\n    ")
}
