package bot

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/socialroute/socialroute/routing"
)

// Command is one parsed /route invocation.
type Command struct {
	Verb string // help, list, test, add, remove, move, set, preview, undo, audit, stats, history

	Topic      string        // help: the verb asked about, or ""
	Text       string        // test: the text to route
	Rule       routing.Rule  // add: normalized, without id; Department lowercased
	RuleID     string        // remove, move: "r3"
	Position   int           // move: 1-based
	Setting    string        // set: "channel" or "threshold"
	Department string        // set channel
	Channel    string        // set channel: a channel id
	Threshold  float64       // set threshold, 0..1
	N          int           // audit, history: how many lines
	Class      routing.Class // history: only this class, or ""
	Window     time.Duration // stats, preview: how far back
	Change     *Command      // preview: the change previewed
}

// Defaults and bounds of the command's numbers.
const (
	defaultLines   = 10
	maxLines       = 50
	defaultStats   = 24 * time.Hour
	defaultPreview = 7 * 24 * time.Hour
	maxWindow      = 365 * 24 * time.Hour
	maxCommandLen  = 4000
)

// verbs in the order help lists them.
var verbs = []string{"help", "list", "test", "add", "remove", "move", "set", "preview", "undo", "audit", "stats", "history"}

// changes are the verbs that change routing; only admins may use them.
var changes = map[string]bool{"add": true, "remove": true, "move": true, "set": true, "undo": true}

// previewable are the changes preview can replay.
var previewable = map[string]bool{"add": true, "remove": true, "move": true, "set": true}

// UsageError says what is wrong with a command; the reply adds the usage
// of Verb.
type UsageError struct {
	Verb    string // the verb whose usage applies; "" for the general help
	Problem string
}

func (e *UsageError) Error() string { return e.Problem }

func usageErr(verb, format string, args ...any) error {
	return &UsageError{Verb: verb, Problem: fmt.Sprintf(format, args...)}
}

// ParseCommand parses the text of a /route command as Slack sends it:
// with &, < and > escaped, channels as <#C…|name> and users as <@U…|name>.
// Empty text asks for help. Errors are *UsageError.
func ParseCommand(text string) (Command, error) {
	if len(text) > maxCommandLen {
		return Command{}, usageErr("", "that command is %d characters long; the most I read is %d", len(text), maxCommandLen)
	}
	if !utf8.ValidString(text) {
		return Command{}, usageErr("", "that command is not valid text")
	}
	text = unescapeSlack(text)
	verb, rest := cutWord(text)
	verb = strings.ToLower(verb)
	if verb == "" {
		return Command{Verb: "help"}, nil
	}
	if verb == "test" {
		t := strings.TrimSpace(rest)
		if t == "" {
			return Command{}, usageErr("test", "give the text to route after `test`")
		}
		return Command{Verb: "test", Text: t}, nil
	}
	toks, err := tokenize(rest)
	if err != nil {
		return Command{}, &UsageError{Verb: verb, Problem: err.Error()}
	}
	return parseVerb(verb, toks)
}

