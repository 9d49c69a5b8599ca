package slackemu

import (
	"encoding/json"
	"regexp"
	"strings"
)

// divider is how PlainText draws a divider block.
const divider = "────────"

// PlainText renders the message for a terminal: header and section text
// (and section fields), context elements, actions as "[Button label]" and
// "[Select: placeholder]", images as "[Image: alt]" and dividers as a line,
// one block per line. Without blocks it returns Text.
func (m Message) PlainText() string {
	if emptyBlocks(m.Blocks) {
		return m.Text
	}
	var blocks []block
	if json.Unmarshal(m.Blocks, &blocks) != nil {
		return m.Text
	}
	var lines []string
	for _, b := range blocks {
		if line := b.plain(); line != "" {
			lines = append(lines, line)
		}
	}
	if len(lines) == 0 {
		return m.Text
	}
	return dateRe.ReplaceAllString(strings.Join(lines, "\n"), "$1")
}

// dateRe matches Slack's date formatting, <!date^unix^format|fallback>,
// which clients show in the reader's time zone; plain text shows the
// fallback.
var dateRe = regexp.MustCompile(`<!date\^[0-9]+\^[^|>]*\|([^>]*)>`)

// block is any Block Kit block, loosely: just what rendering needs.
type block struct {
	Type      string            `json:"type"`
	Text      json.RawMessage   `json:"text"`
	Fields    []json.RawMessage `json:"fields"`
	Elements  []json.RawMessage `json:"elements"`
	Accessory json.RawMessage   `json:"accessory"`
	Label     json.RawMessage   `json:"label"`
	AltText   string            `json:"alt_text"`
	Title     json.RawMessage   `json:"title"`
}

func (b block) plain() string {
	switch b.Type {
	case "header":
		return strings.ToUpper(textOf(b.Text))
	case "section":
		parts := []string{}
		if t := textOf(b.Text); t != "" {
			parts = append(parts, t)
		}
		for _, f := range b.Fields {
			if t := textOf(f); t != "" {
				parts = append(parts, t)
			}
		}
		if len(b.Accessory) > 0 {
			if t := elementPlain(b.Accessory); t != "" {
				parts = append(parts, t)
			}
		}
		return strings.Join(parts, "\n")
	case "markdown":
		return textOf(b.Text)
	case "context":
		var parts []string
		for _, e := range b.Elements {
			if t := elementPlain(e); t != "" {
				parts = append(parts, t)
			}
		}
		return strings.Join(parts, " · ")
	case "actions":
		var parts []string
		for _, e := range b.Elements {
			if t := elementPlain(e); t != "" {
				parts = append(parts, t)
			}
		}
		return strings.Join(parts, " ")
	case "divider":
		return divider
	case "image":
		if t := textOf(b.Title); t != "" {
			return "[Image: " + t + "]"
		}
		return "[Image: " + b.AltText + "]"
	case "input":
		return textOf(b.Label) + ": [Input]"
	case "rich_text":
		var sb strings.Builder
		for _, e := range b.Elements {
			richText(&sb, e)
		}
		return strings.TrimRight(sb.String(), "\n")
	}
	return ""
}

// elementPlain renders a context or interactive element.
func elementPlain(raw json.RawMessage) string {
	var e struct {
		Type        string          `json:"type"`
		Text        json.RawMessage `json:"text"`
		Placeholder json.RawMessage `json:"placeholder"`
		AltText     string          `json:"alt_text"`
	}
	if json.Unmarshal(raw, &e) != nil {
		return ""
	}
	switch e.Type {
	case "plain_text", "mrkdwn":
		return textOf(e.Text)
	case "image":
		return "[Image: " + e.AltText + "]"
	case "button":
		return "[" + textOf(e.Text) + "]"
	case "overflow":
		return "[…]"
	case "static_select", "external_select", "users_select", "conversations_select", "channels_select",
		"multi_static_select", "multi_external_select", "multi_users_select", "multi_conversations_select", "multi_channels_select":
		return "[Select: " + textOf(e.Placeholder) + "]"
	case "datepicker", "timepicker", "datetimepicker":
		return "[Date: " + textOf(e.Placeholder) + "]"
	}
	return ""
}

// textOf returns the text of a text object, or the string itself when raw
// is a JSON string (the "text" of a context element's text object is one).
func textOf(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var t struct {
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &t) == nil {
		return t.Text
	}
	return ""
}

// richText flattens a rich_text element tree into sb.
func richText(sb *strings.Builder, raw json.RawMessage) {
	var e struct {
		Type     string            `json:"type"`
		Text     string            `json:"text"`
		URL      string            `json:"url"`
		UserID   string            `json:"user_id"`
		Channel  string            `json:"channel_id"`
		Name     string            `json:"name"`
		Elements []json.RawMessage `json:"elements"`
	}
	if json.Unmarshal(raw, &e) != nil {
		return
	}
	switch e.Type {
	case "text":
		sb.WriteString(e.Text)
	case "link":
		if e.Text != "" {
			sb.WriteString(e.Text)
		} else {
			sb.WriteString(e.URL)
		}
	case "user":
		sb.WriteString("@" + e.UserID)
	case "channel":
		sb.WriteString("#" + e.Channel)
	case "emoji":
		sb.WriteString(":" + e.Name + ":")
	}
	for _, c := range e.Elements {
		richText(sb, c)
	}
	if e.Type == "rich_text_section" || e.Type == "rich_text_preformatted" || e.Type == "rich_text_quote" {
		sb.WriteString("\n")
	}
}
