package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/slack-go/slack"

	"github.com/socialroute/socialroute/routing"
	"github.com/socialroute/socialroute/store"
)

// Learner takes a person's correction of a post's class as a training
// example. It is optional: without one, corrections only re-route.
type Learner interface {
	Learn(ctx context.Context, p routing.Post, c routing.Class, user string) error
}

// click is one button press or menu choice on a routed message.
type click struct {
	envelopeID string
	user       string
	channel    string // where the message is
	ts         string // the message's ts
	actionID   string
	postID     string
	value      string // selected option for menus
}

// clicks extracts the actions of a block_actions payload that belong to
// routed messages.
func clicks(envelopeID string, cb slack.InteractionCallback) []click {
	var out []click
	for _, a := range cb.ActionCallback.BlockActions {
		id, ok := PostIDFromBlockID(a.BlockID)
		if !ok {
			continue
		}
		c := click{
			envelopeID: envelopeID, user: cb.User.ID, actionID: a.ActionID, postID: id,
			channel: cb.Container.ChannelID, ts: cb.Container.MessageTs, value: a.Value,
		}
		if c.channel == "" {
			c.channel = cb.Channel.ID
		}
		if c.ts == "" {
			c.ts = cb.Message.Timestamp
		}
		if a.SelectedOption.Value != "" {
			c.value = a.SelectedOption.Value
		}
		out = append(out, c)
	}
	return out
}

func (b *Bot) isAdmin(user string) bool { return slices.Contains(b.opts.Admins, user) }

// onClick carries out one click. The envelope was acked already; Slack's
// redeliveries of the same envelope are recognised and ignored.
func (b *Bot) onClick(ctx context.Context, c click) {
	log := b.log.With().Str("post_id", c.postID).Str("user", c.user).Str("action", c.actionID).Logger()
	first, err := b.store.FirstSeen(c.envelopeID + "/" + c.actionID)
	if err != nil {
		log.Error().Err(err).Msg("record envelope")
		return
	}
	if !first {
		b.redelivered.Add(1)
		b.opts.Metrics.Redelivery()
		log.Debug().Str("envelope_id", c.envelopeID).Msg("redelivered envelope ignored")
		return
	}
	switch c.actionID {
	case ActionClaim:
		err = b.claim(ctx, c)
	case ActionUnclaim:
		err = b.changeOwned(ctx, c, b.store.Unclaim)
	case ActionResolve:
		err = b.changeOwned(ctx, c, b.store.Resolve)
	case ActionReclassify:
		err = b.reclassify(ctx, c)
	case ActionEscalate:
		err = b.escalate(ctx, c)
	default:
		return
	}
	if err != nil {
		log.Error().Err(err).Msg("interaction failed")
		b.tell(ctx, c, "Sorry, that did not work: "+clickError(err))
		return
	}
	b.opts.Metrics.Interaction(c.actionID)
	log.Info().Msg("interaction done")
}

func (b *Bot) claim(ctx context.Context, c click) error {
	rec, won, err := b.store.Claim(c.postID, c.user)
	if err != nil {
		return err
	}
	switch {
	case won:
		return b.refresh(ctx, rec, "")
	case rec.Claimed.User != c.user:
		b.tell(ctx, c, fmt.Sprintf("Already claimed by <@%s>.", rec.Claimed.User))
	}
	return nil
}

// changeOwned unclaims or resolves: only the owner or an admin may.
func (b *Bot) changeOwned(ctx context.Context, c click, change func(id, user string, admin bool) (store.Record, error)) error {
	rec, err := change(c.postID, c.user, b.isAdmin(c.user))
	switch {
	case errors.Is(err, store.ErrNotOwner):
		b.tell(ctx, c, fmt.Sprintf("Only <@%s>, who claimed this, or an admin can do that.", rec.Claimed.User))
		return nil
	case errors.Is(err, store.ErrNotClaimed), errors.Is(err, store.ErrResolved):
		b.tell(ctx, c, "Nothing to do: this post is "+clickError(err)+".")
		return b.refresh(ctx, rec, "")
	case err != nil:
		return err
	}
	return b.refresh(ctx, rec, "")
}

