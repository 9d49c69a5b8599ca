package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/slack-go/slack"

	"github.com/socialroute/socialroute/routing"
	"github.com/socialroute/socialroute/store"
)

// userError is a change that cannot be made, told to the user as it is.
type userError string

func (e userError) Error() string { return string(e) }

// change makes a change (add, remove, move, set, undo): checked, stored
// with its audit entry and undo record in one commit, then swapped in as
// the routing for the next post.
func (h *commands) change(ctx context.Context, inv invocation, c Command) reply {
	if c.Verb == "undo" {
		return h.undo(inv)
	}
	base, err := h.opts.BuildRouter(store.RuleSet{})
	if err != nil {
		return h.failure(err)
	}
	var note string
	rs, err := h.opts.Store.ChangeRules(inv.user, inv.raw, func(rs *store.RuleSet) (string, error) {
		summary, err := h.applyTo(ctx, rs, c, inv.user, base, true)
		if err != nil {
			return "", err
		}
		if _, err := h.opts.BuildRouter(*rs); err != nil {
			return "", userError("that change would leave routing invalid: " + err.Error())
		}
		note = summary
		return summary, nil
	})
	if err != nil {
		return h.failure(err)
	}
	h.install(rs)
	h.log.Info().Str("user", inv.user).Str("change", note).Msg("routing changed")
	r := reply{title: ":white_check_mark: " + showText(note)}
	switch c.Verb {
	case "add":
		id := rs.Rules[len(rs.Rules)-1].ID
		r.lines = append(r.lines, fmt.Sprintf("It applies from the next post, as rule %d of %d. `%s move %s 1` makes it first; `%s undo` takes it back.",
			len(rs.Rules), len(rs.Rules), h.name, id, h.name))
	default:
		r.lines = append(r.lines, fmt.Sprintf("It applies from the next post. `%s undo` takes it back.", h.name))
	}
	return r
}

func (h *commands) undo(inv invocation) reply {
	ch, rs, err := h.opts.Store.UndoRules(inv.user, inv.raw)
	if errors.Is(err, store.ErrNothingToUndo) {
		return replyf("There is nothing to undo: no change to routing is on record.")
	}
	if err != nil {
		return h.failure(err)
	}
	h.install(rs)
	h.log.Info().Str("user", inv.user).Str("undone", ch.Summary).Msg("routing change undone")
	return reply{
		title: ":leftwards_arrow_with_hook: Undone: " + showText(ch.Summary),
		lines: []string{fmt.Sprintf("That change was made by %s %s; routing is back to how it was before it, from the next post on.",
			who(ch.User), when(ch.At))},
	}
}

// apply makes the change stored by a preview, for an admin who clicked
// its Apply button.
func (h *commands) apply(ctx context.Context, inv invocation, pendingID string) reply {
	if h.opts.Store == nil || h.opts.BuildRouter == nil {
		return replyf("Routing can't be changed from Slack here.")
	}
	inv.raw = "Apply button of preview " + pendingID
	if r, ok := h.authorize(ctx, inv); !ok {
		return r
	}
	p, err := h.opts.Store.TakePending(pendingID)
	if errors.Is(err, store.ErrNotFound) {
		return replyf("This preview was applied already or has expired (previews keep for a day). Run the preview again to apply it.")
	}
	if err != nil {
		return h.failure(err)
	}
	c, err := ParseCommand(p.Command)
	if err != nil || !previewable[c.Verb] {
		return replyf(":warning: This preview can't be applied: %s", code(p.Command))
	}
	inv.raw = h.name + " " + unescapeSlack(p.Command) + " (applied from a preview)"
	return h.change(ctx, inv, c)
}

// install builds the routing for rs and swaps it in for the next post.
func (h *commands) install(rs store.RuleSet) {
	r, err := h.opts.BuildRouter(rs)
	if err != nil {
		h.log.Error().Err(err).Msg("build routing after a change; the previous routing stays in use")
		return
	}
	h.swap(r)
}

func (h *commands) failure(err error) reply {
	var ue userError
	if errors.As(err, &ue) {
		return replyf(":warning: %s", showText(ue.Error()))
	}
	h.log.Error().Err(err).Msg("/route command failed")
	return replyf(":warning: Something went wrong on socialroute's side, and nothing was changed. The details are in its log.")
}

