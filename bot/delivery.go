package bot

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"

	"github.com/socialroute/socialroute/internal/metrics"
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

// Incidents is the part of the store that groups reputation posts.
type Incidents interface {
	AssignIncident(id, channel string, rules store.IncidentRules) (store.Assignment, error)
	IncidentShown(incidentID string, at time.Time) error
	DirtyIncidents() ([]store.Incident, error)
	BeginAlert(incidentID string) (inc store.Incident, due, inFlight bool, err error)
	AlertSent(incidentID, ts string) error
	DueAlerts() ([]store.Incident, error)
	Get(id string) (store.Record, error)
}

// IncidentOptions configure incident threads; a zero Rules.Window turns
// grouping off.
type IncidentOptions struct {
	Rules        store.IncidentRules
	UpdateEvery  time.Duration // the incident message is updated at most this often
	MentionGroup string        // user group mentioned in spike alerts
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
)

// permanent lists Slack errors that no retry will fix: the entry is parked
// for an operator instead of retried forever, and other writes give up.
// The last line are errors of chat.update and chat.postEphemeral.
var permanent = map[string]bool{
	"channel_not_found": true, "not_in_channel": true, "is_archived": true,
	"invalid_blocks": true, "invalid_blocks_format": true, "msg_too_long": true,
	"no_text": true, "restricted_action": true, "invalid_metadata_format": true,
	"invalid_metadata_schema": true, "metadata_too_large": true,
	"message_not_found": true, "cant_update_message": true, "edit_window_closed": true, "user_not_in_channel": true,
}

// deliverer posts outbox entries to Slack.
type deliverer struct {
	api       *slack.Client
	calls     caller // every write but the delivery itself
	outbox    Outbox
	incidents Incidents
	incOpts   IncidentOptions
	pacer     *pacer
	metrics   *metrics.Metrics
	// alerting lets one alert attempt at a time look for and post alerts:
	// delivery and the reminder sweep both send them.
	alerting sync.Mutex
	// Promotional posts go out in digests of digestSize while a channel
	// has at least digestThreshold of them due; 0 turns digests off.
	digestThreshold, digestSize int
	// parallel is how many channels are delivered to at once.
	parallel int
	router   func() Router
	now      func() time.Time
	log      zerolog.Logger
}