func parseVerb(verb string, toks []token) (Command, error) {
	c := Command{Verb: verb}
	switch verb {
	case "help":
		if len(toks) > 1 {
			return c, usageErr("help", "help takes at most one word, the sub-command to explain")
		}
		if len(toks) == 1 {
			c.Topic = strings.ToLower(toks[0].text)
			if !isVerb(c.Topic) {
				return c, usageErr("", "there is no sub-command %s", code(c.Topic))
			}
		}
		return c, nil
	case "list", "undo":
		if len(toks) > 0 {
			return c, usageErr(verb, "%s takes no arguments", verb)
		}
		return c, nil
	case "add":
		r, err := parseRule(toks)
		c.Rule = r
		return c, err
	case "remove":
		if len(toks) != 1 {
			return c, usageErr(verb, "give the id of one rule, e.g. `remove r3` (`list` shows the ids)")
		}
		id, err := parseRuleID(verb, toks[0].text)
		c.RuleID = id
		return c, err
	case "move":
		if len(toks) != 2 {
			return c, usageErr(verb, "give a rule id and its new position, e.g. `move r3 1`")
		}
		id, err := parseRuleID(verb, toks[0].text)
		if err != nil {
			return c, err
		}
		p, err := strconv.Atoi(toks[1].text)
		if err != nil || p < 1 || p > 10000 {
			return c, usageErr(verb, "the position must be a whole number from 1 (first), not %s", code(toks[1].text))
		}
		c.RuleID, c.Position = id, p
		return c, nil
	case "set":
		return parseSet(toks)
	case "preview":
		c.Window = defaultPreview
		if len(toks) > 0 && !toks[0].quoted {
			if w, ok := parseWindow(toks[0].text); ok {
				c.Window, toks = w, toks[1:]
			}
		}
		if len(toks) == 0 {
			return c, usageErr(verb, "give the change to preview, e.g. `preview add pr keyword recall`")
		}
		sub := strings.ToLower(toks[0].text)
		if !previewable[sub] {
			return c, usageErr(verb, "I can preview add, remove, move and set threshold, not %s", code(toks[0].text))
		}
		ch, err := parseVerb(sub, toks[1:])
		if err != nil {
			return c, err
		}
		if ch.Verb == "set" && ch.Setting != "threshold" {
			return c, usageErr(verb, "a channel change moves no post to another department; there is nothing to preview")
		}
		c.Change = &ch
		return c, nil
	case "audit":
		n, rest, err := parseCount(verb, toks)
		if err != nil {
			return c, err
		}
		if len(rest) > 0 {
			return c, usageErr(verb, "audit takes at most a number of entries, e.g. `audit 20`")
		}
		c.N = n
		return c, nil
	case "stats":
		c.Window = defaultStats
		switch len(toks) {
		case 0:
		case 1:
			w, ok := parseWindow(toks[0].text)
			if !ok {
				return c, usageErr(verb, "%s is not a time span such as 24h, 7d or 30d", code(toks[0].text))
			}
			c.Window = w
		default:
			return c, usageErr(verb, "stats takes at most a time span, e.g. `stats 7d`")
		}
		return c, nil
	case "history":
		c.N = defaultLines
		for i, t := range toks {
			if i > 1 {
				return c, usageErr(verb, "history takes at most a number and a class, e.g. `history 20 support`")
			}
			if cl, err := routing.ParseClass(strings.ToLower(t.text)); err == nil && c.Class == "" {
				c.Class = cl
				continue
			}
			n, _, err := parseCount(verb, toks[i:i+1])
			if err != nil {
				return c, usageErr(verb, "%s is neither a number of posts nor a class (support, reputation or promotional)", code(t.text))
			}
			c.N = n
		}
		return c, nil
	}
	return c, usageErr("", "there is no sub-command %s", code(verb))
}

func isVerb(s string) bool {
	for _, v := range verbs {
		if v == s {
			return true
		}
	}
	return false
}

// parseRule reads `<department|class> <kind> [value…] [priority high|normal] [incident]`.
func parseRule(toks []token) (routing.Rule, error) {
	var r routing.Rule
	if len(toks) < 2 {
		return r, usageErr("add", "give a department, a kind of match and a value, e.g. `add pr keyword recall`")
	}
	r.Department = strings.ToLower(toks[0].text)
	r.Match = routing.MatchKind(strings.ToLower(toks[1].text))
	var value []string
	i := 2
	for ; i < len(toks) && !isOption(toks[i]); i++ {
		value = append(value, toks[i].text)
	}
	r.Value = strings.Join(value, " ")
	for ; i < len(toks); i++ {
		switch strings.ToLower(toks[i].text) {
		case "priority":
			if i+1 == len(toks) {
				return r, usageErr("add", "`priority` wants high or normal after it")
			}
			i++
			r.Priority = strings.ToLower(toks[i].text)
			if r.Priority != routing.PriorityHigh && r.Priority != routing.PriorityNormal {
				return r, usageErr("add", "the priority is high or normal, not %s", code(toks[i].text))
			}
		case "incident":
			r.Incident = true
		default:
			return r, usageErr("add", "%s after the options is not understood (quote a value that has spaces or option words in it)", code(toks[i].text))
		}
	}
	n, err := r.Normalize()
	if err != nil {
		var re *routing.RuleError
		if errors.As(err, &re) && re.Field == "value" {
			return r, usageErr("add", "the value of a %s rule: %s", r.Match, escape(re.Problem))
		}
		return r, usageErr("add", "%s", escape(err.Error()))
	}
	if n.Department == "" || strings.ContainsAny(n.Department, " \t") {
		return n, usageErr("add", "give the department first, e.g. `add pr keyword recall`")
	}
	return n, nil
}

func isOption(t token) bool {
	if t.quoted {
		return false
	}
	switch strings.ToLower(t.text) {
	case "priority", "incident":
		return true
	}
	return false
}

var ruleIDRe = regexp.MustCompile(`^[rR]?([0-9]{1,9})$`)

func parseRuleID(verb, s string) (string, error) {
	m := ruleIDRe.FindStringSubmatch(s)
	if m == nil {
		return "", usageErr(verb, "%s is not a rule id such as r3 (`list` shows the ids)", code(s))
	}
	n, _ := strconv.Atoi(m[1])
	return "r" + strconv.Itoa(n), nil
}

