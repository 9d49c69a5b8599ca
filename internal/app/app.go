// Package app wires socialroute's parts — store, routing, ingest and bot —
// from a validated configuration and runs them as one daemon. It never
// touches signals or os.Exit, so tests and the demo run the same code as
// `socialroute serve`.
package app

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/socialroute/socialroute/bot"
	"github.com/socialroute/socialroute/ingest"
	"github.com/socialroute/socialroute/internal/config"
	"github.com/socialroute/socialroute/internal/metrics"
	"github.com/socialroute/socialroute/routing"
	"github.com/socialroute/socialroute/store"
)

// Options tune an App beyond its configuration.
type Options struct {
	// PingInterval overrides the Socket Mode ping timeout (tests, demo).
	PingInterval time.Duration
	// Now is the clock for everything time-based (tests); default time.Now.
	Now func() time.Time
	// ReminderEvery overrides how often overdue posts are looked for.
	ReminderEvery time.Duration
	// SlackTimeout and SlackWriteDeadline override how long one request to
	// Slack, and all the attempts at one write, may take (tests).
	SlackTimeout       time.Duration
	SlackWriteDeadline time.Duration
	Logger             zerolog.Logger
}

// App is a configured socialroute daemon.
type App struct {
	cfg    *config.Config
	log    zerolog.Logger
	store  *store.Store
	ingest *ingest.Server
	bot    *bot.Bot
	ln     net.Listener
	now    func() time.Time

	learner *Learner
}

// New opens the store, builds routing, the webhook server and the bot, and
// binds the HTTP listener, so that configuration and environment problems
// surface before anything runs. Close the App (or Run it) to release them.
func New(cfg *config.Config, opts Options) (a *App, err error) {
	a = &App{cfg: cfg, log: opts.Logger, now: opts.Now}
	if a.now == nil {
		a.now = time.Now
	}
	defer func() {
		if err != nil {
			a.close()
		}
	}()

	a.store, err = OpenStore(cfg.Store, store.Options{Now: opts.Now})
	if err != nil {
		return nil, err
	}
	a.learner, err = newLearner(a.store, opts.Logger)
	if err != nil {
		return nil, err
	}
	router, err := NewRouter(cfg.Routing, a.learner)
	if err != nil {
		return nil, err
	}
	router, commands, err := a.startRouting(cfg, router)
	if err != nil {
		return nil, err
	}
	m := metrics.New()
	m.WatchOutbox(func() (metrics.OutboxStats, error) {
		st, err := a.store.OutboxStats()
		return metrics.OutboxStats{Pending: st.Pending, Parked: st.Parked, Oldest: st.Oldest}, err
	}, a.now)
	a.bot, err = bot.New(bot.Options{
		BotToken:     cfg.Slack.BotToken.Value(),
		AppToken:     cfg.Slack.AppToken.Value(),
		APIURL:       cfg.Slack.APIURL,
		PingInterval: opts.PingInterval,
		Command:      cfg.Slack.Command,
		Admins:       cfg.Slack.Admins,
		ChannelRate:  cfg.Slack.ChannelRate,
		ChannelBurst: cfg.Slack.ChannelBurst,

		DigestThreshold: cfg.Slack.DigestThreshold,
		DigestSize:      cfg.Slack.DigestSize,
		SLA: bot.SLA{
			Claim:        time.Duration(cfg.SLA.ClaimMinutes) * time.Minute,
			Resolve:      time.Duration(cfg.SLA.ResolveMinutes) * time.Minute,
			VIPFollowers: cfg.SLA.VIPFollowers,
			VIPFactor:    cfg.SLA.VIPFactor,
		},
		ReminderEvery:  opts.ReminderEvery,
		RequestTimeout: opts.SlackTimeout,
		WriteDeadline:  opts.SlackWriteDeadline,
		Incidents: bot.IncidentOptions{
			Rules: store.IncidentRules{
				Window:      time.Duration(cfg.Incidents.WindowMinutes) * time.Minute,
				Similarity:  cfg.Incidents.Similarity,
				TopicPosts:  cfg.Incidents.TopicPosts,
				SpikePosts:  cfg.Incidents.SpikePosts,
				SpikeWindow: time.Duration(cfg.Incidents.SpikeMinutes) * time.Minute,
			},
			UpdateEvery:  time.Duration(cfg.Incidents.UpdateEvery),
			MentionGroup: cfg.Incidents.MentionGroup,
		},
		Commands:   commands,
		LeaderWork: a.retain,
		Metrics:    m,
		Now:        opts.Now,
		Logger:     opts.Logger,
	}, a.store, router)
	if err != nil {
		return nil, err
	}
	a.bot.SetLearner(a.learner)
	sources := make([]ingest.Source, 0, len(cfg.Sources))
	for _, s := range cfg.Sources {
		sources = append(sources, ingest.Source{
			Name:        s.Name,
			Format:      s.Format,
			Secret:      []byte(s.Secret.Value()),
			VerifyToken: []byte(s.VerifyToken.Value()),
		})
	}
	// A backup is copied next to the database, where there is room for
	// one, before it is sent.
	backupDir, callBytes := "", 0
	if cfg.Store.Backend == "etcd" {
		callBytes = ingest.EtcdStoreCallBytes
	} else {
		backupDir = filepath.Dir(cfg.Store.Path)
	}
	a.ingest, err = ingest.New(ingest.Options{
		Sources:         sources,
		MaxBodyBytes:    cfg.HTTP.MaxBodyBytes,
		MaxBodyMemory:   cfg.HTTP.MaxBodyMemory,
		Retention:       time.Duration(cfg.Store.RetentionDays) * 24 * time.Hour,
		ShutdownTimeout: time.Duration(cfg.HTTP.ShutdownTimeout),
		Ready:           a.ready,
		AdminToken:      []byte(cfg.HTTP.AdminToken.Value()),
		Backup:          a.store.Backup,
		TempDir:         backupDir,
		StoreCallBytes:  callBytes,
		Details:         a.details,
		Metrics:         m,
		Logger:          opts.Logger,
	}, a.store)
	if err != nil {
		return nil, err
	}
	a.ln, err = net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		return nil, fmt.Errorf("http.listen %q: %w", cfg.HTTP.Listen, err)
	}
	return a, nil
}

