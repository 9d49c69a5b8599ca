package app

import (
	"fmt"

	"github.com/socialroute/socialroute/bot"
	"github.com/socialroute/socialroute/internal/config"
	"github.com/socialroute/socialroute/routing"
	"github.com/socialroute/socialroute/store"
)

// Routes builds the routing value from the configuration and the rule set
// stored in the database: the configured departments with the channels
// changed in Slack, the stored threshold if any, the stored rules, and the
// classifier of the configured router. Start-up and every /route change
// build their routing here.
type Routes struct {
	rc   config.Routing
	base *routing.Router
}

// NewRoutes returns the builder for rc; base is the router NewRouter made
// from it, whose classifier every routing value built here shares.
func NewRoutes(rc config.Routing, base *routing.Router) *Routes {
	return &Routes{rc: rc, base: base}
}

// Build makes the routing for rs. Channels and rules that name a
// department no longer in the configuration are left out (Inactive says
// which), so that a change of config never stops the daemon.
func (r *Routes) Build(rs store.RuleSet) (*routing.Router, error) {
	cfg := r.config()
	for i, d := range cfg.Departments {
		if ch, ok := rs.Channels[d.Name]; ok {
			cfg.Departments[i].Channel = ch
		}
	}
	if rs.MinConfidence != nil {
		cfg.MinConfidence = *rs.MinConfidence
	}
	for _, rule := range rs.Rules {
		if r.known(rule.Department) {
			cfg.Rules = append(cfg.Rules, rule)
		}
	}
	rt, err := r.base.With(cfg)
	if err != nil {
		return nil, fmt.Errorf("routing: %w", err)
	}
	return rt, nil
}

// Inactive lists the ids of stored rules that Build leaves out.
func (r *Routes) Inactive(rs store.RuleSet) []string {
	var ids []string
	for _, rule := range rs.Rules {
		if !r.known(rule.Department) {
			ids = append(ids, rule.ID)
		}
	}
	return ids
}

func (r *Routes) known(name string) bool {
	for _, d := range r.rc.Departments {
		if d.Name == name {
			return true
		}
	}
	return routing.Class(name).Valid()
}

func (r *Routes) config() routing.Config {
	deps := make([]routing.Department, 0, len(r.rc.Departments))
	for _, d := range r.rc.Departments {
		dep := routing.Department{Name: d.Name, Channel: d.Channel}
		for _, c := range d.Classes {
			dep.Classes = append(dep.Classes, routing.Class(c))
		}
		deps = append(deps, dep)
	}
	return routing.Config{Departments: deps, TriageChannel: r.rc.TriageChannel, MinConfidence: r.rc.MinConfidence}
}

// SeedRules turns the config's routing.rules into routing rules, in
// canonical form.
func SeedRules(rules []config.Rule) ([]routing.Rule, error) {
	out := make([]routing.Rule, 0, len(rules))
	for i, cr := range rules {
		r, err := routing.Rule{
			Department: cr.Department,
			Match:      routing.MatchKind(cr.Match),
			Value:      cr.Value,
			Priority:   cr.Priority,
			Incident:   cr.Incident,
		}.Normalize()
		if err != nil {
			return nil, fmt.Errorf("routing.rules[%d]: %w", i, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// startRouting seeds the stored rules from the config on the first start
// and builds the routing the daemon starts with, and what /route needs.
func (a *App) startRouting(cfg *config.Config, base *routing.Router) (*routing.Router, bot.CommandOptions, error) {
	seed, err := SeedRules(cfg.Routing.Rules)
	if err != nil {
		return nil, bot.CommandOptions{}, err
	}
	rs, seeded, err := a.store.SeedRules(seed)
	if err != nil {
		return nil, bot.CommandOptions{}, err
	}
	routes := NewRoutes(cfg.Routing, base)
	switch {
	case seeded:
		a.log.Info().Int("rules", len(rs.Rules)).Msg("routing rules seeded from the config")
	case len(cfg.Routing.Rules) > 0:
		a.log.Info().Int("rules", len(rs.Rules)).Msg("using the routing rules stored in the database; routing.rules in the config only seeds the first start")
	}
	if ids := routes.Inactive(rs); len(ids) > 0 {
		a.log.Warn().Strs("rules", ids).Msg("stored rules name departments that are no longer configured; they are inactive")
	}
	router, err := routes.Build(rs)
	if err != nil {
		return nil, bot.CommandOptions{}, err
	}
	return router, bot.CommandOptions{
		Store:       a.store,
		BuildRouter: routes.Build,
		Admins:      cfg.Slack.Admins,
		AdminGroup:  cfg.Slack.AdminGroup,
	}, nil
}
