package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"

	"github.com/socialroute/socialroute/routing"
)

// Limits and allowed values that Validate enforces.
const (
	minBodyBytes = 1 << 10
	maxBodyBytes = 64 << 20
)

var (
	userIDRe    = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)
	groupIDRe   = regexp.MustCompile(`^S[A-Z0-9]{2,}$`)
	channelIDRe = regexp.MustCompile(`^[CG][A-Z0-9]{2,}$`)
	nameRe      = regexp.MustCompile(`^[a-z0-9_-]+$`)
)

// validator collects every problem found in a Config.
type validator struct {
	fromEnv map[string]string // see decoder.fromEnv
	errs    []error
}

func (v *validator) fail(path, format string, args ...any) {
	v.errs = append(v.errs, &fieldError{path: path, msg: fmt.Sprintf(format, args...)})
}

// q names the value s found at path: quoted, or by its variable when it
// came from the environment, which may hold anything, a token included.
func (v *validator) q(path, s string) string {
	if how, ok := v.fromEnv[path]; ok {
		return how
	}
	return quote(s)
}

// Validate checks c and returns every problem found, joined, each line in
// the form "config: <key path>: <why>"; nil if c is usable. It also
// normalises c.Slack.APIURL to end in "/", which is why it takes a pointer.
// Errors never include the value of a Secret.
func (c *Config) Validate() error { return c.validate(nil) }

func (c *Config) validate(fromEnv map[string]string) error {
	v := &validator{fromEnv: fromEnv}
	v.slack(&c.Slack)
	v.http(&c.HTTP)
	v.store(&c.Store)
	v.sources(c.Sources)
	v.routing(&c.Routing)
	v.sla(&c.SLA)
	v.incidents(&c.Incidents)
	v.log(&c.Log)
	if c.Slack.APIURL != "" && !strings.HasSuffix(c.Slack.APIURL, "/") {
		c.Slack.APIURL += "/"
	}
	return errors.Join(v.errs...)
}

func (v *validator) slack(s *Slack) {
	v.token("slack.app_token", s.AppToken, "xapp-", "an app-level token for Socket Mode", "xoxb-", "the bot token")
	v.token("slack.bot_token", s.BotToken, "xoxb-", "the bot token", "xapp-", "an app-level token")

	v.apiURL("slack.api_url", s.APIURL)

	for i, id := range s.Admins {
		p := fmt.Sprintf("slack.admins[%d]", i)
		if !userIDRe.MatchString(id) {
			v.fail(p, "%s does not look like a Slack user id (U… or W…, e.g. U0123ADMIN)", v.q(p, id))
		}
	}

	if s.AdminGroup != "" && !groupIDRe.MatchString(s.AdminGroup) {
		v.fail("slack.admin_group", "%s does not look like a Slack user group id (S…, e.g. S0123ADMINS)", v.q("slack.admin_group", s.AdminGroup))
	}

	switch {
	case s.Command == "":
		v.fail("slack.command", "empty")
	case !strings.HasPrefix(s.Command, "/"):
		v.fail("slack.command", "%s does not start with \"/\"", v.q("slack.command", s.Command))
	case len(s.Command) == 1 || strings.ContainsAny(s.Command, " \t\r\n"):
		v.fail("slack.command", "%s is not a command name such as /route", v.q("slack.command", s.Command))
	}
	if s.ChannelRate < 0 {
		v.fail("slack.channel_rate", "must not be negative (0 turns pacing off)")
	}
	if s.ChannelBurst < 1 {
		v.fail("slack.channel_burst", "must be at least 1")
	}
	if s.DigestThreshold < 0 {
		v.fail("slack.digest_threshold", "must not be negative (0 turns digests off)")
	}
	if s.DigestSize < 2 || s.DigestSize > 20 {
		v.fail("slack.digest_size", "%d not in 2..20 (Slack allows 50 blocks a message)", s.DigestSize)
	}
}

func (v *validator) apiURL(path, raw string) {
	if raw == "" {
		v.fail(path, "empty")
		return
	}
	u, err := url.Parse(raw)
	if err != nil {
		v.fail(path, "not a valid URL")
		return
	}
	switch {
	case u.User != nil:
		v.fail(path, "must not hold a user name or password")
	case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		v.fail(path, "%s is not an absolute http or https URL", v.q(path, raw))
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		v.fail(path, "must not have a query or fragment: method names are appended to it")
	}
}

// token checks a Slack token without ever quoting it.
func (v *validator) token(path string, t Secret, prefix, what, otherPrefix, otherWhat string) {
	s := t.Value()
	switch {
	case s == "":
		v.fail(path, "empty")
	case strings.HasPrefix(s, otherPrefix):
		v.fail(path, "starts with %q, which is %s; want %s, starting with %q", otherPrefix, otherWhat, what, prefix)
	case strings.HasPrefix(s, "$"):
		v.fail(path, "starts with \"$\": to use an environment variable write ${NAME}")
	case !strings.HasPrefix(s, prefix):
		v.fail(path, "does not start with %q (want %s)", prefix, what)
	case strings.ContainsAny(s, " \t\r\n"):
		v.fail(path, "contains white space (a stray newline from the environment?)")
	}
}

