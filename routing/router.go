package routing

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Classifier decides what a post is about.
type Classifier interface {
	Classify(Post) Result
}

// Department is a team that owns some classes and reads one Slack channel.
// A department may own no class: rules can still send posts to it.
type Department struct {
	Name    string
	Channel string
	Classes []Class
}

// Config says which department owns which class, and where posts go when
// the classifier is unsure.
type Config struct {
	Departments   []Department
	TriageChannel string
	// MinConfidence is the least confidence, 0..1, for a post to go to its
	// class's department; below it the post goes to TriageChannel.
	MinConfidence float64
	// Rules are applied, in order, before the classifier's answer counts:
	// the first rule that matches a post decides where it goes.
	Rules []Rule
}

// ErrInvalidConfig is wrapped by every error NewRouter returns about its
// Config.
var ErrInvalidConfig = errors.New("invalid routing config")

// ConfigError is one problem with a Config. Field is spelled as in the
// config file under "routing." ("departments[1].channel"), so the config
// loader can say "config: routing.departments[1].channel: empty".
type ConfigError struct {
	Field   string
	Problem string
}

func (e *ConfigError) Error() string { return e.Field + ": " + e.Problem }

// Unwrap makes errors.Is(err, ErrInvalidConfig) true.
func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }

// Router routes posts to departments. It is immutable and safe for
// concurrent use: a change of rules builds a new Router.
type Router struct {
	classifier Classifier
	depts      []Department
	owner      [len(Classes)]int // index into depts, by class index
	triage     string
	min        float64
	rules      []compiledRule
}

// NewRouter checks cfg and builds a Router that classifies with c. Each
// class must be owned by exactly one department, names and channels must
// be set, and MinConfidence must lie in [0, 1]. Errors name the offending
// field: the error joins one *ConfigError per problem, all at once, and
// matches ErrInvalidConfig.
func NewRouter(cfg Config, c Classifier) (*Router, error) {
	if c == nil {
		return nil, errors.New("new router: nil classifier")
	}
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &ConfigError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	r := &Router{
		classifier: c,
		depts:      cloneDepartments(cfg.Departments),
		triage:     cfg.TriageChannel,
		min:        cfg.MinConfidence,
	}
	for i := range r.owner {
		r.owner[i] = -1
	}
	names := make(map[string]int)
	for i, d := range r.depts {
		switch prev, dup := names[d.Name]; {
		case strings.TrimSpace(d.Name) == "":
			bad(fmt.Sprintf("departments[%d].name", i), "empty")
		case dup:
			bad(fmt.Sprintf("departments[%d].name", i), "%q already used by departments[%d]", d.Name, prev)
		default:
			names[d.Name] = i
		}
		if strings.TrimSpace(d.Channel) == "" {
			bad(fmt.Sprintf("departments[%d].channel", i), "empty")
		}
		for j, cl := range d.Classes {
			if !cl.Valid() {
				bad(fmt.Sprintf("departments[%d].classes[%d]", i, j), "unknown class %q (want support, reputation or promotional)", cl)
				continue
			}
			if o := r.owner[cl.index()]; o >= 0 {
				bad(fmt.Sprintf("departments[%d].classes[%d]", i, j), "class %s already owned by departments[%d] (%q)", cl, o, r.depts[o].Name)
				continue
			}
			r.owner[cl.index()] = i
		}
	}
	for i, cl := range Classes {
		if r.owner[i] < 0 {
			bad("departments", "no department owns class %s", cl)
		}
	}
	if strings.TrimSpace(cfg.TriageChannel) == "" {
		bad("triage_channel", "empty")
	}
	if m := cfg.MinConfidence; math.IsNaN(m) || m < 0 || m > 1 {
		bad("min_confidence", "%v not in [0, 1]", m)
	}
	for i, rule := range cfg.Rules {
		field := fmt.Sprintf("rules[%d]", i)
		cr, err := r.compileRule(rule, names)
		if err != nil {
			bad(field+"."+err.Field, "%s", err.Problem)
			continue
		}
		r.rules = append(r.rules, cr)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return r, nil
}

// Route classifies p and says where it goes. A post whose confidence is
// below MinConfidence (or whose class no department owns, which only a
// faulty Classifier could produce) goes to the triage channel, marked
// Unsure, with no department. Runner is always the second likeliest class,
// so triage and the Slack message can offer it. The first of the Config's
// Rules that matches p overrides all this (see ruleDecision).
func (r *Router) Route(p Post) Decision {
	res := r.classifier.Classify(p)
	if cr, ok := r.matchRule(&p); ok {
		return r.ruleDecision(cr, res)
	}
	d := Decision{
		Class:      res.Class,
		Confidence: res.Confidence,
		Runner:     runnerUp(res, res.Class),
		Reasons:    res.Reasons,
	}
	i := res.Class.index()
	if i < 0 || res.Confidence < r.min || math.IsNaN(res.Confidence) {
		d.Channel = r.triage
		d.Unsure = true
		return d
	}
	dept := r.depts[r.owner[i]]
	d.Department = dept.Name
	d.Channel = dept.Channel
	return d
}

// runnerUp returns the likeliest class other than class; ties go to the
// class listed first in Classes.
func runnerUp(res Result, class Class) Class {
	best := -1
	for i, c := range Classes {
		if c == class {
			continue
		}
		if best < 0 || res.Scores[i] > res.Scores[best] {
			best = i
		}
	}
	return Classes[best]
}

// Departments returns a copy of the configured departments, in config order.
func (r *Router) Departments() []Department {
	return cloneDepartments(r.depts)
}

// DepartmentFor returns (a copy of) the department that owns class c.
func (r *Router) DepartmentFor(c Class) (Department, bool) {
	i := c.index()
	if i < 0 {
		return Department{}, false
	}
	d := r.depts[r.owner[i]]
	d.Classes = slices.Clone(d.Classes)
	return d, true
}

func cloneDepartments(ds []Department) []Department {
	out := make([]Department, len(ds))
	for i, d := range ds {
		d.Classes = slices.Clone(d.Classes)
		out[i] = d
	}
	return out
}
