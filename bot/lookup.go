package bot

import (
	"context"
	"fmt"
	"time"

	"github.com/slack-go/slack"

	"github.com/socialroute/socialroute/routing"
	"github.com/socialroute/socialroute/store"
)

// An attempt whose answer never came (the process died, or Slack answered
// too late) may or may not have put its message in Slack. Before such a
// post goes out again, Slack is asked: socialroute's messages carry the
// ids of the posts they show in their metadata, and a message found proves
// delivery only for the ids it carries — a post is never recorded as
// delivered because another post's message was found.

const (
	// findSkew is how far before an entry's first attempt the look-up
	// starts reading, allowing for clock skew with Slack.
	findSkew = 5 * time.Minute
	// findPages bounds the pages of 200 messages one look-up reads; the
	// window from the first attempt to now rarely holds more than one.
	findPages = 50
)

// sought is a post whose earlier attempt may be in Slack.
type sought struct {
	id string
	// move is how many times the post was reclassified: only a message
	// of its latest move counts, not the one it was moved from.
	move  int
	since time.Time // no message of an attempt at it is older
}

// seek describes p for a look-up.
func seek(p store.Pending) sought {
	since := p.Entry.Tried
	if since.IsZero() { // an entry written before attempts were timed
		since = p.Record.Post.ReceivedAt
	}
	return sought{id: p.Record.Post.ID, move: moves(p.Record), since: since}
}

// moves counts the reclassifications in rec's history.
func moves(rec store.Record) int {
	n := 0
	for _, e := range rec.History {
		if e.Action == "reclassified" {
			n++
		}
	}
	return n
}

// lookup finds which of posts are in Slack already, in channel and, when
// threadTS is given, in that thread too (an earlier attempt may have put a
// post in either place). It returns the message ts of each post found.
func (d *deliverer) lookup(ctx context.Context, channel, threadTS string, posts []sought) (map[string]string, error) {
	want := make(map[string]int, len(posts))
	var since time.Time
	for _, p := range posts {
		want[p.id] = p.move
		since = earliest(since, p.since)
	}
	found := make(map[string]string, len(posts))
	visit := func(m slack.Message) bool {
		for _, ref := range carried(m.Metadata) {
			if move, ok := want[ref.post]; ok && move == ref.move {
				if _, dup := found[ref.post]; !dup {
					found[ref.post] = m.Timestamp
				}
			}
		}
		return len(found) == len(want)
	}
	if threadTS != "" {
		done, err := scanThread(ctx, d.api, channel, threadTS, visit)
		if err != nil {
			return nil, fmt.Errorf("look for an earlier attempt: %w", err)
		}
		if done {
			return found, nil
		}
	}
	if _, err := scanHistory(ctx, d.api, channel, since, visit); err != nil {
		return nil, fmt.Errorf("look for an earlier attempt: %w", err)
	}
	return found, nil
}

// scanThread shows visit the replies in thread threadTS of channel, with
// their metadata, until visit says it is done; it reports whether it did.
func scanThread(ctx context.Context, api *slack.Client, channel, threadTS string, visit func(slack.Message) bool) (bool, error) {
	params := &slack.GetConversationRepliesParameters{ChannelID: channel, Timestamp: threadTS, Limit: 200, IncludeAllMetadata: true}
	for range findPages {
		msgs, more, next, err := api.GetConversationRepliesContext(ctx, params)
		if err != nil {
			return false, fmt.Errorf("read thread %s: %w", threadTS, err)
		}
		for _, m := range msgs {
			if visit(m) {
				return true, nil
			}
		}
		if !more || next == "" {
			break
		}
		params.Cursor = next
	}
	return false, nil
}

// scanHistory shows visit the messages of channel from oldest (less the
// allowance for clock skew) on, newest first, with their metadata, until
// visit says it is done; it reports whether it did.
func scanHistory(ctx context.Context, api *slack.Client, channel string, oldest time.Time, visit func(slack.Message) bool) (bool, error) {
	params := &slack.GetConversationHistoryParameters{
		ChannelID:          channel,
		Oldest:             slackTS(oldest.Add(-findSkew)),
		Limit:              200,
		IncludeAllMetadata: true,
	}
	for range findPages {
		resp, err := api.GetConversationHistoryContext(ctx, params)
		if err != nil {
			return false, fmt.Errorf("read history of %s: %w", channel, err)
		}
		for _, m := range resp.Messages {
			if visit(m) {
				return true, nil
			}
		}
		if !resp.HasMore || resp.ResponseMetaData.NextCursor == "" {
			break
		}
		params.Cursor = resp.ResponseMetaData.NextCursor
	}
	return false, nil
}

// postRef is one post a message shows, at one of its moves.
type postRef struct {
	post string
	move int
}

// carried lists the posts a message of socialroute's shows: the post of a
// routed message, or every post of a digest.
func carried(md slack.SlackMetadata) []postRef {
	if md.EventType != metadataEventType {
		return nil
	}
	move := 0
	if f, ok := md.EventPayload["move"].(float64); ok {
		move = int(f)
	}
	if id, ok := md.EventPayload["post_id"].(string); ok {
		return []postRef{{id, move}}
	}
	ids, _ := md.EventPayload["post_ids"].([]any)
	out := make([]postRef, 0, len(ids))
	for _, v := range ids {
		if id, ok := v.(string); ok {
			out = append(out, postRef{post: id}) // a moved post is never in a digest
		}
	}
	return out
}

// digestMetadata identifies a digest of recs.
func digestMetadata(recs []store.Record) slack.SlackMetadata {
	ids := make([]any, len(recs))
	for i, r := range recs {
		ids[i] = r.Post.ID
	}
	return slack.SlackMetadata{EventType: metadataEventType, EventPayload: map[string]any{"post_ids": ids}}
}

// postMetadata identifies the message of rec's post at its current move.
func postMetadata(rec store.Record) slack.SlackMetadata {
	class := routing.Class("")
	if rec.Decision != nil {
		class = rec.Decision.Class
	}
	payload := map[string]any{"post_id": rec.Post.ID, "class": string(class)}
	if n := moves(rec); n > 0 {
		payload["move"] = n
	}
	return slack.SlackMetadata{EventType: metadataEventType, EventPayload: payload}
}
