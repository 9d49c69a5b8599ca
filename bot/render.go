package bot

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/socialroute/socialroute/routing"
	"github.com/socialroute/socialroute/store"
)

// Action ids of the buttons on a routed message (DESIGN.md).
const (
	ActionClaim      = "claim"
	ActionUnclaim    = "unclaim"
	ActionResolve    = "resolve"
	ActionEscalate   = "escalate"
	ActionReclassify = "reclassify"
)

// metadataEventType marks messages socialroute posted for a post; the
// payload carries the post id, which is how a delivery that may already
// have reached Slack is found again.
const metadataEventType = "socialroute_post"

// Messages socialroute posts about a post or an incident carry metadata of
// their own kinds, so that an attempt that may already have reached Slack
// is found there instead of being posted again. They never carry a
// post_id: they are not deliveries of a post.
const (
	reminderEventType   = "socialroute_reminder"
	alertEventType      = "socialroute_alert"
	escalationEventType = "socialroute_escalation"
)

// Slack refuses section text over 3000 characters.
const maxSectionText = 2900

var classTitle = map[routing.Class]string{
	routing.Support:     "Support",
	routing.Reputation:  "Reputation",
	routing.Promotional: "Promotional",
}

var classEmoji = map[routing.Class]string{
	routing.Support:     ":sos:",
	routing.Reputation:  ":rotating_light:",
	routing.Promotional: ":moneybag:",
}

var platformTitle = map[string]string{
	"x": "X", "facebook": "Facebook", "instagram": "Instagram", "linkedin": "LinkedIn",
	"reddit": "Reddit", "mastodon": "Mastodon", "tiktok": "TikTok", "youtube": "YouTube",
	"review": "Review", "email": "Email", "other": "Other",
}

// actionsBlockID names the actions block of post id's message; handlers
// read the post id back from it, since select option values are fixed.
func actionsBlockID(postID string) string { return "post:" + postID }

// PostIDFromBlockID returns the post id encoded by actionsBlockID.
func PostIDFromBlockID(blockID string) (string, bool) {
	return strings.CutPrefix(blockID, "post:")
}

// renderPost builds the message for a routed post in its current state:
// notification text, Block Kit blocks and the metadata that identifies it.
// A note, when given, says what happened to the post (moved elsewhere) and
// replaces the buttons. inc, when given, is the incident the post opened:
// its message then also shows the incident's counts.
func renderPost(rec store.Record, note string, inc *store.Incident) (string, []slack.Block, slack.SlackMetadata) {
	p, d := rec.Post, routing.Decision{}
	if rec.Decision != nil {
		d = *rec.Decision
	}
	title := fmt.Sprintf("%s %s · %s", classEmoji[d.Class], classTitle[d.Class], platformName(p.Platform))
	if d.Unsure {
		title = fmt.Sprintf(":grey_question: Unsure: %s or %s? · %s", classTitle[d.Class], classTitle[d.Runner], platformName(p.Platform))
	}
	if d.Priority == "high" {
		title += " · :exclamation: high priority"
	}

	blocks := []slack.Block{
		slack.NewSectionBlock(mrkdwn("*"+escape(title)+"*\n"+authorLine(p.Author)), nil, nil),
		slack.NewSectionBlock(mrkdwn(quote(p.Text)), nil, nil),
		slack.NewContextBlock("", contextElements(p, d)...),
	}
	if inc != nil && inc.Count > 1 {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(incidentLine(*inc))))
	}
	if status := statusLines(rec, note); status != "" {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(status)))
	}
	if note == "" && rec.Resolved == nil {
		blocks = append(blocks, actionsBlock(rec))
	}

	fallback := fmt.Sprintf("[%s] %s: %s", d.Class, authorShort(p.Author), truncate(p.Text, 150))
	return fallback, blocks, postMetadata(rec)
}

// movedLine is the note that replaces the buttons of a message whose post
// was moved to channel as class by user.
func movedLine(channel string, class routing.Class, user string) string {
	return fmt.Sprintf(":arrow_right: Moved to <#%s> as %s by <@%s>", channel, classTitle[class], user)
}

// movedNote is the note for a message of rec's post at channel/ts: the
// latest move, when the post has moved on from that message since, or "".
func movedNote(rec store.Record, channel, ts string) string {
	if d := rec.Delivery; d != nil && d.Channel == channel && d.TS == ts {
		return ""
	}
	for i := len(rec.History) - 1; i >= 0; i-- {
		if e := rec.History[i]; e.Action == "reclassified" && rec.Decision != nil {
			return movedLine(rec.Decision.Channel, rec.Decision.Class, e.User)
		}
	}
	return ""
}

// incidentLine summarises an incident on its message.
func incidentLine(inc store.Incident) string {
	return fmt.Sprintf(":rotating_light: *Incident: %d posts* · reach %s · first seen %s · last seen %s · see thread",
		inc.Count, groupDigits(inc.Reach), slackDate(inc.First), slackDate(inc.Last))
}