// NewRouter builds the routing value described by the configuration,
// classifying with c (the App's Learner: the built-in model with the
// examples learned from Slack).
func NewRouter(rc config.Routing, c routing.Classifier) (*routing.Router, error) {
	deps := make([]routing.Department, 0, len(rc.Departments))
	for _, d := range rc.Departments {
		dep := routing.Department{Name: d.Name, Channel: d.Channel}
		for _, c := range d.Classes {
			dep.Classes = append(dep.Classes, routing.Class(c))
		}
		deps = append(deps, dep)
	}
	r, err := routing.NewRouter(routing.Config{
		Departments:   deps,
		TriageChannel: rc.TriageChannel,
		MinConfidence: rc.MinConfidence,
	}, c)
	if err != nil {
		return nil, fmt.Errorf("routing: %w", err)
	}
	return r, nil
}

// newLearner loads the built-in model and applies the examples stored in st.
func newLearner(st *store.Store, log zerolog.Logger) (*Learner, error) {
	m, err := routing.DefaultModel()
	if err != nil {
		return nil, err
	}
	return NewLearner(st, m, routing.LearnOptions{}, log)
}

// Learner is the classifier that learns from reclassifications; the bot
// calls its Learn after a post is reclassified in Slack.
func (a *App) Learner() *Learner { return a.learner }

// Addr is the address the webhook server listens on.
func (a *App) Addr() string { return a.ln.Addr().String() }

// Bot gives tests access to the running bot.
func (a *App) Bot() *bot.Bot { return a.bot }

// Store gives tests and tools access to the open store.
func (a *App) Store() *store.Store { return a.store }

func (a *App) ready() error {
	if err := a.store.Check(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return a.bot.Ready()
}

// details is what /readyz tells besides ready or not: this replica's role
// (leader, follower, or disconnected from etcd) and the outbox, in
// particular posts parked after a permanent Slack error, which need an
// operator.
func (a *App) details() map[string]any {
	role := a.store.Role()
	d := map[string]any{"role": string(role)}
	if role == store.RoleDisconnected {
		return d // the outbox is out of reach too; do not wait for it
	}
	st, err := a.store.OutboxStats()
	if err != nil {
		return d
	}
	d["outbox_pending"], d["outbox_parked"] = st.Pending, st.Parked
	if !st.Oldest.IsZero() {
		d["outbox_oldest_age_seconds"] = int(a.now().Sub(st.Oldest).Seconds())
	}
	return d
}

// Run serves until ctx ends or the bot fails fatally (Slack refusing the
// credentials), then shuts down in order: the HTTP server stops taking
// posts and answers those in progress, the bot stops delivering (an
// attempt under way stays in the outbox), and the store is closed.
func (a *App) Run(ctx context.Context) error {
	httpCtx, stopHTTP := context.WithCancel(ctx)
	defer stopHTTP()
	botCtx, stopBot := context.WithCancel(context.Background())
	defer stopBot()

	var (
		wg     sync.WaitGroup
		botErr error
	)
	wg.Go(func() {
		botErr = a.bot.Run(botCtx)
		stopHTTP() // a bot that cannot reach Slack takes the daemon down
	})
	httpErr := a.ingest.Run(httpCtx, a.ln)
	stopBot()
	wg.Wait()
	closeErr := a.store.Close()

	switch {
	case botErr != nil:
		return botErr
	case httpErr != nil:
		return httpErr
	case closeErr != nil:
		return fmt.Errorf("close store: %w", closeErr)
	}
	a.log.Info().Msg("stopped")
	return nil
}

// retentionEvery is how often posts past store.retention_days are pruned.
const retentionEvery = time.Hour

// retain prunes posts older than the retention period, at start and then
// every retentionEvery, until ctx ends.
func (a *App) retain(ctx context.Context) {
	now := a.now
	keep := time.Duration(a.cfg.Store.RetentionDays) * 24 * time.Hour
	t := time.NewTicker(retentionEvery)
	defer t.Stop()
	for {
		n, err := a.store.Prune(now().Add(-keep))
		switch {
		case err != nil && ctx.Err() == nil:
			a.log.Error().Err(err).Msg("prune old posts")
		case n > 0:
			a.log.Info().Int("posts", n).Int("retention_days", a.cfg.Store.RetentionDays).Msg("pruned old posts")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// close releases what New acquired, for a New that failed half-way.
func (a *App) close() {
	if a.ln != nil {
		a.ln.Close()
	}
	if a.store != nil {
		a.store.Close()
	}
}
