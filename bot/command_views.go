package bot

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/socialroute/socialroute/routing"
	"github.com/socialroute/socialroute/store"
)

// This file holds the commands that only read: list, test, preview, audit,
// stats and history.

// current returns the stored rule set with its routing and the configured
// routing (no overrides, no rules).
func (h *commands) current() (store.RuleSet, *routing.Router, *routing.Router, error) {
	rs, err := h.opts.Store.Rules()
	if err != nil {
		return rs, nil, nil, err
	}
	r, err := h.opts.BuildRouter(rs)
	if err != nil {
		return rs, nil, nil, err
	}
	base, err := h.opts.BuildRouter(store.RuleSet{})
	return rs, r, base, err
}

func (h *commands) list() reply {
	rs, r, base, err := h.current()
	if err != nil {
		return h.failure(err)
	}
	active := map[string]bool{}
	for _, rule := range r.Rules() {
		active[rule.ID] = true
	}
	out := reply{title: fmt.Sprintf("Routing rules: %d, applied in order before the model", len(rs.Rules))}
	if len(rs.Rules) == 0 {
		out.title = "No routing rules: the model decides where every post goes"
		out.lines = append(out.lines, fmt.Sprintf("`%s add <department> <kind> <value>` adds one; `%s help add` explains.", h.name, h.name))
	}
	for i, rule := range rs.Rules {
		from := "added by " + who(rule.CreatedBy)
		if rule.CreatedBy == "config" {
			from = "from the config"
		}
		line := fmt.Sprintf("%d. `%s` %s · %s %s", i+1, rule.ID, showText(rule.String()), from, when(rule.CreatedAt))
		if !active[rule.ID] {
			line += " · :warning: inactive: its department is no longer configured"
		}
		out.lines = append(out.lines, line)
	}
	out.lines = append(out.lines, "*Departments*")
	for _, d := range r.Departments() {
		line := fmt.Sprintf("• *%s* → <#%s>", d.Name, d.Channel)
		if len(d.Classes) > 0 {
			cs := make([]string, len(d.Classes))
			for i, c := range d.Classes {
				cs[i] = string(c)
			}
			line += " · owns " + strings.Join(cs, ", ")
		} else {
			line += " · gets posts only through rules"
		}
		if cd, ok := departmentOf(base, d.Name); ok && cd.Channel != d.Channel {
			line += fmt.Sprintf(" · set in Slack (the config says <#%s>)", cd.Channel)
		}
		out.lines = append(out.lines, line)
	}
	line := fmt.Sprintf("• *triage* → <#%s> · posts the model is less than %s sure of", r.TriageChannel(), percent(r.MinConfidence()))
	if r.MinConfidence() != base.MinConfidence() {
		line += fmt.Sprintf(" · set in Slack (the config says %s)", strconv.FormatFloat(base.MinConfidence(), 'f', -1, 64))
	}
	out.lines = append(out.lines, line)
	return out
}

func (h *commands) test(text string) reply {
	_, r, _, err := h.current()
	if err != nil {
		return h.failure(err)
	}
	d := r.Route(routing.Post{Text: text})
	out := reply{}
	if d.Unsure {
		out.title = fmt.Sprintf("This would go to triage, <#%s>: the model is only %s sure it is %s", d.Channel, percent(d.Confidence), d.Class)
	} else {
		out.title = fmt.Sprintf("This would go to %s, <#%s>", d.Department, d.Channel)
	}
	out.lines = append(out.lines, quote(truncate(text, 500)))
	facts := fmt.Sprintf("Class *%s* · confidence %s · runner-up %s", d.Class, percent(d.Confidence), d.Runner)
	if d.Priority == routing.PriorityHigh {
		facts += " · high priority"
	}
	if d.Incident {
		facts += " · marked as an incident"
	}
	out.lines = append(out.lines, facts)
	if rule, ok := r.MatchingRule(routing.Post{Text: text}); ok {
		out.lines = append(out.lines, fmt.Sprintf("Rule `%s` decided: %s", rule.ID, showText(rule.String())))
	}
	var ev []string
	for _, re := range d.Reasons {
		if re.Kind != "rule" {
			ev = append(ev, "• "+escape(re.String()))
		}
	}
	if len(ev) > 0 {
		out.lines = append(out.lines, "*The model's evidence*")
		out.lines = append(out.lines, ev[:min(len(ev), 10)]...)
	} else {
		out.lines = append(out.lines, "The model found no evidence in this text.")
	}
	out.lines = append(out.lines, "_Nothing was stored. Rules on author, platform, followers or verified accounts can't match a bare text._")
	return out
}