func (b *Bot) reclassify(ctx context.Context, c click) error {
	class, err := routing.ParseClass(c.value)
	if err != nil {
		return err
	}
	rec, err := b.store.Get(c.postID)
	if err != nil {
		return err
	}
	if rec.Decision != nil && rec.Decision.Class == class && !rec.Decision.Unsure {
		b.tell(ctx, c, fmt.Sprintf("This post is already %s.", class))
		return nil
	}
	dept, ok := b.router().DepartmentFor(class)
	if !ok {
		return fmt.Errorf("no department owns %s", class)
	}
	d := routing.Decision{
		Class: class, Confidence: 1, Department: dept.Name, Channel: dept.Channel,
		Reasons: []routing.Reason{{Class: class, Kind: "person", Detail: "reclassified by " + c.user, Weight: 1}},
	}
	before, err := b.store.Reclassify(c.postID, c.user, b.isAdmin(c.user), d)
	if errors.Is(err, store.ErrNotOwner) {
		b.tell(ctx, c, fmt.Sprintf("Only <@%s>, who claimed this, or an admin can do that.", before.Claimed.User))
		return nil
	}
	if err != nil {
		return err
	}
	if b.learner != nil {
		if err := b.learner.Learn(ctx, before.Post, class, c.user); err != nil {
			b.log.Error().Err(err).Str("post_id", c.postID).Msg("store correction as an example")
		}
	}
	note := fmt.Sprintf(":arrow_right: Moved to <#%s> as %s by <@%s>", dept.Channel, classTitle[class], c.user)
	return b.refresh(ctx, before, note)
}

func (b *Bot) escalate(ctx context.Context, c click) error {
	pr, ok := b.router().DepartmentFor(routing.Reputation)
	if !ok {
		return errors.New("no department owns reputation")
	}
	// The first click marks the post; a click at the same time, here or
	// on another replica, finds the mark and posts nothing.
	rec, won, err := b.store.StartEscalation(c.postID, c.user)
	if err != nil {
		return err // ErrNotDelivered: moving to another channel right now
	}
	if !won {
		if rec.Escalated.User != c.user {
			b.tell(ctx, c, fmt.Sprintf("Already escalated to PR by <@%s>.", rec.Escalated.User))
		}
		return nil
	}
	ts, err := b.postEscalation(ctx, rec, pr.Channel, c.user)
	if err != nil {
		if cerr := b.store.CancelEscalation(c.postID, c.user); cerr != nil {
			b.log.Error().Err(cerr).Str("post_id", c.postID).Msg("take back a failed escalation")
		}
		return err
	}
	rec, err = b.store.Escalated(c.postID, c.user, pr.Channel+"/"+ts)
	if err != nil {
		return err
	}
	return b.refresh(ctx, rec, "")
}

// postEscalation posts a link to rec's message and its text to channel.
func (b *Bot) postEscalation(ctx context.Context, rec store.Record, channel, user string) (string, error) {
	link, err := b.api.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: rec.Delivery.Channel, Ts: rec.Delivery.TS})
	if err != nil {
		return "", fmt.Errorf("permalink: %w", err)
	}
	text := fmt.Sprintf(":arrow_up: <@%s> escalated a %s post from <#%s> to PR: <%s|open it>\n%s",
		user, rec.Decision.Class, rec.Delivery.Channel, link, quote(truncate(rec.Post.Text, 500)))
	_, ts, err := b.api.PostMessageContext(ctx, channel, slack.MsgOptionText(text, false), slack.MsgOptionDisableLinkUnfurl())
	if err != nil {
		return "", fmt.Errorf("post escalation to %s: %w", channel, err)
	}
	return ts, nil
}

// refresh redraws a post's message in place.
func (b *Bot) refresh(ctx context.Context, rec store.Record, note string) error {
	if rec.Delivery == nil {
		return nil
	}
	var inc *store.Incident
	if rec.Incident == rec.Post.ID {
		if i, err := b.store.Incident(rec.Incident); err == nil {
			inc = &i
		}
	}
	text, blocks, _ := renderPost(rec, note, inc)
	_, _, _, err := b.api.UpdateMessageContext(ctx, rec.Delivery.Channel, rec.Delivery.TS,
		slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	if err != nil {
		return fmt.Errorf("update message: %w", err)
	}
	return nil
}

// tell answers the clicking user alone.
func (b *Bot) tell(ctx context.Context, c click, text string) {
	if _, err := b.api.PostEphemeralContext(ctx, c.channel, c.user, slack.MsgOptionText(text, false)); err != nil {
		b.log.Warn().Err(err).Str("user", c.user).Msg("ephemeral reply failed")
	}
}

// clickError says what went wrong in words for the person who clicked.
func clickError(err error) string {
	switch {
	case errors.Is(err, store.ErrNotClaimed):
		return "not claimed"
	case errors.Is(err, store.ErrResolved):
		return "already resolved"
	case errors.Is(err, store.ErrNotDelivered):
		return "being moved right now"
	case errors.Is(err, store.ErrNotFound):
		return "no longer known to socialroute"
	}
	return "an internal error; it has been logged"
}
