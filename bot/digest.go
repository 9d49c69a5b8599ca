package bot

import (
	"context"
	"fmt"
	"time"

	"github.com/slack-go/slack"

	"github.com/socialroute/socialroute/routing"
	"github.com/socialroute/socialroute/store"
)

// Digests: when a channel's backlog of promotional posts grows past
// DigestThreshold, they go out DigestSize at a time in one message, so the
// backlog drains within Slack's per-channel rate. Support posts are never
// merged: each needs its own buttons and owner.

// digestable reports whether decision's post may be merged into a digest.
// A post a person moved goes out on its own: someone asked for it.
func digestable(d routing.Decision) bool {
	return d.Class == routing.Promotional && !d.Unsure && d.Priority != "high" && !d.Incident && !byPerson(d)
}

// reasonPerson is the kind of reason a person's reclassification gives.
const reasonPerson = "person"

func byPerson(d routing.Decision) bool {
	for _, r := range d.Reasons {
		if r.Kind == reasonPerson {
			return true
		}
	}
	return false
}

// planDigests picks, per channel with a backlog over the threshold, the
// due promotional posts to merge, oldest first, in groups of at most size.
// It returns the groups by the index of their first post in due.
func planDigests(due []store.Pending, decisions []routing.Decision, threshold, size int) map[int][]int {
	if threshold <= 0 || size < 2 {
		return nil
	}
	byChannel := map[string][]int{}
	for i, d := range decisions {
		if digestable(d) {
			byChannel[d.Channel] = append(byChannel[d.Channel], i)
		}
	}
	groups := map[int][]int{}
	for _, idx := range byChannel {
		if len(idx) < threshold {
			continue
		}
		for len(idx) >= 2 {
			n := min(size, len(idx))
			groups[idx[0]] = idx[:n]
			idx = idx[n:]
		}
	}
	return groups
}

// deliverDigest posts ps, all bound for one channel, as one message. Like
// a single delivery it marks every entry in flight first. Entries found in
// flight may be in Slack already, in a digest grouped differently before a
// restart or as a message of their own: each is looked up by its own id,
// those found are recorded where they were found, and only the rest go out.
func (d *deliverer) deliverDigest(ctx context.Context, ps []store.Pending, decisions []routing.Decision) (time.Time, error) {
	channel := decisions[0].Channel
	log := d.log.With().Str("channel", channel).Logger()
	recs := make([]store.Record, len(ps))
	var inFlight []sought
	for i, p := range ps {
		dec, err := d.outbox.BeginAttempt(p.Record.Post.ID, decisions[i])
		if err != nil {
			return time.Time{}, fmt.Errorf("record routing decision: %w", err)
		}
		if p.Record.Decision == nil {
			d.metrics.Classified(string(dec.Class), dec.Unsure)
		}
		recs[i] = p.Record
		recs[i].Decision = &dec
		if p.Entry.InFlight {
			inFlight = append(inFlight, seek(p))
		}
	}
	if len(inFlight) > 0 {
		found, err := d.lookup(ctx, channel, "", inFlight)
		if err != nil {
			return d.failed(ctx, log, ps[0].Entry, err)
		}
		var rest []store.Pending
		var restRecs []store.Record
		for i, r := range recs {
			ts, ok := found[r.Post.ID]
			if !ok {
				rest, restRecs = append(rest, ps[i]), append(restRecs, r)
				continue
			}
			log.Info().Str("post_id", r.Post.ID).Str("ts", ts).Msg("post was already in Slack; recorded without posting again")
			if err := d.record(r.Post.ID, channel, ts); err != nil {
				return time.Time{}, err
			}
		}
		ps, recs = rest, restRecs
	}
	switch len(ps) {
	case 0:
		return time.Time{}, nil
	case 1:
		return d.send(ctx, log.With().Str("post_id", recs[0].Post.ID).Logger(), ps[0].Entry, recs[0], store.Assignment{}, channel, "")
	}

	text, blocks := renderDigest(recs)
	_, ts, err := d.api.PostMessageContext(ctx, channel,
		slack.MsgOptionText(text, false),
		slack.MsgOptionBlocks(blocks...),
		slack.MsgOptionMetadata(digestMetadata(recs)),
		slack.MsgOptionDisableLinkUnfurl(),
	)
	if err != nil {
		// The oldest post's entry carries the retry; the others follow it
		// through the channel's pause.
		return d.failed(ctx, log, ps[0].Entry, err)
	}
	if err := d.recordAll(recs, channel, ts); err != nil {
		return time.Time{}, err
	}
	for _, r := range recs {
		d.metrics.Delivered(string(r.Decision.Class), d.now().Sub(r.Post.ReceivedAt))
	}
	log.Info().Str("ts", ts).Int("posts", len(recs)).Msg("digest delivered")
	return time.Time{}, nil
}

func (d *deliverer) recordAll(recs []store.Record, channel, ts string) error {
	for _, r := range recs {
		if err := d.record(r.Post.ID, channel, ts); err != nil {
			return err
		}
	}
	return nil
}

// renderDigest shows several promotional posts in one message.
func renderDigest(recs []store.Record) (string, []slack.Block) {
	title := fmt.Sprintf("%s *Promotional digest: %d posts* (sent together while this channel has a backlog)", classEmoji[routing.Promotional], len(recs))
	blocks := []slack.Block{slack.NewSectionBlock(mrkdwn(title), nil, nil)}
	for _, r := range recs {
		p := r.Post
		blocks = append(blocks,
			slack.NewDividerBlock(),
			slack.NewSectionBlock(mrkdwn(platformName(p.Platform)+" · "+authorLine(p.Author)+"\n"+quote(truncate(p.Text, 280))), nil, nil),
			slack.NewContextBlock("", contextElements(p, *r.Decision)...),
		)
	}
	return fmt.Sprintf("Promotional digest: %d posts", len(recs)), blocks
}