var channelIDRe = regexp.MustCompile(`^[CG][A-Z0-9]{2,}$`)

func parseSet(toks []token) (Command, error) {
	c := Command{Verb: "set"}
	if len(toks) == 0 {
		return c, usageErr("set", "set what? `set channel <department> <#channel>` or `set threshold <0..1>`")
	}
	c.Setting = strings.ToLower(toks[0].text)
	switch c.Setting {
	case "channel":
		if len(toks) != 3 {
			return c, usageErr("set", "give a department and a channel, e.g. `set channel pr #crisis-room`")
		}
		c.Department = strings.ToLower(toks[1].text)
		ch := strings.TrimPrefix(toks[2].text, "#")
		if !channelIDRe.MatchString(ch) {
			return c, usageErr("set", "%s is not a channel I can use: pick it from Slack's list as you type # (so Slack sends its id), or give its id (C…)", code(toks[2].text))
		}
		c.Channel = ch
		return c, nil
	case "threshold":
		if len(toks) != 2 {
			return c, usageErr("set", "give one number from 0 to 1, e.g. `set threshold 0.6`")
		}
		s := toks[1].text
		pct := strings.HasSuffix(s, "%")
		f, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
		if pct {
			f /= 100
		}
		if err != nil || !(f >= 0 && f <= 1) || strings.ContainsAny(s, "xXnN_") {
			return c, usageErr("set", "the threshold is a number from 0 to 1 (or a percentage), not %s", code(s))
		}
		c.Threshold = f
		return c, nil
	}
	return c, usageErr("set", "I can set `channel` or `threshold`, not %s", code(toks[0].text))
}

// parseCount reads an optional leading number of lines, 1..maxLines.
func parseCount(verb string, toks []token) (int, []token, error) {
	if len(toks) == 0 {
		return defaultLines, toks, nil
	}
	n, err := strconv.Atoi(toks[0].text)
	if err != nil || n < 1 {
		return 0, toks, usageErr(verb, "%s is not a number of entries from 1 to %d", code(toks[0].text), maxLines)
	}
	return min(n, maxLines), toks[1:], nil
}

// parseWindow reads a time span in hours or days: 24h, 7d, 30d.
func parseWindow(s string) (time.Duration, bool) {
	s = strings.ToLower(s)
	unit := time.Hour
	switch {
	case strings.HasSuffix(s, "h"):
	case strings.HasSuffix(s, "d"):
		unit = 24 * time.Hour
	default:
		return 0, false
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n < 1 || time.Duration(n) > maxWindow/unit {
		return 0, false
	}
	return time.Duration(n) * unit, true
}

// String is the command as one would type it after the command name, in
// Slack's escaped form (so ParseCommand reads it back), e.g.
// `add pr phrase "class action" priority high`.
func (c Command) String() string {
	var parts []string
	switch c.Verb {
	case "help":
		parts = []string{"help", c.Topic}
	case "test":
		return "test " + escapeSlack(c.Text)
	case "add":
		parts = []string{"add", quoteArg(c.Rule.Department), string(c.Rule.Match)}
		if c.Rule.Value != "" {
			parts = append(parts, quoteArg(c.Rule.Value))
		}
		if c.Rule.Priority != "" {
			parts = append(parts, "priority", c.Rule.Priority)
		}
		if c.Rule.Incident {
			parts = append(parts, "incident")
		}
	case "remove":
		parts = []string{"remove", c.RuleID}
	case "move":
		parts = []string{"move", c.RuleID, strconv.Itoa(c.Position)}
	case "set":
		if c.Setting == "channel" {
			parts = []string{"set", "channel", quoteArg(c.Department), "<#" + c.Channel + ">"}
		} else {
			parts = []string{"set", "threshold", strconv.FormatFloat(c.Threshold, 'f', -1, 64)}
		}
	case "preview":
		parts = []string{"preview", formatWindow(c.Window)}
		if c.Change != nil {
			parts = append(parts, c.Change.String())
		}
	case "audit":
		parts = []string{"audit", strconv.Itoa(c.N)}
	case "stats":
		parts = []string{"stats", formatWindow(c.Window)}
	case "history":
		parts = []string{"history", strconv.Itoa(c.N), string(c.Class)}
	default:
		parts = []string{c.Verb}
	}
	out := parts[:0]
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " ")
}

func formatWindow(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	}
	return strconv.Itoa(int(d/time.Hour)) + "h"
}

// code shows user input in a reply, as inline code, short and escaped.
func code(s string) string {
	s = truncate(s, 60)
	s = strings.ReplaceAll(s, "`", "'")
	return "`" + escape(s) + "`"
}
