package bot

import (
	"fmt"
	"strings"

	"github.com/socialroute/socialroute/routing"
)

// usage says how each sub-command is written, with examples; %[1]s is the
// command name.
var usage = map[string][]string{
	"help":    {"`%[1]s help [sub-command]` explains the command, or one sub-command."},
	"list":    {"`%[1]s list` shows the rules in the order they apply, and where each department's posts go."},
	"test":    {"`%[1]s test <text>` shows where a post with that text would go, and why. Nothing is stored.", "Example: `%[1]s test my order never arrived`"},
	"add":     addUsage(),
	"remove":  {"`%[1]s remove <rule id>` deletes a rule (admins only).", "Example: `%[1]s remove r3` · `%[1]s list` shows the ids."},
	"move":    {"`%[1]s move <rule id> <position>` changes the order in which rules apply: 1 is first (admins only).", "Example: `%[1]s move r3 1`"},
	"set":     {"`%[1]s set channel <department> <#channel>` sends a department's posts to another channel; `%[1]s set threshold <0..1>` sets how sure the model must be before a post skips triage (admins only).", "Examples: `%[1]s set channel pr #crisis-room` · `%[1]s set threshold 0.6`"},
	"preview": {"`%[1]s preview [7d] <change>` replays the posts of the last days (7 unless you say, e.g. 30d) through the routing with the change, and counts the posts that would go to another department. Nothing changes until an admin clicks Apply.", "Changes: add, remove, move, set threshold. Example: `%[1]s preview add pr keyword recall`"},
	"undo":    {"`%[1]s undo` reverts the last change to routing, whoever made it (admins only). Run it again to revert the one before."},
	"audit":   {"`%[1]s audit [n]` shows the last n (10) entries of the audit log: who changed what and when, and refusals."},
	"stats":   {"`%[1]s stats [24h|7d|30d]` counts the posts received, claimed and resolved per class and department, with the median times to claim and to resolve (24h unless you say)."},
	"history": {"`%[1]s history [n] [class]` lists the last n (10) posts and where they went, optionally only one class (support, reputation or promotional)."},
}

func addUsage() []string {
	lines := []string{
		"`%[1]s add <department|class> <kind> <value> [priority high|normal] [incident]` sends every post that matches to the department, whatever the model says (admins only). Rules apply in order; a new rule comes last.",
		"Kinds:",
	}
	for _, k := range routing.MatchKinds {
		lines = append(lines, fmt.Sprintf("• `%s`: %s", k, routing.ValueHelp(k)))
	}
	return append(lines,
		"Quote a value that has spaces or the words priority or incident in it.",
		"Examples: `%[1]s add pr keyword recall` · `%[1]s add pr phrase \"class action\" priority high` · `%[1]s add support author @bigcustomer` · `%[1]s add reputation followers 100k incident`",
	)
}

// help answers `help` and `help <topic>`.
func (h *commands) help(topic string) reply {
	if topic != "" && topic != "help" {
		return reply{title: "How to use " + code(h.name+" "+topic), lines: h.usageLines(topic)}
	}
	r := reply{title: fmt.Sprintf("%s shows and changes how socialroute routes posts", h.name)}
	for _, v := range verbs {
		if v == "help" {
			continue
		}
		line := h.usageLines(v)[0]
		if changes[v] {
			line = strings.Replace(line, " (admins only)", "", 1) + " _(admins)_"
		}
		r.lines = append(r.lines, "• "+line)
	}
	r.lines = append(r.lines, fmt.Sprintf("`%s help <sub-command>` explains one in detail. Answers are shown only to you; changes are audited.", h.name))
	return r
}

func (h *commands) usageLines(verb string) []string {
	var out []string
	for _, l := range usage[verb] {
		if strings.Contains(l, "%[1]s") {
			l = fmt.Sprintf(l, h.name)
		}
		out = append(out, l)
	}
	return out
}

// usage answers a command that could not be parsed: what was wrong, then
// how the sub-command is written.
func (h *commands) usage(e *UsageError) reply {
	r := reply{title: ":warning: " + e.Problem}
	if e.Verb != "" && usage[e.Verb] != nil {
		r.lines = h.usageLines(e.Verb)
		return r
	}
	r.lines = []string{fmt.Sprintf("Sub-commands: %s. `%s help` explains them.", strings.Join(verbs, ", "), h.name)}
	return r
}
