package bot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/socialroute/socialroute/internal/metrics"
	"github.com/socialroute/socialroute/store"
)

// Options configure a Bot.
type Options struct {
	BotToken string // xoxb-…
	AppToken string // xapp-…, Socket Mode
	APIURL   string // Slack Web API base, ending in "/"
	// PingInterval is how long the Socket Mode client waits for Slack's
	// WebSocket PING before it reconnects. Default 30 s (slack-go's).
	PingInterval time.Duration
	// Command is the slash command the bot answers, e.g. "/route".
	Command string
	// ChannelRate paces messages per channel (per second; 0: unpaced),
	// allowing bursts of ChannelBurst.
	ChannelRate  float64
	ChannelBurst int
	// DigestThreshold is the backlog of due promotional posts in one
	// channel from which they are sent DigestSize at a time in digest
	// messages; 0 never merges.
	DigestThreshold int
	DigestSize      int
	// DeliveryChannels is how many channels are delivered to at once.
	// Default 4.
	DeliveryChannels int
	// Admins are the Slack user ids who may unclaim or resolve posts
	// claimed by others.
	Admins []string
	// Workers is how many interactions are carried out at once. Default 4.
	Workers int
	// SLA sets when reminders go out; ReminderEvery how often overdue
	// posts are looked for (default 30 s).
	SLA           SLA
	ReminderEvery time.Duration
	// Incidents configures the grouping of reputation posts into threads.
	Incidents IncidentOptions
	// Commands is what the slash command works with.
	Commands CommandOptions
	// LeaderWork, when set, runs beside delivery and reminders while
	// this process leads (store.Lead), with a context that ends with the
	// leadership.
	LeaderWork func(ctx context.Context)
	// RequestTimeout bounds one HTTP request to Slack (default 15 s);
	// WriteDeadline bounds all the attempts at one write other than a
	// delivery (default 2 min).
	RequestTimeout time.Duration
	WriteDeadline  time.Duration
	// Metrics counts deliveries, failures, clicks and reconnects; nil
	// counts nothing.
	Metrics *metrics.Metrics
	Now     func() time.Time
	Logger  zerolog.Logger
}

// Bot is socialroute's presence in Slack.
type Bot struct {
	opts      Options
	api       *slack.Client
	calls     caller
	sm        *socketmode.Client
	store     *store.Store
	deliverer *deliverer
	learner   Learner
	log       zerolog.Logger
	jobs      chan func(context.Context)

	connected atomic.Bool
	current   atomic.Pointer[Router]
	commands  *commands
	// redelivered counts envelopes recognised as Slack redeliveries and
	// ignored.
	redelivered atomic.Uint64
	sweeps      atomic.Uint64
	// started is when Run began, before any click could arrive:
	// escalations begun before it were left by a process that is gone.
	started time.Time
}

// Redelivered is how many redelivered envelopes were recognised and
// ignored since start.
func (b *Bot) Redelivered() uint64 { return b.redelivered.Load() }

