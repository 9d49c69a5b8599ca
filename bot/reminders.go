package bot

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/slack-go/slack"

	"github.com/socialroute/socialroute/routing"
	"github.com/socialroute/socialroute/store"
)

// SLA says when posts waiting for people get reminders.
type SLA struct {
	Claim        time.Duration // an unclaimed support post gets a reminder after this
	Resolve      time.Duration // a claimed post reminds its owner after this
	VIPFollowers int64         // authors with this many followers, or verified, are VIPs
	VIPFactor    float64       // a VIP's deadlines are this fraction of the normal ones
}

func (s SLA) withDefaults() SLA {
	if s.Claim <= 0 {
		s.Claim = 30 * time.Minute
	}
	if s.Resolve <= 0 {
		s.Resolve = 4 * time.Hour
	}
	if s.VIPFactor <= 0 || s.VIPFactor > 1 {
		s.VIPFactor = 1
	}
	return s
}

// deadline is how long post p may wait for kind ("claim" or "resolve").
func (s SLA) deadline(p routing.Post, kind string) time.Duration {
	d := s.Claim
	if kind == "resolve" {
		d = s.Resolve
	}
	if p.Author.Verified || p.Author.Followers >= s.VIPFollowers {
		d = time.Duration(float64(d) * s.VIPFactor)
	}
	return d
}

// envelopeMemory is how long handled envelope ids are remembered; Slack
// gives up redelivering long before.
const envelopeMemory = time.Hour

// remind sweeps open posts for overdue ones every ReminderEvery until ctx
// ends, and brings incident messages held back by their throttle, and
// messages whose changes a click could not draw, up to date. A reminder is marked in flight in the store before it is posted and
// recorded as sent once Slack has it; a reminder whose attempt may have
// reached Slack is looked for in the thread before it is posted again, so
// none is lost to a failure or sent twice, across restarts too.
func (b *Bot) remind(ctx context.Context) {
	t := time.NewTicker(b.opts.ReminderEvery)
	defer t.Stop()
	// A new leader redraws every marked message at once: some were left
	// undrawn by a process that stopped, and drawing one a live replica is
	// drawing too does no harm, since both draw the stored state.
	// Escalations left by a stopped process are finished at once when no
	// other process can be posting them; with replicas, one may be, and
	// they wait out their lease.
	b.redrawPending(ctx, b.opts.Now())
	if b.store.Exclusive() {
		b.finishEscalations(ctx, b.started)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := b.sweep(ctx); err != nil && ctx.Err() == nil {
			b.log.Error().Err(err).Msg("reminder sweep")
		}
		b.deliverer.flushIncidents(ctx)
		b.finishEscalations(ctx, b.opts.Now().Add(-b.escalationLease()))
		b.redrawPending(ctx, b.opts.Now().Add(-redrawGrace))
		b.sweeps.Add(1)
	}
}

// Sweeps is how many reminder sweeps have completed since start.
func (b *Bot) Sweeps() uint64 { return b.sweeps.Load() }

type overdue struct {
	id   string
	kind string
}

func (b *Bot) sweep(ctx context.Context) error {
	now := b.opts.Now()
	sla := b.opts.SLA
	shortest := func(d time.Duration) time.Duration { return time.Duration(float64(d) * sla.VIPFactor) }
	var candidates []overdue
	err := b.store.OpenItems(func(it store.OpenItem) bool {
		switch {
		case !it.Claimed && it.Class == routing.Support && !now.Before(it.Since.Add(shortest(sla.Claim))):
			candidates = append(candidates, overdue{it.PostID, "claim"})
		case it.Claimed && !now.Before(it.Since.Add(shortest(sla.Resolve))):
			candidates = append(candidates, overdue{it.PostID, "resolve"})
		}
		return ctx.Err() == nil
	})
	if err != nil {
		return err
	}
	for _, c := range candidates {
		if ctx.Err() != nil {
			return nil
		}
		if err := b.remindOne(ctx, c, now); err != nil {
			b.log.Error().Err(err).Str("post_id", c.id).Str("reminder", c.kind).Msg("reminder failed")
		}
	}
	_, err = b.store.PruneEnvelopes(now.Add(-envelopeMemory))
	return err
}

func (b *Bot) remindOne(ctx context.Context, c overdue, now time.Time) error {
	rec, err := b.store.Get(c.id)
	if err != nil {
		return err
	}
	if rec.Delivery == nil {
		return nil // reclassified since the sweep listed it: it starts over
	}
	since, wait := rec.Delivery.At, b.opts.SLA.deadline(rec.Post, c.kind)
	if c.kind == "resolve" && rec.Claimed != nil {
		since = rec.Claimed.At
	}
	if now.Before(since.Add(wait)) || (c.kind == "claim" && rec.Reminded.Claim) || (c.kind == "resolve" && rec.Reminded.Resolve) {
		return nil
	}
	rec, send, inFlight, err := b.store.BeginReminder(c.id, c.kind)
	if err != nil || !send {
		return err
	}
	text := fmt.Sprintf(":alarm_clock: Nobody has claimed this post for %s. Can someone take it?", humanDuration(now.Sub(since)))
	// The key names this reminder among all of the thread's: a resolve
	// reminder is for one claim, and a later claim gets its own.
	key := map[string]string{"reminder_for": c.id, "kind": c.kind}
	if c.kind == "resolve" {
		text = fmt.Sprintf(":alarm_clock: <@%s>, you claimed this post %s ago and it is not resolved yet.", rec.Claimed.User, humanDuration(now.Sub(since)))
		key["claim"] = rec.Claimed.User + "/" + strconv.FormatInt(rec.Claimed.At.UnixNano(), 10)
	}
	channel, thread := rec.Delivery.Channel, rec.Delivery.TS
	find := func(ctx context.Context) (string, error) {
		return findMessage(ctx, b.api, channel, thread, time.Time{}, hasMetadata(reminderEventType, key))
	}
	post := func(ctx context.Context) (string, error) {
		_, ts, err := b.api.PostMessageContext(ctx, channel, slack.MsgOptionText(text, false), slack.MsgOptionTS(thread),
			slack.MsgOptionMetadata(metadata(reminderEventType, key)))
		return ts, err
	}
	if _, _, err := b.calls.create(ctx, inFlight, find, post); err != nil {
		return fmt.Errorf("post reminder (will retry): %w", err)
	}
	if err := b.store.RemindedSent(c.id, c.kind); err != nil {
		return fmt.Errorf("record reminder (the next sweep finds it in Slack): %w", err)
	}
	b.opts.Metrics.ReminderSent(c.kind)
	b.log.Info().Str("post_id", c.id).Str("reminder", c.kind).Str("channel", channel).Msg("reminder sent")
	return nil
}

func humanDuration(d time.Duration) string {
	d = d.Round(time.Minute)
	h, m := int(d.Hours()), int(d.Minutes())%60
	switch {
	case h == 0:
		return fmt.Sprintf("%d min", m)
	case m == 0:
		return fmt.Sprintf("%d h", h)
	}
	return fmt.Sprintf("%d h %d min", h, m)
}
