package bot

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
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

// quoteArg quotes s when it would not read back as one token: empty, with
// spaces, starting with a quote, or an option word.
func quoteArg(s string) string {
	needs := s == "" || strings.IndexFunc(s, unicode.IsSpace) >= 0 || isOption(token{text: s})
	if r, _ := utf8.DecodeRuneInString(s); quoteFamily(r) != 0 {
		needs = true
	}
	if !needs {
		return escapeSlack(s)
	}
	for _, q := range []rune{'"', '\''} {
		if quotable(s, q) {
			return string(q) + escapeSlack(s) + string(q)
		}
	}
	return escapeSlack(s) // not representable; ParseCommand reads something else
}

// quotable reports whether s can sit between quotes of q's family: no
// quote of that family in it may end a token.
func quotable(s string, q rune) bool {
	rs := []rune(s)
	for i, r := range rs {
		if quoteFamily(r) == q && (i+1 == len(rs) || unicode.IsSpace(rs[i+1])) {
			return false
		}
	}
	return true
}

// token is one word of a command; quoted tokens are never option words.
type token struct {
	text   string
	quoted bool
}

// quoteFamily groups straight and typographic quotes (Slack clients turn
// "x" into “x”): it returns the straight double quote for the double
// family, the apostrophe for the single family, and 0 for other runes.
func quoteFamily(r rune) rune {
	switch r {
	case '"', '“', '”', '„':
		return '"'
	case '\'', '‘', '’':
		return '\''
	}
	return 0
}

// tokenize splits s into words at white space. A quote at the start of a
// word opens a quoted word that runs to the next quote of the same family
// followed by white space or the end; quotes inside a word are kept, so
// "don't" needs no quoting.
func tokenize(s string) ([]token, error) {
	var toks []token
	rs := []rune(s)
	for i := 0; i < len(rs); {
		if unicode.IsSpace(rs[i]) {
			i++
			continue
		}
		if q := quoteFamily(rs[i]); q != 0 {
			end := -1
			for j := i + 1; j < len(rs); j++ {
				if quoteFamily(rs[j]) == q && (j+1 == len(rs) || unicode.IsSpace(rs[j+1])) {
					end = j
					break
				}
			}
			if end < 0 {
				return nil, fmt.Errorf("a quote opened before %s is never closed", code(truncate(string(rs[i+1:]), 30)))
			}
			toks = append(toks, token{text: string(rs[i+1 : end]), quoted: true})
			i = end + 1
			continue
		}
		j := i
		for j < len(rs) && !unicode.IsSpace(rs[j]) {
			j++
		}
		toks = append(toks, token{text: string(rs[i:j])})
		i = j
	}
	return toks, nil
}

// cutWord splits off the first word of s.
func cutWord(s string) (word, rest string) {
	s = strings.TrimLeftFunc(s, unicode.IsSpace)
	i := strings.IndexFunc(s, unicode.IsSpace)
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i:]
}

// slackRefRe finds Slack's escaped references: <#C…|name>, <@U…|name>,
// <!subteam^S…|@name>, <https://…|label>.
var slackRefRe = regexp.MustCompile(`<([^<>]*)>`)

// unescapeSlack turns Slack's escaped command text back into what the user
// typed: channels become their id (#C…), users and groups @name (or @id),
// links their URL, and &amp; &lt; &gt; their characters.
func unescapeSlack(s string) string {
	s = slackRefRe.ReplaceAllStringFunc(s, func(m string) string {
		inner := m[1 : len(m)-1]
		ref, label, hasLabel := strings.Cut(inner, "|")
		switch {
		case strings.HasPrefix(ref, "#"):
			return ref
		case strings.HasPrefix(ref, "@"):
			if hasLabel && label != "" {
				return "@" + strings.TrimPrefix(label, "@")
			}
			return ref
		case strings.HasPrefix(ref, "!"):
			if hasLabel && label != "" {
				return label
			}
			return "@" + strings.TrimPrefix(ref, "!")
		}
		return ref
	})
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

// escapeSlack escapes what Slack escapes in command text.
func escapeSlack(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// code shows user input in a reply, as inline code, short and escaped.
func code(s string) string {
	s = truncate(s, 60)
	s = strings.ReplaceAll(s, "`", "'")
	return "`" + escape(s) + "`"
}
