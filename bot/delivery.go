package bot

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"

	"github.com/socialroute/socialroute/routing"
	"github.com/socialroute/socialroute/store"
)

// Outbox is the part of the store the delivery worker drains.
type Outbox interface {
	Due(now time.Time, limit int) ([]store.Pending, time.Time, error)
	BeginAttempt(id string, d routing.Decision) (routing.Decision, error)
	Delivered(id, channel, ts string) error
	Retry(id string, next time.Time, reason string) error
	Park(id, reason string) error
	Wake() <-chan struct{}
}

// Router decides where a post goes.
type Router interface {
	Route(routing.Post) routing.Decision
	DepartmentFor(routing.Class) (routing.Department, bool)
}

const (
	dueBatch    = 64
	idleRecheck = 30 * time.Second // safety net when no wake-up comes
	maxBackoff  = 5 * time.Minute
	// findWindow is how far before a post's arrival the in-flight look-up
	// starts reading channel history, allowing for clock skew with Slack.
	findWindow = 5 * time.Minute
	findPages  = 5
)

// permanent lists Slack errors that no retry will fix: the entry is parked
// for an operator instead of retried forever.
var permanent = map[string]bool{
	"channel_not_found": true, "not_in_channel": true, "is_archived": true,
	"invalid_blocks": true, "invalid_blocks_format": true, "msg_too_long": true,
	"no_text": true, "restricted_action": true, "invalid_metadata_format": true,
	"invalid_metadata_schema": true, "metadata_too_large": true,
}

// deliverer posts outbox entries to Slack.
type deliverer struct {
	api    *slack.Client
	outbox Outbox
	router func() Router
	now    func() time.Time
	log    zerolog.Logger
}

// run drains the outbox until ctx ends. An attempt under way when ctx ends
// is abandoned as it stands; its entry stays in flight in the outbox and the
// next run checks Slack before posting it again.
func (d *deliverer) run(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		due, next, err := d.outbox.Due(d.now(), dueBatch)
		if err != nil {
			d.log.Error().Err(err).Msg("read outbox")
		}
		storeOK := err == nil
		for _, p := range due {
			if ctx.Err() != nil {
				return
			}
			if err := d.deliver(ctx, p); err != nil {
				d.log.Error().Err(err).Str("post_id", p.Entry.PostID).Msg("delivery bookkeeping failed")
				storeOK = false
				break
			}
		}
		// Attempts reschedule what they could not deliver, so after any
		// work the outbox is read again for the new earliest due time.
		if len(due) > 0 && storeOK {
			continue
		}
		wait := idleRecheck
		switch {
		case !storeOK:
			wait = time.Second // the store is failing: do not spin
		case !next.IsZero():
			wait = min(wait, max(0, next.Sub(d.now())))
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-d.outbox.Wake():
		case <-timer.C:
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// deliver makes one attempt at p. Slack's failures are handled here (retry
// or park); an error means the store itself failed.
func (d *deliverer) deliver(ctx context.Context, p store.Pending) error {
	post := p.Record.Post
	log := d.log.With().Str("post_id", post.ID).Logger()

	decision := d.router().Route(post)
	decision, err := d.outbox.BeginAttempt(post.ID, decision)
	if err != nil {
		return fmt.Errorf("record routing decision: %w", err)
	}
	log = log.With().Str("class", string(decision.Class)).Str("channel", decision.Channel).Logger()

	if p.Entry.InFlight {
		ts, err := d.find(ctx, post, decision.Channel)
		if err != nil {
			return d.failed(ctx, log, p.Entry, err)
		}
		if ts != "" {
			log.Info().Str("ts", ts).Msg("post was already in Slack; recorded without posting again")
			return d.record(post.ID, decision.Channel, ts)
		}
	}

	rec := p.Record
	rec.Decision = &decision
	text, blocks, meta := renderPost(rec, "")
	_, ts, err := d.api.PostMessageContext(ctx, decision.Channel,
		slack.MsgOptionText(text, false),
		slack.MsgOptionBlocks(blocks...),
		slack.MsgOptionMetadata(meta),
		slack.MsgOptionDisableLinkUnfurl(),
	)
	if err != nil {
		return d.failed(ctx, log, p.Entry, err)
	}
	if err := d.record(post.ID, decision.Channel, ts); err != nil {
		return err
	}
	log.Info().Str("ts", ts).Dur("latency", d.now().Sub(post.ReceivedAt)).Msg("post delivered")
	return nil
}

// record notes where post id landed. Should that fail, the message is in
// Slack and the entry stays in flight, so the next attempt finds it there
// instead of posting it again.
func (d *deliverer) record(id, channel, ts string) error {
	if err := d.outbox.Delivered(id, channel, ts); err != nil {
		return fmt.Errorf("record delivery as %s/%s: %w", channel, ts, err)
	}
	return nil
}

// find looks for a message socialroute already posted for post in channel,
// by the post id in its metadata, and returns its ts ("" if none).
func (d *deliverer) find(ctx context.Context, post routing.Post, channel string) (string, error) {
	params := &slack.GetConversationHistoryParameters{
		ChannelID:          channel,
		Oldest:             slackTS(post.ReceivedAt.Add(-findWindow)),
		Limit:              200,
		IncludeAllMetadata: true,
	}
	for range findPages {
		resp, err := d.api.GetConversationHistoryContext(ctx, params)
		if err != nil {
			return "", fmt.Errorf("look for earlier attempt: %w", err)
		}
		for _, m := range resp.Messages {
			if m.Metadata.EventType == metadataEventType && m.Metadata.EventPayload["post_id"] == post.ID {
				return m.Timestamp, nil
			}
		}
		if !resp.HasMore || resp.ResponseMetaData.NextCursor == "" {
			return "", nil
		}
		params.Cursor = resp.ResponseMetaData.NextCursor
	}
	return "", nil
}

// failed decides what a failed attempt means for the entry: retry later,
// or park it for good.
func (d *deliverer) failed(ctx context.Context, log zerolog.Logger, e store.OutboxEntry, err error) error {
	if ctx.Err() != nil {
		return nil // shutting down: the entry stays as it is and is retried on start
	}
	retry, after := classify(err, e.Attempts)
	if !retry {
		log.Error().Err(err).Msg("delivery failed permanently; parked until an operator acts")
		return d.outbox.Park(e.PostID, err.Error())
	}
	log.Warn().Err(err).Int("attempt", e.Attempts+1).Dur("retry_in", after).Msg("delivery failed; will retry")
	return d.outbox.Retry(e.PostID, d.now().Add(after), err.Error())
}

// classify says whether err is worth retrying and after how long.
// A 429 is retried after Slack's Retry-After; errors Slack reports
// about the request itself are permanent; everything else (5xx, network,
// timeouts) backs off exponentially with jitter.
func classify(err error, attempts int) (retry bool, after time.Duration) {
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return true, max(rl.RetryAfter, time.Second)
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) && permanent[se.Err] {
		return false, 0
	}
	return true, backoff(attempts)
}

func backoff(attempts int) time.Duration {
	d := time.Second << min(attempts, 9)
	d = min(d, maxBackoff)
	// Full jitter on the upper half, so retries of many entries spread out.
	return d/2 + rand.N(d/2+1)
}

// slackTS formats t as a Slack timestamp.
func slackTS(t time.Time) string {
	if t.Before(time.Unix(0, 0)) {
		return "0"
	}
	return strconv.FormatInt(t.Unix(), 10) + ".000000"
}
