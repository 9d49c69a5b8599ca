package bot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/slack-go/slack"

	"github.com/socialroute/socialroute/store"
)

// A change people see on a message (claimed, resolved, escalated, moved)
// is stored with a redraw mark for that message. The click that made it
// redraws at once; the leader's sweep redraws what is still marked after
// redrawGrace (the click's attempt failed for good, or its process
// stopped), and at once when it starts leading.

const (
	// redrawGrace leaves a click's own redraw time to finish before the
	// sweep draws the same message.
	redrawGrace = 30 * time.Second
	redrawBatch = 100
)

// redraw brings message channel/ts up to date with its post's stored state
// if it is marked for a redraw, and clears the mark once Slack shows it.
func (b *Bot) redraw(ctx context.Context, channel, ts string) error {
	mark, pending, err := b.store.PendingRedraw(channel, ts)
	if err != nil || !pending {
		return err
	}
	return b.redrawMarked(ctx, mark)
}

// redrawPost redraws the message rec was on when it was read.
func (b *Bot) redrawPost(ctx context.Context, rec store.Record) error {
	if rec.Delivery == nil {
		return nil // on its way to another channel; the move's message is new
	}
	return b.redraw(ctx, rec.Delivery.Channel, rec.Delivery.TS)
}

func (b *Bot) redrawMarked(ctx context.Context, mark store.Redraw) error {
	rec, err := b.store.Get(mark.PostID)
	if errors.Is(err, store.ErrNotFound) {
		return b.store.Redrawn(mark) // pruned since: nothing left to show
	}
	if err != nil {
		return err
	}
	if err := b.draw(ctx, mark.Channel, mark.TS, rec); err != nil {
		return err
	}
	return b.store.Redrawn(mark)
}

// draw renders rec onto its message channel/ts: its current state, with
// its incident's counts if it opened one, or the note that it moved on if
// the message is one it has left.
func (b *Bot) draw(ctx context.Context, channel, ts string, rec store.Record) error {
	var inc *store.Incident
	if i, err := b.store.Incident(rec.Post.ID); err == nil {
		inc = &i
	}
	text, blocks, _ := renderPost(rec, movedNote(rec, channel, ts), inc)
	err := b.calls.do(ctx, func(ctx context.Context) error {
		_, _, _, err := b.api.UpdateMessageContext(ctx, channel, ts, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
		return err
	})
	if err != nil {
		return fmt.Errorf("update message: %w", err)
	}
	return nil
}

// redrawPending redraws the messages marked before cutoff.
func (b *Bot) redrawPending(ctx context.Context, cutoff time.Time) {
	marks, err := b.store.PendingRedraws(cutoff, redrawBatch)
	if err != nil {
		b.log.Error().Err(err).Msg("read messages to redraw")
		return
	}
	for _, m := range marks {
		if ctx.Err() != nil {
			return
		}
		if err := b.redrawMarked(ctx, m); err != nil && ctx.Err() == nil {
			b.log.Warn().Err(err).Str("post_id", m.PostID).Str("channel", m.Channel).Msg("redraw message; will try again")
		}
	}
}
