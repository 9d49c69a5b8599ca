package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/socialroute/socialroute/routing"
	"github.com/socialroute/socialroute/store"
)

// ActionApply is the action id of the Apply button under a preview; its
// value is the id of the stored pending change. Action ids of the /route
// command start with actionPrefix.
const (
	ActionApply  = "route_apply"
	actionPrefix = "route_"
)

// RuleStore keeps the rules, channel overrides and threshold changed from
// Slack, with the history undo needs.
type RuleStore interface {
	Rules() (store.RuleSet, error)
	ChangeRules(user, command string, fn func(*store.RuleSet) (summary string, err error)) (store.RuleSet, error)
	UndoRules(user, command string) (store.Change, store.RuleSet, error)
}

// AuditStore keeps the audit log.
type AuditStore interface {
	Audit(store.AuditEntry) error
	AuditLog(n int) ([]store.AuditEntry, error)
}

// PendingStore keeps previewed changes until someone applies them.
type PendingStore interface {
	PutPending(store.PendingChange) (string, error)
	TakePending(id string) (store.PendingChange, error)
}

// PostQueries reads the stored posts for preview, stats and history.
type PostQueries interface {
	ScanPosts(since time.Time, fn func(store.Record) bool) error
	RecentPosts(n, maxScan int, keep func(store.Record) bool) ([]store.Record, error)
	Stats(since time.Time) (store.PostStats, error)
}

// CommandStore is everything the /route command reads and writes.
type CommandStore interface {
	RuleStore
	AuditStore
	PendingStore
	PostQueries
}

// CommandOptions give the /route command what it works with.
type CommandOptions struct {
	// Store holds the rules; without it every command is answered with a
	// note that routing cannot be changed from Slack here.
	Store CommandStore
	// BuildRouter makes the routing value for a rule set: the configured
	// departments with the set's channels, threshold and rules, and the
	// classifier in use. It is also how a change is checked before it is
	// stored; the empty set gives the configuration's own routing.
	BuildRouter func(store.RuleSet) (*routing.Router, error)
	// Admins may change routing, and so may members of AdminGroup (a user
	// group id, S…), when set.
	Admins     []string
	AdminGroup string
}

// Limits of the command's work.
const (
	commandQueue    = 64
	readWorkers     = 2
	maxPreviewPosts = 200_000
	maxHistoryScan  = 50_000
	groupCacheTTL   = time.Minute
	// slackCallLimit bounds a Slack call a command waits on. Commands are
	// acked before they run, so this is the user's patience, not Slack's
	// 3 s ack deadline.
	slackCallLimit = 10 * time.Second
)

// EnvelopeLog remembers the Socket Mode envelopes handled, in the store
// every replica shares.
type EnvelopeLog interface {
	// FirstSeen records key as handled and reports whether it was new.
	FirstSeen(key string) (bool, error)
}

// commands answers the /route slash command and the Apply button. Every
// request is acked at once, from the event loop, and answered later through
// its response_url, so a slow command never holds up the acks of the next
// ones (Slack redelivers what is not acked within 3 s). Changes to routing
// run on one worker, in arrival order, so they never interleave; commands
// that only read run on their own workers, so a long preview holds up no
// change. Each envelope is recorded in the shared store before it runs, so
// a redelivery, here or at another replica, runs nothing; a process that
// stops between the ack and the run loses that command (the user sees no
// answer and runs it again) rather than running it twice.
type commands struct {
	name        string // "/route"
	opts        CommandOptions
	api         *slack.Client
	sm          *socketmode.Client
	envelopes   EnvelopeLog
	calls       caller // answers through response_url
	redelivered func() // counts a redelivery recognised
	swap        func(Router)
	now         func() time.Time
	log         zerolog.Logger
	changes     chan commandJob // changes to routing, Apply clicks
	reads       chan commandJob // everything else

	groupMu sync.Mutex // the workers ask who is an admin
	groupAt time.Time
	group   []string
}

// commandJob is one acked request waiting to run.
type commandJob struct {
	key         string // the envelope's key in the EnvelopeLog
	responseURL string
	run         func(context.Context)
}

func newCommands(name string, opts CommandOptions, api *slack.Client, sm *socketmode.Client, envelopes EnvelopeLog, redelivered func(),
	swap func(Router), now func() time.Time, log zerolog.Logger) *commands {
	return &commands{
		name:        name,
		opts:        opts,
		api:         api,
		sm:          sm,
		envelopes:   envelopes,
		redelivered: redelivered,
		swap:        swap,
		now:         now,
		log:         log.With().Str("component", "commands").Logger(),
		changes:     make(chan commandJob, commandQueue),
		reads:       make(chan commandJob, commandQueue),
	}
}