// applyTo makes change c to rs. base is the configured routing (what the
// departments are, and their configured channels). checkChannel asks Slack
// whether a new channel exists.
func (h *commands) applyTo(ctx context.Context, rs *store.RuleSet, c Command, user string, base *routing.Router, checkChannel bool) (string, error) {
	switch c.Verb {
	case "add":
		if _, ok := departmentOf(base, c.Rule.Department); !ok {
			return "", userError(fmt.Sprintf("%q is not a department or a class. Departments: %s; classes: support, reputation, promotional.",
				c.Rule.Department, departmentNames(base)))
		}
		r := c.Rule
		rs.NextID = max(rs.NextID, 1)
		r.ID = "r" + strconv.Itoa(rs.NextID)
		rs.NextID++
		r.CreatedBy, r.CreatedAt = user, h.now().UTC()
		rs.Rules = append(rs.Rules, r)
		return "added " + r.ID + ": " + r.String(), nil
	case "remove":
		i := ruleIndex(rs.Rules, c.RuleID)
		if i < 0 {
			return "", h.noSuchRule(c.RuleID)
		}
		r := rs.Rules[i]
		rs.Rules = slices.Delete(rs.Rules, i, i+1)
		return "removed " + r.ID + ": " + r.String(), nil
	case "move":
		i := ruleIndex(rs.Rules, c.RuleID)
		if i < 0 {
			return "", h.noSuchRule(c.RuleID)
		}
		r := rs.Rules[i]
		pos := min(c.Position, len(rs.Rules))
		rs.Rules = slices.Insert(slices.Delete(rs.Rules, i, i+1), pos-1, r)
		return fmt.Sprintf("moved %s to position %d of %d", r.ID, pos, len(rs.Rules)), nil
	case "set":
		if c.Setting == "threshold" {
			was := base.MinConfidence()
			if rs.MinConfidence != nil {
				was = *rs.MinConfidence
			}
			t := c.Threshold
			if t == was {
				return "", userError(fmt.Sprintf("the confidence threshold is %s already; nothing changed", strconv.FormatFloat(t, 'f', -1, 64)))
			}
			rs.MinConfidence = &t
			return fmt.Sprintf("confidence threshold set to %s (was %s): less sure posts go to triage",
				strconv.FormatFloat(t, 'f', -1, 64), strconv.FormatFloat(was, 'f', -1, 64)), nil
		}
		d, ok := departmentOf(base, c.Department)
		if !ok {
			return "", userError(fmt.Sprintf("%q is not a department. Departments: %s.", c.Department, departmentNames(base)))
		}
		was := d.Channel
		if ch, ok := rs.Channels[d.Name]; ok {
			was = ch
		}
		if c.Channel == was {
			return "", userError(fmt.Sprintf("department %s gets its posts in <#%s> already; nothing changed", d.Name, was))
		}
		if checkChannel {
			if err := h.checkChannel(ctx, c.Channel); err != nil {
				return "", err
			}
		}
		if c.Channel == d.Channel {
			delete(rs.Channels, d.Name)
		} else {
			if rs.Channels == nil {
				rs.Channels = map[string]string{}
			}
			rs.Channels[d.Name] = c.Channel
		}
		return fmt.Sprintf("department %s now gets its posts in <#%s> (was <#%s>)", d.Name, c.Channel, was), nil
	}
	return "", userError(c.Verb + " is not a change")
}

func (h *commands) noSuchRule(id string) error {
	return userError(fmt.Sprintf("there is no rule %s (`%s list` shows the ids)", id, h.name))
}

// checkChannel asks Slack about a channel before posts are sent there; only
// a definite "no such channel" stops the change.
func (h *commands) checkChannel(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, slackCallLimit)
	defer cancel()
	_, err := h.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: id})
	var se slack.SlackErrorResponse
	if errors.As(err, &se) && se.Err == "channel_not_found" {
		return userError(fmt.Sprintf("Slack doesn't know channel %s, or the bot can't see it (invite it to private channels first)", id))
	}
	if err != nil {
		h.log.Warn().Err(err).Str("channel", id).Msg("could not check channel; using it anyway")
	}
	return nil
}

// departmentOf finds a department by name, or by a class it owns.
func departmentOf(r *routing.Router, name string) (routing.Department, bool) {
	for _, d := range r.Departments() {
		if d.Name == name {
			return d, true
		}
	}
	if c := routing.Class(name); c.Valid() {
		return r.DepartmentFor(c)
	}
	return routing.Department{}, false
}

func departmentNames(r *routing.Router) string {
	var names []string
	for _, d := range r.Departments() {
		names = append(names, d.Name)
	}
	return joinAnd(names)
}

func ruleIndex(rules []routing.Rule, id string) int {
	return slices.IndexFunc(rules, func(r routing.Rule) bool { return r.ID == id })
}