// New builds a Bot; nothing talks to Slack until Run.
func New(opts Options, st *store.Store, router Router) (*Bot, error) {
	if opts.BotToken == "" || opts.AppToken == "" {
		return nil, errors.New("bot: bot token and app token are required")
	}
	if opts.APIURL == "" {
		opts.APIURL = slack.APIURL
	}
	if opts.PingInterval <= 0 {
		opts.PingInterval = 30 * time.Second
	}
	if opts.Command == "" {
		opts.Command = "/route"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.DeliveryChannels <= 0 {
		opts.DeliveryChannels = 4
	}
	if opts.ReminderEvery <= 0 {
		opts.ReminderEvery = 30 * time.Second
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = defaultRequestTimeout
	}
	if opts.WriteDeadline <= 0 {
		opts.WriteDeadline = defaultWriteDeadline
	}
	opts.SLA = opts.SLA.withDefaults()
	log := opts.Logger.With().Str("component", "bot").Logger()
	// socketmode.New copies the client, so every option is set here first.
	api := slack.New(opts.BotToken,
		slack.OptionAPIURL(opts.APIURL),
		slack.OptionAppLevelToken(opts.AppToken),
		slack.OptionHTTPClient(&http.Client{Timeout: opts.RequestTimeout}),
	)
	calls := caller{deadline: opts.WriteDeadline}
	b := &Bot{
		opts:  opts,
		api:   api,
		calls: calls,
		sm:    socketmode.New(api, socketmode.OptionPingInterval(opts.PingInterval)),
		store: st,
		log:   log,
		jobs:  make(chan func(context.Context), 256),
	}
	b.current.Store(&router)
	b.commands = newCommands(opts.Command, opts.Commands, api, b.sm, st, func() {
		b.redelivered.Add(1)
		b.opts.Metrics.Redelivery()
	}, b.SetRouter, opts.Now, log)
	b.commands.calls = calls
	b.deliverer = &deliverer{
		api:       api,
		calls:     calls,
		outbox:    st,
		incidents: st,
		incOpts:   opts.Incidents,
		pacer:     newPacer(opts.ChannelRate, opts.ChannelBurst),

		digestThreshold: opts.DigestThreshold,
		digestSize:      opts.DigestSize,
		parallel:        opts.DeliveryChannels,
		metrics:         opts.Metrics,
		router:          b.router,
		now:             opts.Now,
		log:             log.With().Str("component", "delivery").Logger(),
	}
	return b, nil
}

// SetRouter swaps the router used for posts routed from now on.
func (b *Bot) SetRouter(r Router) { b.current.Store(&r) }

func (b *Bot) router() Router { return *b.current.Load() }

// Router is the routing in use now: the one built at start, or the last
// one swapped in after a rule change here or on another replica.
func (b *Bot) Router() Router { return b.router() }

// SetLearner sets where people's corrections go; call it before Run.
func (b *Bot) SetLearner(l Learner) { b.learner = l }

// Ready reports whether the Socket Mode connection is up.
func (b *Bot) Ready() error {
	if !b.connected.Load() {
		return errors.New("slack: socket mode not connected")
	}
	return nil
}

// Run checks the bot token, then keeps the Socket Mode connection and the
// delivery worker running until ctx ends or Slack refuses the app's
// credentials. It returns after every goroutine it started has stopped.
func (b *Bot) Run(ctx context.Context) error {
	auth, err := b.api.AuthTestContext(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("slack auth.test with the bot token: %w", err)
	}
	b.log.Info().Str("team", auth.Team).Str("bot_user", auth.UserID).Msg("slack bot token accepted")
	b.started = b.opts.Now()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg     sync.WaitGroup
		runErr error
	)
	wg.Go(func() {
		defer cancel()
		// RunContext only returns on a fatal error or when ctx ends.
		if err := b.sm.RunContext(ctx); ctx.Err() == nil {
			runErr = fmt.Errorf("slack socket mode: %w", err)
		}
	})
	wg.Go(func() { b.events(ctx) })
	// Every replica takes interactions; only the leader delivers and
	// reminds, so nothing goes out twice.
	wg.Go(func() { b.store.Lead(ctx, b.lead) })
	wg.Go(func() { b.followRules(ctx) })
	wg.Go(func() { b.commands.run(ctx) })
	for range b.opts.Workers {
		wg.Go(func() { b.work(ctx) })
	}
	wg.Wait()
	b.connected.Store(false)
	return runErr
}

// lead does the work that must run once across replicas, until ctx (the
// leadership) ends.
func (b *Bot) lead(ctx context.Context) {
	b.log.Info().Msg("leading: delivering posts and sending reminders")
	var wg sync.WaitGroup
	wg.Go(func() { b.deliverer.run(ctx) })
	wg.Go(func() { b.remind(ctx) })
	if b.opts.LeaderWork != nil {
		wg.Go(func() { b.opts.LeaderWork(ctx) })
	}
	wg.Wait()
	b.log.Info().Str("role", string(b.store.Role())).Msg("stopped leading")
}