// previewExamples is how many posts a preview shows.
const previewExamples = 5

// preview replays the stored posts of c.Window through the routing before
// and after the change, and counts the posts that would change department.
func (h *commands) preview(ctx context.Context, inv invocation, c Command) reply {
	rs, cur, base, err := h.current()
	if err != nil {
		return h.failure(err)
	}
	next := rs.Clone()
	if _, err := h.applyTo(ctx, &next, *c.Change, inv.user, base, false); err != nil {
		return h.failure(err)
	}
	after, err := h.opts.BuildRouter(next)
	if err != nil {
		return h.failure(userError("that change would leave routing invalid: " + err.Error()))
	}
	type example struct {
		post     routing.Post
		from, to string
	}
	var (
		scanned, changed int
		moves            = map[string]int{}
		examples         []example
	)
	err = h.opts.Store.ScanPosts(h.now().Add(-c.Window), func(rec store.Record) bool {
		scanned++
		from, to := departmentName(cur.Route(rec.Post)), departmentName(after.Route(rec.Post))
		if from != to {
			changed++
			moves[from+" → "+to]++
			if len(examples) < previewExamples {
				examples = append(examples, example{rec.Post, from, to})
			}
		}
		return scanned < maxPreviewPosts && ctx.Err() == nil
	})
	if err != nil {
		return h.failure(err)
	}
	change := display(*c.Change)
	out := reply{title: fmt.Sprintf("Preview of `%s` on the last %s: %d of %d posts would change department",
		change, windowText(c.Window), changed, scanned)}
	if scanned >= maxPreviewPosts {
		out.lines = append(out.lines, fmt.Sprintf("_Only the oldest %d posts of that time were replayed._", maxPreviewPosts))
	}
	keys := make([]string, 0, len(moves))
	for k := range moves {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if moves[a] != moves[b] {
			return moves[b] - moves[a]
		}
		return strings.Compare(a, b)
	})
	for _, k := range keys {
		out.lines = append(out.lines, fmt.Sprintf("• %s: %d", k, moves[k]))
	}
	if len(examples) > 0 {
		out.lines = append(out.lines, "*Examples*")
	}
	for _, e := range examples {
		out.lines = append(out.lines, fmt.Sprintf("• %s → %s · %s: “%s”", e.from, e.to, escape(authorShort(e.post.Author)),
			escape(oneLine(truncate(e.post.Text, 140)))))
	}
	if ok, _ := h.isAdmin(ctx, inv.user); !ok {
		out.lines = append(out.lines, "_Nothing was changed. Only admins can apply a change._")
		return out
	}
	id, err := h.opts.Store.PutPending(store.PendingChange{User: inv.user, Command: c.Change.String()})
	if err != nil {
		h.log.Error().Err(err).Msg("store pending change")
		out.lines = append(out.lines, "_Nothing was changed; run the change itself to make it._")
		return out
	}
	out.lines = append(out.lines, "_Nothing was changed yet. Apply makes this change for every post from now on (for a day)._")
	apply := slack.NewButtonBlockElement(ActionApply, id, plain("Apply"))
	apply.Style = slack.StylePrimary
	out.actions = slack.NewActionBlock("route_preview", apply)
	return out
}

func departmentName(d routing.Decision) string {
	if d.Department == "" {
		return "triage"
	}
	return d.Department
}

func (h *commands) audit(n int) reply {
	entries, err := h.opts.Store.AuditLog(n)
	if err != nil {
		return h.failure(err)
	}
	if len(entries) == 0 {
		return replyf("The audit log is empty: nobody has changed routing from Slack yet.")
	}
	out := reply{title: fmt.Sprintf("Audit log: the last %s, newest first", plural(len(entries), "entry", "entries"))}
	for _, e := range entries {
		var what string
		switch e.Outcome {
		case store.OutcomeApplied:
			what = ":white_check_mark: changed"
		case store.OutcomeUndone:
			what = ":leftwards_arrow_with_hook: undid"
		case store.OutcomeRefused:
			what = ":no_entry: was refused"
		default:
			what = escape(e.Outcome)
		}
		line := fmt.Sprintf("• %s %s %s", when(e.At), who(e.User), what)
		if e.Detail != "" {
			line += ": " + showText(e.Detail)
		}
		if e.Command != "" {
			line += " · " + code(e.Command)
		}
		out.lines = append(out.lines, line)
	}
	return out
}