// accepts reports whether evt is for the /route command: a slash command,
// or a click on one of its buttons.
func (h *commands) accepts(evt socketmode.Event) bool {
	switch evt.Type {
	case socketmode.EventTypeSlashCommand:
		return true
	case socketmode.EventTypeInteractive:
		cb, ok := evt.Data.(slack.InteractionCallback)
		if !ok || cb.Type != slack.InteractionTypeBlockActions {
			return false
		}
		for _, a := range cb.ActionCallback.BlockActions {
			if strings.HasPrefix(a.ActionID, actionPrefix) {
				return true
			}
		}
	}
	return false
}

// enqueue acks evt at once and hands its work to a worker; it never blocks
// the event loop. When the queue is full the ack itself tells the user to
// try again: Slack shows a slash command's ack payload.
func (h *commands) enqueue(ctx context.Context, evt socketmode.Event) {
	id := evt.Request.EnvelopeID
	job, change, ok := h.job(evt)
	if !ok {
		h.ack(ctx, id, nil)
		return
	}
	q := h.reads
	if change {
		q = h.changes
	}
	// The event loop is the only sender, so room now is room at the send.
	if len(q) == cap(q) {
		var p any
		if evt.Type == socketmode.EventTypeSlashCommand {
			p = replyf(":hourglass: socialroute is busy with other commands; please try again in a moment.").payload()
		}
		h.ack(ctx, id, p)
		return
	}
	h.ack(ctx, id, nil)
	q <- job
}

// job makes the work for evt and tells whether it changes routing; ok is
// false when there is nothing to do.
func (h *commands) job(evt socketmode.Event) (job commandJob, change, ok bool) {
	id := evt.Request.EnvelopeID
	switch data := evt.Data.(type) {
	case slack.SlashCommand:
		inv := invocation{user: data.UserID, channel: data.ChannelID, responseURL: data.ResponseURL,
			raw: strings.TrimSpace(h.name + " " + unescapeSlack(data.Text))}
		c, err := ParseCommand(data.Text)
		change = err == nil && changes[c.Verb]
		return commandJob{key: id + "/command", responseURL: inv.responseURL, run: func(ctx context.Context) {
			h.respond(ctx, inv.responseURL, h.execute(ctx, inv, data.Text))
		}}, change, true
	case slack.InteractionCallback:
		var pending []string
		for _, a := range data.ActionCallback.BlockActions {
			if a.ActionID == ActionApply {
				pending = append(pending, a.Value)
			}
		}
		if len(pending) == 0 {
			return commandJob{}, false, false
		}
		inv := invocation{user: data.User.ID, channel: data.Channel.ID, responseURL: data.ResponseURL}
		// The key is the one clicks on routed messages use: envelope and action.
		return commandJob{key: id + "/" + ActionApply, responseURL: inv.responseURL, run: func(ctx context.Context) {
			for _, p := range pending {
				h.respond(ctx, inv.responseURL, h.apply(ctx, inv, p))
			}
		}}, true, true
	}
	return commandJob{}, false, false
}

// run works through commands until ctx ends, and returns once every worker
// has stopped. Work still queued then is dropped: it was acked, and its
// user gets no answer.
func (h *commands) run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { h.work(ctx, h.changes) })
	for range readWorkers {
		wg.Go(func() { h.work(ctx, h.reads) })
	}
	wg.Wait()
}

func (h *commands) work(ctx context.Context, q <-chan commandJob) {
	for {
		select {
		case <-ctx.Done():
			return
		case job := <-q:
			h.do(ctx, job)
		}
	}
}

// do runs job unless its envelope was handled before, here or at another
// replica. The envelope is recorded first: a crash before the run loses
// the command, and never runs it twice.
func (h *commands) do(ctx context.Context, job commandJob) {
	first, err := h.envelopes.FirstSeen(job.key)
	if err != nil {
		h.log.Error().Err(err).Str("envelope", job.key).Msg("record command envelope; not running it")
		h.respond(ctx, job.responseURL, replyf(":warning: socialroute could not record this request, so it did not carry it out. Please try again in a moment."))
		return
	}
	if !first {
		if h.redelivered != nil {
			h.redelivered()
		}
		h.log.Debug().Str("envelope", job.key).Msg("redelivered command ignored")
		return
	}
	job.run(ctx)
}

func (h *commands) ack(ctx context.Context, envelopeID string, p any) {
	if err := h.sm.AckCtx(ctx, envelopeID, p); err != nil && ctx.Err() == nil {
		h.log.Warn().Err(err).Str("envelope_id", envelopeID).Msg("ack failed")
	}
}

