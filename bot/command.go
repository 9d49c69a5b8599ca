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
	previewQueue    = 4
	maxPreviewPosts = 200_000
	maxHistoryScan  = 50_000
	rememberAcks    = 256
	groupCacheTTL   = time.Minute
	slackCallLimit  = 2 * time.Second // calls made before an ack: Slack wants it within 3 s
)

// commands answers the /route slash command and the Apply button. One
// worker handles commands in arrival order, so changes never interleave;
// previews, which replay stored posts, run on a second worker and answer
// through the command's response_url.
type commands struct {
	name  string // "/route"
	opts  CommandOptions
	api   *slack.Client
	sm    *socketmode.Client
	swap  func(Router)
	now   func() time.Time
	log   zerolog.Logger
	queue chan socketmode.Event
	slow  chan func(context.Context)

	// Touched by the command worker only.
	acks     map[string]payload // envelope id → ack payload, for redeliveries
	ackOrder []string

	groupMu sync.Mutex // both workers ask who is an admin
	groupAt time.Time
	group   []string
}

func newCommands(name string, opts CommandOptions, api *slack.Client, sm *socketmode.Client, swap func(Router), now func() time.Time, log zerolog.Logger) *commands {
	return &commands{
		name:  name,
		opts:  opts,
		api:   api,
		sm:    sm,
		swap:  swap,
		now:   now,
		log:   log.With().Str("component", "commands").Logger(),
		queue: make(chan socketmode.Event, commandQueue),
		slow:  make(chan func(context.Context), previewQueue),
		acks:  make(map[string]payload),
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

// enqueue hands evt to the worker without blocking the event loop; when
// the queue is full the user is told to try again.
func (h *commands) enqueue(ctx context.Context, evt socketmode.Event) {
	select {
	case h.queue <- evt:
	default:
		var p any
		if evt.Type == socketmode.EventTypeSlashCommand {
			p = replyf(":hourglass: socialroute is busy with other commands; please try again in a moment.").payload()
		}
		h.ack(ctx, evt.Request.EnvelopeID, p)
	}
}

// run works through commands until ctx ends, and returns once both workers
// have stopped.
func (h *commands) run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case job := <-h.slow:
				job(ctx)
			}
		}
	})
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case evt := <-h.queue:
			switch evt.Type {
			case socketmode.EventTypeSlashCommand:
				h.slash(ctx, evt)
			case socketmode.EventTypeInteractive:
				h.click(ctx, evt)
			}
		}
	}
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

func (h *commands) slash(ctx context.Context, evt socketmode.Event) {
	id := evt.Request.EnvelopeID
	if p, ok := h.acks[id]; ok { // Slack redelivered: answer the same, do nothing twice
		h.ack(ctx, id, p)
		return
	}
	cmd, ok := evt.Data.(slack.SlashCommand)
	if !ok {
		h.ack(ctx, id, nil)
		return
	}
	inv := invocation{user: cmd.UserID, channel: cmd.ChannelID, responseURL: cmd.ResponseURL,
		raw: strings.TrimSpace(h.name + " " + unescapeSlack(cmd.Text))}
	p := h.execute(ctx, inv, cmd.Text).payload()
	h.remember(id, p)
	h.ack(ctx, id, p)
}

func (h *commands) remember(envelopeID string, p payload) {
	h.acks[envelopeID] = p
	h.ackOrder = append(h.ackOrder, envelopeID)
	if len(h.ackOrder) > rememberAcks {
		delete(h.acks, h.ackOrder[0])
		h.ackOrder = h.ackOrder[1:]
	}
}

// click handles the Apply button: ack at once (block actions carry no
// answer), then apply and answer through the response_url.
func (h *commands) click(ctx context.Context, evt socketmode.Event) {
	id := evt.Request.EnvelopeID
	h.ack(ctx, id, nil)
	if _, seen := h.acks[id]; seen {
		return
	}
	h.remember(id, payload{})
	cb, _ := evt.Data.(slack.InteractionCallback)
	for _, a := range cb.ActionCallback.BlockActions {
		if a.ActionID != ActionApply {
			continue
		}
		inv := invocation{user: cb.User.ID, channel: cb.Channel.ID, responseURL: cb.ResponseURL}
		h.respond(ctx, inv.responseURL, h.apply(ctx, inv, a.Value))
	}
}

// respond posts r to a response_url, as an ephemeral for the user.
func (h *commands) respond(ctx context.Context, url string, r reply) {
	if url == "" {
		return
	}
	p := r.payload()
	_, _, err := h.api.PostMessageContext(ctx, "", slack.MsgOptionResponseURL(url, slack.ResponseTypeEphemeral),
		slack.MsgOptionText(p.Text, false), slack.MsgOptionBlocks(p.Blocks...))
	if err != nil && ctx.Err() == nil {
		h.log.Warn().Err(err).Msg("answer through response_url")
	}
}

// execute runs one command and returns the answer to ack with.
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
		return h.startPreview(ctx, inv, c)
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