func (h *commands) stats(window time.Duration) reply {
	st, err := h.opts.Store.Stats(h.now().Add(-window))
	if err != nil {
		return h.failure(err)
	}
	t := st.Total
	out := reply{title: fmt.Sprintf("Posts of the last %s: %d received, %d claimed, %d resolved", windowText(window), t.Received, t.Claimed, t.Resolved)}
	if t.Received == 0 {
		return out
	}
	out.lines = append(out.lines, statsLine("all", t), "*By class*")
	for _, row := range st.ByClass {
		out.lines = append(out.lines, statsLine(row.Key, row))
	}
	out.lines = append(out.lines, "*By department*")
	for _, row := range st.ByDepartment {
		out.lines = append(out.lines, statsLine(row.Key, row))
	}
	return out
}

func statsLine(name string, r store.StatsRow) string {
	s := fmt.Sprintf("• *%s*: %d received · %d claimed · %d resolved", escape(name), r.Received, r.Claimed, r.Resolved)
	if r.Claimed > 0 {
		s += " · median time to claim " + shortDuration(r.MedianClaim)
	}
	if r.Resolved > 0 {
		s += " · to resolve " + shortDuration(r.MedianResolve)
	}
	return s
}

func (h *commands) history(n int, class routing.Class) reply {
	var keep func(store.Record) bool
	if class != "" {
		keep = func(r store.Record) bool { return r.Decision != nil && r.Decision.Class == class }
	}
	recs, err := h.opts.Store.RecentPosts(n, maxHistoryScan, keep)
	if err != nil {
		return h.failure(err)
	}
	kind := ""
	if class != "" {
		kind = string(class) + " "
	}
	if len(recs) == 0 {
		return replyf("No %sposts stored yet.", kind)
	}
	out := reply{title: fmt.Sprintf("The last %s, newest first", plural(len(recs), kind+"post", kind+"posts"))}
	for _, rec := range recs {
		line := "• " + when(rec.Post.ReceivedAt) + " "
		switch d := rec.Decision; {
		case d == nil:
			line += "_not routed yet_"
		case d.Unsure:
			line += fmt.Sprintf("*%s?* → triage", d.Class)
		default:
			line += fmt.Sprintf("*%s* → %s", d.Class, d.Department)
		}
		if rec.Delivery != nil {
			line += fmt.Sprintf(" <#%s>", rec.Delivery.Channel)
		} else if rec.Decision != nil {
			line += " (waiting for delivery)"
		}
		switch {
		case rec.Resolved != nil:
			line += " · resolved by " + who(rec.Resolved.User)
		case rec.Claimed != nil:
			line += " · claimed by " + who(rec.Claimed.User)
		}
		line += fmt.Sprintf(" · %s: “%s”", escape(authorShort(rec.Post.Author)), escape(oneLine(truncate(rec.Post.Text, 120))))
		out.lines = append(out.lines, line)
	}
	return out
}

// display shows a command in a reply as it was typed.
func display(c Command) string { return escape(unescapeSlack(c.String())) }

// who names a user in a reply: a Slack mention, or where a change came from.
func who(user string) string {
	switch {
	case user == "config":
		return "the config"
	case user == "cli":
		return "`socialroute rules import`"
	case isUserID(user):
		return "<@" + user + ">"
	case user == "":
		return "someone"
	}
	return escape(user)
}

func isUserID(s string) bool {
	return len(s) > 1 && (s[0] == 'U' || s[0] == 'W') && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) < 0
}

// when shows a time in the reader's own time zone.
func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return fmt.Sprintf("<!date^%d^{date_short} {time}|%s>", t.Unix(), t.UTC().Format("2006-01-02 15:04 UTC"))
}

func windowText(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0 && d > 24*time.Hour:
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	case d == 24*time.Hour:
		return "24 hours"
	case d == time.Hour:
		return "hour"
	}
	return fmt.Sprintf("%d hours", d/time.Hour)
}

func shortDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
}

// plural writes n with the singular or plural noun.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func joinAnd(items []string) string {
	switch len(items) {
	case 0:
		return "none"
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

var escapedChannelRe = regexp.MustCompile(`&lt;#([CG][A-Z0-9]+)&gt;`)

// showText puts plain text (a change's summary, a rule) into mrkdwn: escaped,
// except that channel references stay links.
func showText(s string) string {
	return escapedChannelRe.ReplaceAllString(escape(s), "<#$1>")
}