// invocation is who ran a command, where, and how to answer later.
type invocation struct {
	user, channel string
	responseURL   string
	raw           string // as typed, for the audit log: "/route add pr keyword recall"
}

// respond posts r to a response_url, as an ephemeral for the user.
func (h *commands) respond(ctx context.Context, url string, r reply) {
	if url == "" {
		return
	}
	p := r.payload()
	// An answer cannot be looked up: it is retried only after failures
	// that surely had no effect, and a response_url takes five posts.
	err := h.calls.once(ctx, func(ctx context.Context) error {
		_, _, err := h.api.PostMessageContext(ctx, "", slack.MsgOptionResponseURL(url, slack.ResponseTypeEphemeral),
			slack.MsgOptionText(p.Text, false), slack.MsgOptionBlocks(p.Blocks...))
		return err
	})
	if err != nil && ctx.Err() == nil {
		h.log.Warn().Err(err).Msg("answer through response_url")
	}
}

// execute runs one command and returns its answer.
func (h *commands) execute(ctx context.Context, inv invocation, text string) reply {
	c, err := ParseCommand(text)
	if err != nil {
		var ue *UsageError
		if errors.As(err, &ue) {
			return h.usage(ue)
		}
		return replyf(":warning: %s", escape(err.Error()))
	}
	if c.Verb == "help" {
		return h.help(c.Topic)
	}
	if h.opts.Store == nil || h.opts.BuildRouter == nil {
		return replyf("Routing can't be shown or changed from Slack here: this socialroute runs without its rule store.")
	}
	if changes[c.Verb] {
		if r, ok := h.authorize(ctx, inv); !ok {
			return r
		}
		return h.change(ctx, inv, c)
	}
	switch c.Verb {
	case "list":
		return h.list()
	case "test":
		return h.test(c.Text)
	case "preview":
		return h.preview(ctx, inv, c)
	case "audit":
		return h.audit(c.N)
	case "stats":
		return h.stats(c.Window)
	case "history":
		return h.history(c.N, c.Class)
	}
	return h.help("")
}

// authorize lets admins through; anyone else is refused politely, and the
// refusal is audited.
func (h *commands) authorize(ctx context.Context, inv invocation) (reply, bool) {
	ok, err := h.isAdmin(ctx, inv.user)
	if ok {
		return reply{}, true
	}
	detail := "not an admin"
	if err != nil {
		detail = "could not check the admin group: " + err.Error()
		h.log.Warn().Err(err).Str("user", inv.user).Msg("admin group look-up failed")
	}
	if aerr := h.opts.Store.Audit(store.AuditEntry{User: inv.user, Command: inv.raw, Outcome: store.OutcomeRefused, Detail: detail}); aerr != nil {
		h.log.Error().Err(aerr).Msg("audit refusal")
	}
	r := reply{title: "Sorry, only socialroute's admins can change routing. Nothing was changed."}
	if who := h.adminNames(); who != "" {
		r.lines = append(r.lines, "Admins: "+who+". Ask one of them, or use `"+h.name+" preview …` to see what a change would do.")
	}
	if err != nil {
		r.lines = append(r.lines, "(I could not check the admin group just now; if you are in it, please try again.)")
	}
	return r, false
}

func (h *commands) adminNames() string {
	var who []string
	for _, u := range h.opts.Admins {
		who = append(who, "<@"+u+">")
	}
	if h.opts.AdminGroup != "" {
		who = append(who, "members of <!subteam^"+h.opts.AdminGroup+">")
	}
	return strings.Join(who, ", ")
}

// isAdmin reports whether user is in slack.admins or the admin group. The
// group's members are cached for a minute: Slack rate-limits the look-up.
func (h *commands) isAdmin(ctx context.Context, user string) (bool, error) {
	if slices.Contains(h.opts.Admins, user) {
		return true, nil
	}
	if h.opts.AdminGroup == "" {
		return false, nil
	}
	h.groupMu.Lock()
	defer h.groupMu.Unlock()
	if h.group == nil || h.now().Sub(h.groupAt) > groupCacheTTL {
		ctx, cancel := context.WithTimeout(ctx, slackCallLimit)
		defer cancel()
		members, err := h.api.GetUserGroupMembersContext(ctx, h.opts.AdminGroup)
		if err != nil {
			return false, fmt.Errorf("usergroups.users.list: %w", err)
		}
		h.group, h.groupAt = append([]string{}, members...), h.now()
	}
	return slices.Contains(h.group, user), nil
}
