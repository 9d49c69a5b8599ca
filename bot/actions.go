package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

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
		return b.redrawPost(ctx, rec)
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
		// The message the click came from was out of date.
		if rec.Delivery == nil {
			return nil
		}
		return b.draw(ctx, rec.Delivery.Channel, rec.Delivery.TS, rec)
	case err != nil:
		return err
	}
	return b.redrawPost(ctx, rec)
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
		Reasons: []routing.Reason{{Class: class, Kind: reasonPerson, Detail: "reclassified by " + c.user, Weight: 1}},
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
	return b.redrawPost(ctx, before)
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
	err = b.finishEscalation(ctx, rec, pr.Channel, false)
	var pending errEscalationPending
	if errors.As(err, &pending) {
		b.log.Warn().Err(err).Str("post_id", c.postID).Msg("escalation not confirmed by Slack; it is checked and finished later")
		b.tell(ctx, c, "Slack has not confirmed the escalation yet; it will be finished shortly.")
		return nil
	}
	return err
}

// errEscalationPending says an escalation's PR message may be in Slack:
// it stays marked in the store and finishEscalations completes it.
type errEscalationPending struct{ err error }

func (e errEscalationPending) Error() string { return e.err.Error() }
func (e errEscalationPending) Unwrap() error { return e.err }

// escalationLease is how long an escalation may stay unconfirmed before
// the sweep takes it over: past its poster's whole time for the attempt,
// with room for clocks that differ between replicas.
func (b *Bot) escalationLease() time.Duration {
	return b.opts.WriteDeadline + b.opts.RequestTimeout + time.Minute
}

// finishEscalation posts the PR message of rec's escalation to channel and
// records it. inFlight says an earlier attempt may have posted it already:
// it is looked for first. Within the lease of the escalation mark, so
// that the sweep never takes over an attempt still under way. The mark is
// taken back only when Slack surely has no message; if it may have one,
// the error is an errEscalationPending.
func (b *Bot) finishEscalation(ctx context.Context, rec store.Record, channel string, inFlight bool) error {
	postCtx, cancel := context.WithTimeout(ctx, b.opts.WriteDeadline)
	defer cancel()
	user := rec.Escalated.User
	ts, maybe, err := b.postEscalation(postCtx, rec, channel, inFlight)
	if err != nil {
		if maybe {
			return errEscalationPending{err}
		}
		if cerr := b.store.CancelEscalation(rec.Post.ID, user); cerr != nil {
			b.log.Error().Err(cerr).Str("post_id", rec.Post.ID).Msg("take back a failed escalation")
		}
		return err
	}
	rec, err = b.store.Escalated(rec.Post.ID, user, channel+"/"+ts)
	if err != nil {
		return err
	}
	return b.redrawPost(ctx, rec)
}

// postEscalation posts a link to rec's message and its text to channel,
// with metadata naming the escalation so that an attempt that may have
// reached Slack is found there. maybe reports, with an error, that it may
// be in Slack all the same.
func (b *Bot) postEscalation(ctx context.Context, rec store.Record, channel string, inFlight bool) (ts string, maybe bool, err error) {
	var link string
	err = b.calls.do(ctx, func(ctx context.Context) error {
		var err error
		link, err = b.api.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: rec.Delivery.Channel, Ts: rec.Delivery.TS})
		return err
	})
	if err != nil {
		return "", inFlight, fmt.Errorf("permalink: %w", err)
	}
	mark := rec.Escalated
	text := fmt.Sprintf(":arrow_up: <@%s> escalated a %s post from <#%s> to PR: <%s|open it>\n%s",
		mark.User, rec.Decision.Class, rec.Delivery.Channel, link, quote(truncate(rec.Post.Text, 500)))
	key := map[string]string{"escalated_post": rec.Post.ID, "by": mark.User, "at": strconv.FormatInt(mark.At.UnixNano(), 10)}
	find := func(ctx context.Context) (string, error) {
		return findMessage(ctx, b.api, channel, "", mark.At, hasMetadata(escalationEventType, key))
	}
	post := func(ctx context.Context) (string, error) {
		_, ts, err := b.api.PostMessageContext(ctx, channel, slack.MsgOptionText(text, false), slack.MsgOptionDisableLinkUnfurl(),
			slack.MsgOptionMetadata(metadata(escalationEventType, key)))
		return ts, err
	}
	ts, maybe, err = b.calls.create(ctx, inFlight, find, post)
	if err != nil {
		return "", maybe, fmt.Errorf("post escalation to %s: %w", channel, err)
	}
	return ts, false, nil
}

// finishEscalations completes escalations begun before cutoff whose
// poster gave up without knowing whether Slack had the PR message, or
// died: each is looked for in the PR channel and posted only if absent.
func (b *Bot) finishEscalations(ctx context.Context, cutoff time.Time) {
	ids, err := b.store.PendingEscalations(cutoff)
	if err != nil {
		b.log.Error().Err(err).Msg("read pending escalations")
		return
	}
	pr, ok := b.router().DepartmentFor(routing.Reputation)
	for _, id := range ids {
		if ctx.Err() != nil || !ok {
			return
		}
		rec, err := b.store.Get(id)
		switch {
		case err != nil:
			b.log.Error().Err(err).Str("post_id", id).Msg("read pending escalation")
			continue
		case rec.Escalated == nil || rec.EscalatedTo != "" || rec.Delivery == nil:
			continue // finished meanwhile, or moving to another channel: later
		}
		if err := b.finishEscalation(ctx, rec, pr.Channel, true); err != nil {
			if ctx.Err() == nil {
				b.log.Error().Err(err).Str("post_id", id).Msg("finish pending escalation")
			}
			continue
		}
		b.log.Info().Str("post_id", id).Msg("pending escalation finished")
	}
}

// tell answers the clicking user alone. An ephemeral message cannot be
// looked up afterwards, so it is retried only after failures that surely
// had no effect: the user may miss an answer, never see it twice.
func (b *Bot) tell(ctx context.Context, c click, text string) {
	err := b.calls.once(ctx, func(ctx context.Context) error {
		_, err := b.api.PostEphemeralContext(ctx, c.channel, c.user, slack.MsgOptionText(text, false))
		return err
	})
	if err != nil {
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
