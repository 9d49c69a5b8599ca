package bot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/slack-go/slack"
)

// Every Slack write other than outbox delivery (which keeps its own
// schedule in the store) goes through a caller: reminders, spike alerts,
// escalations, message redraws and ephemeral answers. classify is the one
// policy for what is worth retrying and when.

const (
	// defaultRequestTimeout bounds one HTTP request to Slack, so that a
	// Slack that answers slowly cannot hold a worker.
	defaultRequestTimeout = 15 * time.Second
	// defaultWriteDeadline bounds all the attempts at one write.
	defaultWriteDeadline = 2 * time.Minute
)

// caller makes Slack calls with retries: 429s after Slack's Retry-After,
// 5xx and network failures after a jittered backoff, permanent errors
// not at all, and nothing past its deadline or ctx.
type caller struct {
	deadline time.Duration
}

// do makes call until it succeeds, fails for good, or time is up. It suits
// writes that may safely be repeated: a chat.update redraws the same state.
func (c caller) do(ctx context.Context, call func(context.Context) error) error {
	return c.retry(ctx, call, func(error) bool { return true })
}

// once makes call like do, but never again after a failure that may have
// taken effect: an ephemeral answer cannot be looked up, so one whose fate
// is unknown is left at that rather than risk showing it twice.
func (c caller) once(ctx context.Context, call func(context.Context) error) error {
	return c.retry(ctx, call, func(err error) bool { return !mayHaveTakenEffect(err) })
}

// create posts a message exactly once. find looks for the message in
// Slack by the metadata it carries and returns its ts ("" if absent);
// post posts it. When an earlier attempt may have reached Slack (inFlight,
// or a failure here that Slack may have carried out), find runs before
// the next post. maybe reports, with an error, that the message may be in
// Slack after all: the caller keeps its in-flight mark for a later look.
func (c caller) create(ctx context.Context, inFlight bool, find, post func(context.Context) (string, error)) (ts string, maybe bool, err error) {
	uncertain := inFlight
	err = c.do(ctx, func(ctx context.Context) error {
		if uncertain {
			found, err := find(ctx)
			if err != nil {
				return fmt.Errorf("look for an earlier attempt: %w", err)
			}
			if found != "" {
				ts = found
				return nil
			}
			uncertain = false
		}
		t, err := post(ctx)
		if err != nil {
			// Only Slack's own refusal says for certain that nothing was
			// posted; a message is worth a look-up even after a 429.
			uncertain = !refused(err)
			return err
		}
		ts = t
		return nil
	})
	return ts, err != nil && uncertain, err
}

// retry runs call until it succeeds, classify calls its error permanent,
// again refuses, or the deadline or ctx would pass before the next try.
func (c caller) retry(ctx context.Context, call func(context.Context) error, again func(error) bool) error {
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(c.deadline, defaultWriteDeadline))
	defer cancel()
	for attempt := 0; ; attempt++ {
		err := call(ctx)
		if err == nil {
			return nil
		}
		retry, after := classify(err, attempt)
		if !retry || !again(err) || ctx.Err() != nil {
			return err
		}
		if end, ok := ctx.Deadline(); ok && time.Until(end) < after {
			return fmt.Errorf("out of time before the next try in %s: %w", after.Round(time.Millisecond), err)
		}
		t := time.NewTimer(after)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// refused reports whether Slack answered a call with ok false: it did
// not carry it out.
func refused(err error) bool {
	var se slack.SlackErrorResponse
	return errors.As(err, &se)
}

// mayHaveTakenEffect reports whether Slack may have carried out a call
// that failed with err. A 429 and an answer with ok false say it did not;
// a 5xx, a timeout or a broken connection leave it open.
func mayHaveTakenEffect(err error) bool {
	var rl *slack.RateLimitedError
	return !errors.As(err, &rl) && !refused(err)
}

// findMessage looks through channel's history since oldest (or, with
// threadTS, through that thread) for a message whose metadata match
// accepts, and returns its ts ("" if none). Calls that fail are not
// retried here: the caller's retry covers the whole attempt.
func findMessage(ctx context.Context, api *slack.Client, channel, threadTS string, oldest time.Time, match func(slack.SlackMetadata) bool) (string, error) {
	ts := ""
	visit := func(m slack.Message) bool {
		if m.Timestamp != threadTS && match(m.Metadata) {
			ts = m.Timestamp
			return true
		}
		return false
	}
	var err error
	if threadTS != "" {
		_, err = scanThread(ctx, api, channel, threadTS, visit)
	} else {
		_, err = scanHistory(ctx, api, channel, oldest, visit)
	}
	return ts, err
}

// hasMetadata returns a match for findMessage: metadata of eventType
// whose payload has every key of want with that value.
func hasMetadata(eventType string, want map[string]string) func(slack.SlackMetadata) bool {
	return func(md slack.SlackMetadata) bool {
		if md.EventType != eventType {
			return false
		}
		for k, v := range want {
			if got, _ := md.EventPayload[k].(string); got != v {
				return false
			}
		}
		return true
	}
}

// metadata builds message metadata of eventType carrying payload.
func metadata(eventType string, payload map[string]string) slack.SlackMetadata {
	p := make(map[string]any, len(payload))
	for k, v := range payload {
		p[k] = v
	}
	return slack.SlackMetadata{EventType: eventType, EventPayload: p}
}