// statusLines says who owns, resolved or escalated the post.
func statusLines(rec store.Record, note string) string {
	var lines []string
	if note != "" {
		lines = append(lines, note)
	}
	if rec.Claimed != nil && rec.Resolved == nil {
		lines = append(lines, fmt.Sprintf(":bust_in_silhouette: Claimed by <@%s> %s", rec.Claimed.User, slackDate(rec.Claimed.At)))
	}
	if rec.Resolved != nil {
		lines = append(lines, fmt.Sprintf(":white_check_mark: Resolved by <@%s> %s", rec.Resolved.User, slackDate(rec.Resolved.At)))
	}
	if rec.Escalated != nil {
		lines = append(lines, fmt.Sprintf(":arrow_up: Escalated to PR by <@%s> %s", rec.Escalated.User, slackDate(rec.Escalated.At)))
	}
	return strings.Join(lines, "\n")
}

// slackDate renders t in each reader's own time zone.
func slackDate(t time.Time) string {
	return fmt.Sprintf("<!date^%d^{date_short_pretty} at {time}|%s>", t.Unix(), t.UTC().Format("2006-01-02 15:04 UTC"))
}

func actionsBlock(rec store.Record) *slack.ActionBlock {
	postID := rec.Post.ID
	var elems []slack.BlockElement
	if rec.Claimed == nil {
		claim := slack.NewButtonBlockElement(ActionClaim, postID, plain("Claim"))
		claim.Style = slack.StylePrimary
		elems = append(elems, claim)
	} else {
		resolve := slack.NewButtonBlockElement(ActionResolve, postID, plain("Resolve"))
		resolve.Style = slack.StylePrimary
		elems = append(elems, resolve, slack.NewButtonBlockElement(ActionUnclaim, postID, plain("Unclaim")))
	}
	if rec.Decision != nil && rec.Decision.Class != routing.Reputation && rec.Escalated == nil {
		elems = append(elems, slack.NewButtonBlockElement(ActionEscalate, postID, plain("Escalate to PR")))
	}
	var opts []*slack.OptionBlockObject
	for _, c := range routing.Classes {
		opts = append(opts, slack.NewOptionBlockObject(string(c), plain(classTitle[c]), nil))
	}
	elems = append(elems, slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Reclassify"), ActionReclassify, opts...))
	return slack.NewActionBlock(actionsBlockID(postID), elems...)
}

func contextElements(p routing.Post, d routing.Decision) []slack.MixedElement {
	var parts []string
	if p.URL != "" {
		if u, err := url.Parse(p.URL); err == nil && (u.Scheme == "https" || u.Scheme == "http") {
			parts = append(parts, fmt.Sprintf("<%s|View on %s>", p.URL, platformName(p.Platform)))
		}
	}
	parts = append(parts, "confidence "+percent(d.Confidence))
	if !p.CreatedAt.IsZero() {
		parts = append(parts, fmt.Sprintf("<!date^%d^posted {date_short_pretty} {time}|posted %s>", p.CreatedAt.Unix(), p.CreatedAt.Format("2006-01-02 15:04 MST")))
	}
	parts = append(parts, "id "+p.ID)
	return []slack.MixedElement{mrkdwn(strings.Join(parts, " · "))}
}

func authorLine(a routing.Author) string {
	var b strings.Builder
	switch {
	case a.Name != "" && a.Handle != "":
		fmt.Fprintf(&b, "%s (%s)", escape(a.Name), escape(a.Handle))
	case a.Name != "":
		b.WriteString(escape(a.Name))
	case a.Handle != "":
		b.WriteString(escape(a.Handle))
	default:
		b.WriteString("unknown author")
	}
	if a.Followers > 0 {
		fmt.Fprintf(&b, " · %s followers", groupDigits(a.Followers))
	}
	if a.Verified {
		b.WriteString(" · :white_check_mark: verified")
	}
	return b.String()
}

// percent shows a probability without claiming certainty it never has.
func percent(p float64) string {
	switch {
	case p >= 0.995:
		return ">99%"
	case p < 0.005:
		return "<1%"
	}
	return fmt.Sprintf("%.0f%%", p*100)
}

func authorShort(a routing.Author) string {
	if a.Handle != "" {
		return a.Handle
	}
	if a.Name != "" {
		return a.Name
	}
	return "someone"
}

func platformName(p string) string {
	if t, ok := platformTitle[p]; ok {
		return t
	}
	return p
}

// quote renders post text as a mrkdwn block quote, escaped so that a post
// cannot ping channels or users, and cut to fit a section.
func quote(text string) string {
	t := truncate(text, maxSectionText)
	lines := strings.Split(escape(t), "\n")
	return "> " + strings.Join(lines, "\n> ")
}

// escape neutralises the three characters Slack's mrkdwn treats as control
// characters (https://api.slack.com/reference/surfaces/formatting#escaping).
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max]) + fmt.Sprintf("… (%d more characters)", len(r)-max)
}

func groupDigits(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, true, false)
}