// followRules rebuilds the router when another replica changes the rules.
func (b *Bot) followRules(ctx context.Context) {
	build := b.opts.Commands.BuildRouter
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.store.RulesChanged():
		}
		if build == nil {
			continue
		}
		rs, err := b.store.Rules()
		if err == nil {
			r, berr := build(rs)
			if err = berr; err == nil {
				b.SetRouter(r)
				continue
			}
		}
		if ctx.Err() == nil {
			b.log.Error().Err(err).Msg("reload routing rules changed elsewhere")
		}
	}
}

// events drains the Socket Mode client's events. It never blocks on work:
// the client stops reading the socket (and misses pings) while its Events
// channel is full.
func (b *Bot) events(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case evt, ok := <-b.sm.Events:
			if !ok {
				return
			}
			b.handleEvent(ctx, evt)
		}
	}
}

func (b *Bot) handleEvent(ctx context.Context, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		b.connected.Store(false)
		b.log.Debug().Msg("socket mode connecting")
	case socketmode.EventTypeConnected:
		b.connected.Store(true)
		if e, ok := evt.Data.(*socketmode.ConnectedEvent); ok && e.ConnectionCount > 0 {
			b.opts.Metrics.Reconnected()
		}
		b.log.Info().Msg("socket mode connected")
	case socketmode.EventTypeConnectionError:
		b.connected.Store(false)
		if e, ok := evt.Data.(*slack.ConnectionErrorEvent); ok {
			b.log.Warn().Err(e.ErrorObj).Dur("backoff", e.Backoff).Msg("socket mode connection failed")
		}
	case socketmode.EventTypeInvalidAuth:
		b.connected.Store(false)
		b.log.Error().Msg("socket mode: slack refused the app token")
	case socketmode.EventTypeDisconnect:
		b.connected.Store(false)
		b.log.Info().Msg("socket mode: slack asked to reconnect")
	case socketmode.EventTypeHello:
	case socketmode.EventTypeErrorBadMessage:
		b.log.Warn().Msg("socket mode: undecodable message from slack")
	case socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive:
		if evt.Request == nil {
			return
		}
		if b.commands.accepts(evt) {
			b.commands.enqueue(ctx, evt)
			return
		}
		b.ack(ctx, evt)
		if evt.Type != socketmode.EventTypeInteractive {
			return
		}
		cb, ok := evt.Data.(slack.InteractionCallback)
		if !ok || cb.Type != slack.InteractionTypeBlockActions {
			return
		}
		for _, c := range clicks(evt.Request.EnvelopeID, cb) {
			b.enqueue(ctx, func(ctx context.Context) { b.onClick(ctx, c) })
		}
	case socketmode.EventTypeEventsAPI:
		if evt.Request == nil {
			return
		}
		b.ack(ctx, evt)
		b.onEvent(ctx, evt)
	}
}

// enqueue hands work to the interaction workers, so that the event loop
// goes back to reading Slack at once. A full queue makes it wait: better
// a late ack than a lost click.
func (b *Bot) enqueue(ctx context.Context, job func(context.Context)) {
	select {
	case b.jobs <- job:
	case <-ctx.Done():
	}
}

func (b *Bot) work(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case job := <-b.jobs:
			job(ctx)
		}
	}
}

// ack answers a request at once; Slack redelivers what is not acked
// within 3 s. Interactions beyond acknowledging are added by their own
// handlers.
func (b *Bot) ack(ctx context.Context, evt socketmode.Event) {
	if err := b.sm.AckCtx(ctx, evt.Request.EnvelopeID, nil); err != nil && ctx.Err() == nil {
		b.log.Warn().Err(err).Str("envelope_id", evt.Request.EnvelopeID).Msg("ack failed")
	}
}