// run drains the outbox until ctx ends. Posts go out oldest first within
// each channel, and channels are worked on side by side (at most parallel
// at a time), so one slow or rate-limited channel never holds up another.
// A channel that is out of tokens or paused after a failure is skipped for
// the pass, so its posts keep their order. An attempt under way when ctx
// ends is abandoned as it stands; its entry stays in flight in the outbox
// and the next run checks Slack before posting it again.
func (d *deliverer) run(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		now := d.now()
		due, next, err := d.outbox.Due(now, dueBatch)
		if err != nil {
			d.log.Error().Err(err).Msg("read outbox")
		}
		attempted, retry, storeOK := d.pass(ctx, now, due)
		if ctx.Err() != nil {
			return
		}
		storeOK = storeOK && err == nil
		next = earliest(next, retry)
		// Attempts change the outbox, so after any work it is read again.
		if attempted && storeOK {
			continue
		}
		wait := idleRecheck
		switch {
		case !storeOK:
			wait = time.Second // the store is failing: do not spin
		case !next.IsZero():
			wait = min(wait, max(time.Millisecond, next.Sub(d.now())))
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

// holdBack decides where each due post goes and drops those that must
// wait behind an earlier post of their channel whose attempt failed and
// waits for its retry (Waiting entries, which Due puts in their place in
// the order). It returns the rest with their decisions, and the earliest
// of those retries.
func holdBack(due []store.Pending, decide func(store.Pending) routing.Decision) ([]store.Pending, []routing.Decision, time.Time) {
	var (
		held      map[string]bool
		retry     time.Time
		kept      = make([]store.Pending, 0, len(due))
		decisions = make([]routing.Decision, 0, len(due))
	)
	for _, p := range due {
		if p.Waiting {
			if held == nil {
				held = map[string]bool{}
			}
			held[p.Entry.Channel] = true
			retry = earliest(retry, p.Entry.NextAt)
			continue
		}
		d := decide(p)
		if held[d.Channel] {
			continue
		}
		kept, decisions = append(kept, p), append(decisions, d)
	}
	return kept, decisions, retry
}

// attempt is one message to send: a single post, or a digest of several.
type attempt struct{ idx []int }

// pass makes one round of attempts over due, channel by channel, and
// reports whether anything was attempted, the earliest time a held-back
// channel may go on, and whether the store kept working.
func (d *deliverer) pass(ctx context.Context, now time.Time, due []store.Pending) (attempted bool, retry time.Time, storeOK bool) {
	due, decisions, retry := holdBack(due, d.decide)
	digests := planDigests(due, decisions, d.digestThreshold, d.digestSize)
	merged := map[int]bool{}
	var channels []string
	work := map[string][]attempt{}
	for i := range due {
		if merged[i] {
			continue
		}
		a := attempt{idx: []int{i}}
		if group, ok := digests[i]; ok {
			a.idx = group
			for _, k := range group {
				merged[k] = true
			}
		}
		ch := decisions[i].Channel
		if _, seen := work[ch]; !seen {
			channels = append(channels, ch)
		}
		work[ch] = append(work[ch], a)
	}

	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		sema = make(chan struct{}, max(d.parallel, 1))
	)
	storeOK = true
	for _, ch := range channels {
		sema <- struct{}{}
		wg.Go(func() {
			defer func() { <-sema }()
			tried, at, ok := d.channelPass(ctx, now, ch, work[ch], due, decisions)
			mu.Lock()
			defer mu.Unlock()
			attempted = attempted || tried
			retry = earliest(retry, at)
			storeOK = storeOK && ok
		})
	}
	wg.Wait()
	return attempted, retry, storeOK
}

// channelPass sends one channel's attempts in order, stopping at the first
// that must wait (pacing) or failed (the rest wait behind it).
//
// Pacing is judged at now, the time due was read, not the time of the
// attempt: a channel paused after a failure until its first post's retry
// time must not open again for the posts behind it while that first post
// is still missing from due, having not been due when due was read.
func (d *deliverer) channelPass(ctx context.Context, now time.Time, ch string, attempts []attempt, due []store.Pending, decisions []routing.Decision) (attempted bool, retry time.Time, storeOK bool) {
	for _, a := range attempts {
		if ctx.Err() != nil {
			return attempted, retry, true
		}
		if ok, at := d.pacer.take(ch, now); !ok {
			return attempted, at, true
		}
		attempted = true
		var (
			retryAt time.Time
			err     error
		)
		if len(a.idx) > 1 {
			ps, ds := make([]store.Pending, len(a.idx)), make([]routing.Decision, len(a.idx))
			for j, k := range a.idx {
				ps[j], ds[j] = due[k], decisions[k]
			}
			retryAt, err = d.deliverDigest(ctx, ps, ds)
		} else {
			retryAt, err = d.deliver(ctx, due[a.idx[0]], decisions[a.idx[0]])
		}
		if err != nil {
			d.log.Error().Err(err).Str("post_id", due[a.idx[0]].Entry.PostID).Msg("delivery bookkeeping failed")
			return attempted, retry, false
		}
		if !retryAt.IsZero() {
			d.pacer.pause(ch, retryAt)
			return attempted, retryAt, true
		}
	}
	return attempted, retry, true
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// decide is where p goes: the decision stored at its first attempt, or
// what routing says now.
func (d *deliverer) decide(p store.Pending) routing.Decision {
	if p.Record.Decision != nil {
		return *p.Record.Decision
	}
	return d.router().Route(p.Record.Post)
}

// deliver makes one attempt at p under decision. Slack's failures are
// handled here: the entry is retried later (retryAt says when) or parked.
// An error means the store itself failed.
func (d *deliverer) deliver(ctx context.Context, p store.Pending, decision routing.Decision) (retryAt time.Time, err error) {
	post := p.Record.Post
	log := d.log.With().Str("post_id", post.ID).Logger()

	decision, err = d.outbox.BeginAttempt(post.ID, decision)
	if err != nil {
		return time.Time{}, fmt.Errorf("record routing decision: %w", err)
	}
	if p.Record.Decision == nil {
		d.metrics.Classified(string(decision.Class), decision.Unsure)
	}
	log = log.With().Str("class", string(decision.Class)).Str("channel", decision.Channel).Logger()

	rec := p.Record
	rec.Decision = &decision
	channel, threadTS := decision.Channel, ""
	var asg store.Assignment
	if d.groupsIncidents(decision) {
		asg, err = d.incidents.AssignIncident(post.ID, decision.Channel, d.incOpts.Rules)
		if err != nil {
			return time.Time{}, fmt.Errorf("assign incident: %w", err)
		}
		rec.Incident = asg.Incident.ID
		switch {
		case asg.Root:
		case asg.Orphan:
			log.Warn().Str("incident", asg.Incident.ID).Msg("the incident's first post will not reach Slack; this post goes out on its own")
		case asg.Incident.RootTS == "":
			// The incident's first post is not in Slack yet: keep the
			// thread in order by waiting for it.
			at := d.now().Add(time.Second)
			return at, d.outbox.Retry(post.ID, at, "waiting for the incident message")
		default:
			channel, threadTS = asg.Incident.Channel, asg.Incident.RootTS
		}
	}

	if p.Entry.InFlight {
		found, err := d.lookup(ctx, channel, threadTS, []sought{seek(p)})
		if err != nil {
			return d.failed(ctx, log, p.Entry, err)
		}
		if ts, ok := found[post.ID]; ok {
			log.Info().Str("ts", ts).Msg("post was already in Slack; recorded without posting again")
			return time.Time{}, d.delivered(ctx, log, rec, asg, channel, ts)
		}
	}
	return d.send(ctx, log, p.Entry, rec, asg, channel, threadTS)
}

// send posts rec's message to channel (in thread threadTS, if given) and
// records the delivery once Slack has it.
func (d *deliverer) send(ctx context.Context, log zerolog.Logger, e store.OutboxEntry, rec store.Record, asg store.Assignment, channel, threadTS string) (time.Time, error) {
	text, blocks, meta := renderPost(rec, "", nil)
	opts := []slack.MsgOption{
		slack.MsgOptionText(text, false),
		slack.MsgOptionBlocks(blocks...),
		slack.MsgOptionMetadata(meta),
		slack.MsgOptionDisableLinkUnfurl(),
	}
	if threadTS != "" {
		opts = append(opts, slack.MsgOptionTS(threadTS))
	}
	_, ts, err := d.api.PostMessageContext(ctx, channel, opts...)
	if err != nil {
		return d.failed(ctx, log, e, err)
	}
	if err := d.delivered(ctx, log, rec, asg, channel, ts); err != nil {
		return time.Time{}, err
	}
	d.metrics.Delivered(string(rec.Decision.Class), d.now().Sub(rec.Post.ReceivedAt))
	log.Info().Str("ts", ts).Dur("latency", d.now().Sub(rec.Post.ReceivedAt)).Msg("post delivered")
	return time.Time{}, nil
}

func (d *deliverer) groupsIncidents(decision routing.Decision) bool {
	return d.incidents != nil && d.incOpts.Rules.Window > 0 && !decision.Unsure &&
		(decision.Class == routing.Reputation || decision.Incident)
}

// delivered records the delivery and does what an incident needs after it:
// remember where its message is, bring its counter up to date (throttled),
// and raise a spike alert that is due. The spike may have been decided at
// an earlier attempt of this post, or of another; the alert is recorded in
// the incident until it is in Slack.
func (d *deliverer) delivered(ctx context.Context, log zerolog.Logger, rec store.Record, asg store.Assignment, channel, ts string) error {
	// For an incident's first post, the store makes its message the
	// incident's in the same commit.
	if err := d.record(rec.Post.ID, channel, ts); err != nil {
		return err
	}
	if asg.Incident.ID == "" || asg.Closed || asg.Orphan {
		return nil
	}
	inc := asg.Incident
	if !asg.Root && d.now().Sub(inc.UpdatedAt) >= d.incOpts.UpdateEvery {
		d.showIncident(ctx, log, inc)
	}
	if inc.AlertDue {
		d.alert(ctx, log, inc.ID)
	}
	return nil
}

// showIncident redraws an incident's message with its current counts.
func (d *deliverer) showIncident(ctx context.Context, log zerolog.Logger, inc store.Incident) {
	root, err := d.incidents.Get(inc.ID)
	if err != nil {
		log.Error().Err(err).Str("incident", inc.ID).Msg("read incident message")
		return
	}
	// A first post moved elsewhere since keeps its note here: the
	// incident's message must not come back to life with buttons.
	text, blocks, _ := renderPost(root, movedNote(root, inc.Channel, inc.RootTS), &inc)
	err = d.calls.do(ctx, func(ctx context.Context) error {
		_, _, _, err := d.api.UpdateMessageContext(ctx, inc.Channel, inc.RootTS, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
		return err
	})
	if err != nil {
		log.Warn().Err(err).Str("incident", inc.ID).Msg("update incident message; will retry")
		return
	}
	if err := d.incidents.IncidentShown(inc.ID, d.now()); err != nil {
		log.Error().Err(err).Str("incident", inc.ID).Msg("record incident update")
	}
}

// flushIncidents brings incident messages whose update was held back by
// the throttle up to date, and sends spike alerts still due (their first
// attempt failed, or the process stopped before it).
func (d *deliverer) flushIncidents(ctx context.Context) {
	if d.incidents == nil {
		return
	}
	dirty, err := d.incidents.DirtyIncidents()
	if err != nil {
		d.log.Error().Err(err).Msg("read incidents")
		return
	}
	for _, inc := range dirty {
		if d.now().Sub(inc.UpdatedAt) >= d.incOpts.UpdateEvery {
			d.showIncident(ctx, d.log, inc)
		}
	}
	due, err := d.incidents.DueAlerts()
	if err != nil {
		d.log.Error().Err(err).Msg("read incidents with an alert due")
		return
	}
	for _, inc := range due {
		d.alert(ctx, d.log, inc.ID)
	}
}

// alert posts incident id's spike alert into its thread, once: the
// attempt is marked in the store first, and an attempt after one that may
// have reached Slack looks for the alert's metadata in the thread before
// posting. A failure leaves the alert due for the next sweep.
func (d *deliverer) alert(ctx context.Context, log zerolog.Logger, id string) {
	log = log.With().Str("incident", id).Logger()
	d.alerting.Lock()
	defer d.alerting.Unlock()
	inc, due, inFlight, err := d.incidents.BeginAlert(id)
	if err != nil {
		log.Error().Err(err).Msg("mark spike alert")
		return
	}
	if !due {
		return
	}
	window := d.incOpts.Rules.SpikeWindow
	text := fmt.Sprintf(":rotating_light: *Spike*: %d posts in under %s on this incident (%d in all, reach %s).",
		len(inc.Recent), humanDuration(window), inc.Count, groupDigits(inc.Reach))
	if g := d.incOpts.MentionGroup; g != "" {
		text = fmt.Sprintf("<!subteam^%s> %s", g, text)
	}
	key := map[string]string{"incident_id": inc.ID}
	find := func(ctx context.Context) (string, error) {
		return findMessage(ctx, d.api, inc.Channel, inc.RootTS, time.Time{}, hasMetadata(alertEventType, key))
	}
	post := func(ctx context.Context) (string, error) {
		_, ts, err := d.api.PostMessageContext(ctx, inc.Channel, slack.MsgOptionText(text, false),
			slack.MsgOptionTS(inc.RootTS), slack.MsgOptionBroadcast(), slack.MsgOptionMetadata(metadata(alertEventType, key)))
		return ts, err
	}
	ts, _, err := d.calls.create(ctx, inFlight, find, post)
	if err != nil {
		if ctx.Err() == nil {
			log.Error().Err(err).Msg("spike alert failed; will retry")
		}
		return
	}
	if err := d.incidents.AlertSent(inc.ID, ts); err != nil {
		// The alert stays in flight: the next attempt finds it in Slack.
		log.Error().Err(err).Msg("record spike alert")
		return
	}
	d.metrics.SpikeAlert()
	log.Warn().Int("posts", inc.Count).Msg("incident spike alert sent")
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

// failed decides what a failed attempt means for the entry: retry later,
// or park it for good.
func (d *deliverer) failed(ctx context.Context, log zerolog.Logger, e store.OutboxEntry, err error) (time.Time, error) {
	if ctx.Err() != nil {
		return time.Time{}, nil // shutting down: the entry stays as it is and is retried on start
	}
	retry, after := classify(err, e.Attempts)
	var rl *slack.RateLimitedError
	switch {
	case !retry:
		d.metrics.DeliveryFailed("permanent")
	case errors.As(err, &rl):
		d.metrics.DeliveryFailed("rate_limited")
	default:
		d.metrics.DeliveryFailed("retry")
	}
	if !retry {
		log.Error().Err(err).Msg("delivery failed permanently; parked until an operator acts")
		return time.Time{}, d.outbox.Park(e.PostID, err.Error())
	}
	log.Warn().Err(err).Int("attempt", e.Attempts+1).Dur("retry_in", after).Msg("delivery failed; will retry")
	at := d.now().Add(after)
	return at, d.outbox.Retry(e.PostID, at, err.Error())
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