func (v *validator) http(h *HTTP) {
	if h.Listen == "" {
		v.fail("http.listen", "empty")
	} else if _, port, err := net.SplitHostPort(h.Listen); err != nil {
		v.fail("http.listen", "%s is not host:port (e.g. \":8080\" or \"127.0.0.1:8080\")", v.q("http.listen", h.Listen))
	} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		v.fail("http.listen", "%s does not end in a port number 0..65535", v.q("http.listen", h.Listen))
	}
	if h.MaxBodyBytes < minBodyBytes || h.MaxBodyBytes > maxBodyBytes {
		v.fail("http.max_body_bytes", "%d is outside %d (1 KiB) .. %d (64 MiB)", h.MaxBodyBytes, minBodyBytes, maxBodyBytes)
	} else if h.MaxBodyMemory < h.MaxBodyBytes {
		v.fail("http.max_body_memory", "%d is less than http.max_body_bytes (%d): a body of the largest size allowed could never be read", h.MaxBodyMemory, h.MaxBodyBytes)
	}
	if h.ShutdownTimeout <= 0 {
		v.fail("http.shutdown_timeout", "must be positive, got %s", h.ShutdownTimeout)
	}
	if t := h.AdminToken.Value(); t != "" && len(t) < 16 {
		v.fail("http.admin_token", "shorter than 16 characters; use a long random value")
	}
}

func (v *validator) store(s *Store) {
	switch s.Backend {
	case "bbolt", "etcd":
	default:
		v.fail("store.backend", "%s is not a store backend (want bbolt or etcd)", v.q("store.backend", s.Backend))
	}
	if s.Backend == "bbolt" && s.Path == "" {
		v.fail("store.path", "empty")
	}
	if s.RetentionDays < 1 {
		v.fail("store.retention_days", "must be at least 1, got %d", s.RetentionDays)
	}
	// Etcd settings are left alone unless they are used: an operator
	// switching back to bbolt need not delete them.
	if s.Backend == "etcd" {
		v.etcd(&s.Etcd)
	}
}

// supportedFormats are the source formats this version can ingest (the
// formats of package ingest).
var supportedFormats = []string{"generic", "x", "meta"}

func (v *validator) sources(sources []Source) {
	if len(sources) == 0 {
		v.fail("sources", "no sources configured (want at least one)")
		return
	}
	supported := strings.Join(supportedFormats, ", ")
	seen := map[string]int{}
	for i, s := range sources {
		p := fmt.Sprintf("sources[%d]", i)
		switch first, dup := seen[s.Name]; {
		case s.Name == "":
			v.fail(p+".name", "empty")
		case !nameRe.MatchString(s.Name):
			v.fail(p+".name", "%s is not URL-path safe (use only a-z, 0-9, _ and -)", v.q(p+".name", s.Name))
		case dup:
			v.fail(p+".name", "%s is already used by sources[%d]", v.q(p+".name", s.Name), first)
		default:
			seen[s.Name] = i
		}
		switch {
		case s.Format == "":
			v.fail(p+".format", "empty (supported: %s)", supported)
		case !slices.Contains(supportedFormats, s.Format):
			v.fail(p+".format", "unknown format %s (supported: %s)", v.q(p+".format", s.Format), supported)
		}
		if s.Secret.Value() == "" {
			v.fail(p+".secret", "empty")
		}
		v.verifyToken(p+".verify_token", s)
	}
}

// verifyToken checks the token Meta sends back in its verification
// request: format meta needs one, the others have no use for it (a token
// there is a sign the source's format is not what was meant).
func (v *validator) verifyToken(path string, s Source) {
	tok := s.VerifyToken.Value()
	switch {
	case s.Format == "meta" && tok == "":
		v.fail(path, "empty (format meta needs the Verify Token you enter in the Meta App Dashboard)")
	case s.Format == "meta" && strings.TrimSpace(tok) != tok:
		v.fail(path, "starts or ends with white space (a stray newline from the environment?)")
	case s.Format != "meta" && tok != "":
		v.fail(path, "only format meta uses a verify token (this source is %s)", v.q(strings.TrimSuffix(path, "verify_token")+"format", s.Format))
	}
}

func (v *validator) routing(r *Routing) {
	if !(r.MinConfidence >= 0 && r.MinConfidence <= 1) {
		v.fail("routing.min_confidence", "must be between 0 and 1, got %v", r.MinConfidence)
	}
	v.channel("routing.triage_channel", r.TriageChannel)

	// owners lists, per class, the indexes of the departments that claim it.
	owners := map[routing.Class][]int{}
	names := map[string]int{} // department name → index of its first use
	if len(r.Departments) == 0 {
		v.fail("routing.departments", "no departments configured (want at least one)")
	}
	for i, d := range r.Departments {
		p := fmt.Sprintf("routing.departments[%d]", i)
		switch first, dup := names[d.Name]; {
		case d.Name == "":
			v.fail(p+".name", "empty")
		case dup:
			v.fail(p+".name", "%s is already used by routing.departments[%d]", v.q(p+".name", d.Name), first)
		case !nameRe.MatchString(d.Name):
			names[d.Name] = i
			v.fail(p+".name", "%s is not a one-word name (use only a-z, 0-9, _ and -)", v.q(p+".name", d.Name))
		default:
			names[d.Name] = i
		}
		v.channel(p+".channel", d.Channel)
		listed := map[string]bool{}
		for j, cl := range d.Classes {
			pc := fmt.Sprintf("%s.classes[%d]", p, j)
			class := routing.Class(cl)
			switch {
			case !class.Valid():
				v.fail(pc, "unknown class %s (want %s)", v.q(pc, cl), classList())
			case listed[cl]:
				v.fail(pc, "class %q is listed twice", cl)
			default:
				listed[cl] = true
				owners[class] = append(owners[class], i)
			}
		}
	}
	if len(r.Departments) > 0 {
		for _, class := range routing.Classes {
			o := owners[class]
			q := make([]string, len(o))
			for k, i := range o {
				q[k] = v.q(fmt.Sprintf("routing.departments[%d].name", i), r.Departments[i].Name)
			}
			switch len(o) {
			case 0:
				v.fail("routing.departments", "class %q is not owned by any department", class)
			case 1:
			case 2:
				v.fail("routing.departments", "class %q is owned by both %s and %s", class, q[0], q[1])
			default:
				v.fail("routing.departments", "class %q is owned by %d departments: %s", class, len(o), strings.Join(q, ", "))
			}
		}
	}

	for i, rule := range r.Rules {
		v.rule(fmt.Sprintf("routing.rules[%d]", i), rule, names)
	}
}

var ruleKinds = []string{"keyword", "phrase", "regex", "author", "platform", "followers", "verified"}

func (v *validator) rule(p string, r Rule, departments map[string]int) {
	switch _, ok := departments[r.Department]; {
	case r.Department == "":
		v.fail(p+".department", "empty")
	case !ok && !routing.Class(r.Department).Valid():
		v.fail(p+".department", "%s is not a configured department or a class", v.q(p+".department", r.Department))
	}
	kinds := "keyword, phrase, regex, author, platform, followers or verified"
	switch {
	case r.Match == "":
		v.fail(p+".match", "empty (want %s)", kinds)
	case !slices.Contains(ruleKinds, r.Match):
		v.fail(p+".match", "%s is not a kind of rule (want %s)", v.q(p+".match", r.Match), kinds)
	}
	switch {
	case r.Value == "" && r.Match != "verified":
		v.fail(p+".value", "empty")
	case r.Match == "regex":
		if _, err := regexp.Compile(r.Value); err != nil {
			v.fail(p+".value", "not a valid regular expression: %s", v.regexpProblem(p+".value", err))
		}
	case r.Match == "platform" && !routing.ValidPlatform(r.Value):
		v.fail(p+".value", "%s is not a platform (want one of %s)", v.q(p+".value", r.Value), strings.Join(routing.Platforms, ", "))
	case slices.Contains(ruleKinds, r.Match):
		// The rest is routing's to say; its problems never quote the value.
		if _, err := (routing.Rule{Match: routing.MatchKind(r.Match), Value: r.Value}).Normalize(); err != nil {
			var re *routing.RuleError
			if errors.As(err, &re) {
				v.fail(p+".value", "%s", re.Problem)
			}
		}
	}
	switch r.Priority {
	case "", "high", "normal":
	default:
		v.fail(p+".priority", "%s is not a priority (want high or normal, or leave it out)", v.q(p+".priority", r.Priority))
	}
}

// regexpProblem says what is wrong with a pattern, quoting the offending
// part only when the pattern did not come from the environment.
func (v *validator) regexpProblem(path string, err error) string {
	var se *syntax.Error
	if !errors.As(err, &se) {
		return "does not compile"
	}
	if _, env := v.fromEnv[path]; env || se.Expr == "" {
		return se.Code.String()
	}
	return se.Code.String() + ": " + quote(se.Expr)
}

func (v *validator) channel(path, id string) {
	switch {
	case id == "":
		v.fail(path, "empty")
	case strings.HasPrefix(id, "#"):
		v.fail(path, "%s is a channel name; want the channel id (C… or G…, shown in the channel's details)", v.q(path, id))
	case !channelIDRe.MatchString(id):
		v.fail(path, "%s does not look like a Slack channel id (C… or G…)", v.q(path, id))
	}
}

func (v *validator) log(l *Log) {
	switch l.Level {
	case "debug", "info", "warn", "error":
	default:
		v.fail("log.level", "%s is not a log level (want debug, info, warn or error)", v.q("log.level", l.Level))
	}
	switch l.Format {
	case "json", "console":
	default:
		v.fail("log.format", "%s is not a log format (want json or console)", v.q("log.format", l.Format))
	}
}

func classList() string {
	s := make([]string, len(routing.Classes))
	for i, c := range routing.Classes {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}
